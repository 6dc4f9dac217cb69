"""What the measurement modules share: the targets table under each step's figures, the job
worker's process (bench/runs_worker.py) and the one line of JSON a measuring subprocess prints.

One place, so that the runs, the runs' concurrency and the webhooks steps print their targets
alike and start and read their workers alike.
"""

import json
import resource
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from bench.report import Check

#: The deployed worker (`manage.py db_worker --batch`) in a process of its own.
WORKER_MODULE = "bench.runs_worker"


def targets_lines(checks: Iterable[Check]) -> list[str]:
    """A blank line, then the targets as columns: target, measured, met."""
    rows = [["target", "measured", "met"]]
    for check in checks:
        met = "n/a" if check.met is None else ("yes" if check.met else "NO")
        rows.append([check.target, check.measured, met])
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "",
        *("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows),
    ]


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (the kernel's `VmHWM`)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:  # not Linux: the best figure there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kilobytes) / 1024


def run_json(module: str, *arguments: str, failure: str) -> dict:
    """Runs `python -m module arguments` to its end; the JSON of its last line of output.
    A non-zero exit raises RuntimeError(f"{failure}: <the end of its stderr>")."""
    from bench.server import PROJECT_ROOT

    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module, *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{failure}: {completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def spawn_worker(log: IO[str]) -> subprocess.Popen:
    """A `db_worker --batch` in a process of its own (bench/runs_worker.py), its stderr to
    `log`: it exits when the queue is empty."""
    from bench.server import PROJECT_ROOT

    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", WORKER_MODULE],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
