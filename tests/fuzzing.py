"""Hypothesis profiles: reproducible in CI, exploring under `make fuzz`.

- `ci` (when CI is set, and `make test`'s default): derandomized, so a run draws the same
  examples every time, on every machine; a red CI is red again on a fresh clone, and a green
  one stays green. No example database: nothing a previous run left changes the next.
- `dev` (plain `pytest` without CI): hypothesis's defaults, new random examples each run.
- `fuzz` (`make fuzz`): random seeds and `HYPOTHESIS_FUZZ_SCALE` (default 10) times each
  test's example count. A failure it finds is fixed and pinned with `@example`, so the `ci`
  profile runs it from then on.

Choose one with HYPOTHESIS_PROFILE. Property tests give their example count as
`examples(n)`, so that the fuzz profile can multiply it (an explicit max_examples would
otherwise win over any profile).
"""

import os

from hypothesis import settings

#: The example count of a profile's "100": `examples(n)` scales n by it.
_BASE = 100


def _fuzz_scale() -> int:
    return max(1, int(os.environ.get("HYPOTHESIS_FUZZ_SCALE", "10")))


settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile(
    "fuzz",
    derandomize=False,
    max_examples=_BASE * _fuzz_scale(),
    deadline=None,
    print_blob=True,
)


def profile_name() -> str:
    """HYPOTHESIS_PROFILE, else `ci` when CI is set, else `dev`."""
    return os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")


def load_profile() -> None:
    settings.load_profile(profile_name())


def examples(count: int) -> int:
    """`count` examples, times the fuzz scale under the fuzz profile."""
    return max(1, count * settings.default.max_examples // _BASE)
