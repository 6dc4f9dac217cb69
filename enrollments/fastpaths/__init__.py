"""The fast-path home: every optimisation that relies on a dependency's private API, in one place.

The rest of the project uses its dependencies' public APIs only (`tests/test_no_private_apis.py`
pins that: no private name of Django, graphql-core, graphene, graphene-django or psycopg
outside this package). What buys real time by leaning on another project's internals lives
here, one module per fast path, each registered below with:

- a **name**, which `FASTPATHS_DISABLED` (a comma-separated environment variable, read by
  config/settings.py; `all` switches every one off) takes to turn it off without a deploy:
  a restart with the variable set is enough;
- a **signature check**: a function run once, before the fast path can be taken, that
  compares the private names the fast path relies on with what it expects (the signature, the
  attributes, or a behaviour it reproduces). A mismatch, most likely a dependency upgraded
  past what the fast path knows, logs a WARNING naming the fast path and what differs, and
  switches that fast path off: the project then runs on the public path, slower but correct,
  and no request fails for it. The checks of MODULES run when the apps are ready
  (FastPathsConfig.ready); those of DEFERRED when their module is first imported, which its
  only user does before taking it (see DEFERRED: the web server imports it at start-up).

Code that takes a fast path asks its `FastPath.enabled` (a plain attribute: cheap enough to
ask per row) and otherwise does what the public API does. Changing the setting at run time
(`override_settings`, pytest-django's `settings` fixture) applies at once (`setting_changed`).

The fast paths (docs/reliability.md "Fast paths" has their figures):

- `model_loading` (model_loading.py): rows loaded without `Model.__init__` (Django's
  `ModelState`, the state `__init__` leaves).
- `graphql_short_path` (graphql_short_path.py): GraphQL fields read and completed without
  graphql-core's per-field machinery (its `ExecutionContext.execute_fields` overridden).

To add one: a module here that calls `register(...)` at import, and its name in MODULES (or in
DEFERRED, if importing it costs every process what only its user needs).
(`pg_timestamps`, psycopg's C timestamptz loader, left: psycopg's public `adapters.get_loader`
answers the same class, so it is ordinary code now, lms/pg_timestamps.py.)
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module

logger = logging.getLogger(__name__)

#: The modules of this package that register a fast path, imported when the apps are ready so
#: that every fast path is known (and checked) whether or not its user was imported yet.
MODULES = ("model_loading",)

#: The fast paths (each named as its module) whose module imports what most processes never
#: load: `graphql_short_path` imports graphene and graphql-core and builds a toy schema for its
#: check, a tenth of a second or more of every `manage.py` command's start-up for a path only the
#: GraphQL endpoint takes. Known by name when the apps are ready (FASTPATHS_DISABLED and `all`
#: name them, `enabled` and `switched` import them first); imported, checked and warned about
#: by their user's import (enrollments/graphql/execution.py), which the web server does at
#: start-up (config/wsgi.py, config/asgi.py), and by `manage.py check --deploy`.
DEFERRED = ("graphql_short_path",)

#: The value of FASTPATHS_DISABLED that switches every fast path off.
ALL = "all"


@dataclass(eq=False)
class FastPath:
    """One fast path: its name (the setting's word), what it does, its signature check, and
    whether it is taken now (`enabled`: not disabled by the setting, and its check passed)."""

    name: str
    summary: str
    #: Returns None when the private API is the expected one, else what differs (logged).
    #: None for a DEFERRED fast path whose module is not imported yet.
    check: Callable[[], str | None] | None
    #: Called with the new state when `enabled` changes (a fast path set up per connection
    #: applies it to the connections already open).
    on_change: Callable[[bool], None] | None = None
    enabled: bool = True
    #: What the last check found wrong, None when it passed (or has not run yet).
    mismatch: str | None = field(default=None)
    checked: bool = False

    def run_check(self) -> None:
        try:
            self.mismatch = self.check()
        except Exception as error:  # noqa: BLE001 - any failure of the check is a mismatch
            self.mismatch = f"the check raised {type(error).__name__}: {error}"
        self.checked = True

    def set_enabled(self, state: bool) -> None:
        changed = state != self.enabled
        self.enabled = state
        if changed and self.on_change is not None:
            self.on_change(state)


REGISTRY: dict[str, FastPath] = {}

#: Whether setup() ran (the apps are ready): a fast path registered later is checked at once.
_set_up = False


def register(
    name: str,
    *,
    summary: str,
    check: Callable[[], str | None],
    on_change: Callable[[bool], None] | None = None,
) -> FastPath:
    """Registers a fast path (once per name: importing its module again returns the same one)
    and returns it; it is enabled until the setting or its check says otherwise. A DEFERRED
    one, known by name since the apps are ready, is checked here, at its module's import."""
    fast_path = REGISTRY.get(name)
    if fast_path is not None and fast_path.check is not None:
        return fast_path
    if fast_path is None:
        fast_path = FastPath(name=name, summary=summary, check=check, on_change=on_change)
        REGISTRY[name] = fast_path
    else:
        fast_path.summary, fast_path.check, fast_path.on_change = summary, check, on_change
    if _set_up:
        _run_check(fast_path)
        apply_settings()
    return fast_path


def _run_check(fast_path: FastPath) -> None:
    fast_path.run_check()
    if fast_path.mismatch is not None:
        logger.warning(
            "fast path %r switched off: %s (the public path is used instead)",
            fast_path.name,
            fast_path.mismatch,
        )


def load(names: Iterable[str] | None = None) -> None:
    """Imports the DEFERRED fast paths among `names` (all of them by default), which checks
    each one not imported yet."""
    for name in DEFERRED if names is None else names:
        if name in DEFERRED:
            import_module(f"{__name__}.{name}")


def disabled_names() -> frozenset[str]:
    """The names FASTPATHS_DISABLED turns off (every registered one for `all`)."""
    from django.conf import settings

    names = {name.strip() for name in getattr(settings, "FASTPATHS_DISABLED", ()) if name.strip()}
    if ALL in names:
        return frozenset(REGISTRY)
    return frozenset(names)


def apply_settings() -> None:
    """Sets every fast path's `enabled` from FASTPATHS_DISABLED and its check's result."""
    from django.conf import settings

    asked = {name.strip() for name in getattr(settings, "FASTPATHS_DISABLED", ()) if name.strip()}
    unknown = sorted(asked - set(REGISTRY) - {ALL})
    if unknown:
        logger.warning(
            "FASTPATHS_DISABLED names unknown fast paths: %s (known: %s)",
            ", ".join(unknown),
            ", ".join(sorted(REGISTRY)),
        )
    off = disabled_names()
    for fast_path in REGISTRY.values():
        fast_path.set_enabled(fast_path.name not in off and fast_path.mismatch is None)


def setup() -> None:
    """Imports the fast paths of MODULES and names the DEFERRED ones, runs each signature
    check known and not run yet, and applies the setting: a mismatch logs a WARNING and leaves
    that fast path off."""
    global _set_up
    for module in MODULES:
        import_module(f"{__name__}.{module}")
    for name in DEFERRED:
        REGISTRY.setdefault(name, FastPath(name=name, summary="", check=None))
    for fast_path in REGISTRY.values():
        if not fast_path.checked and fast_path.check is not None:
            _run_check(fast_path)
    _set_up = True
    apply_settings()


def enabled(name: str) -> bool:
    """Whether the fast path `name` is taken now (a DEFERRED one imported and checked first)."""
    load([name])
    return REGISTRY[name].enabled


@contextmanager
def switched(names: Iterable[str], *, on: bool) -> Iterator[None]:
    """Within the block, the named fast paths on (`on=True`) or off, then as they were: the
    tests that run a fast path's code both ways. Switching on a fast path whose check failed
    is refused (ValueError): it stays on the public path."""
    names = list(names)
    load(names)
    before = {name: REGISTRY[name].enabled for name in names}
    if on:
        failed = [name for name in names if REGISTRY[name].mismatch is not None]
        if failed:
            raise ValueError(f"these fast paths failed their check: {', '.join(failed)}")
    for name in names:
        REGISTRY[name].set_enabled(on)
    try:
        yield
    finally:
        for name, state in before.items():
            REGISTRY[name].set_enabled(state)
