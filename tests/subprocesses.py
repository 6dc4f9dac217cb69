"""Running manage.py in a process of its own, as an operator would: without the suite's settings
module (tests.settings turns DEBUG on), its variables or a developer's .env, so what the process
sees is the environment the test gives it."""

import os
import subprocess
import sys
from pathlib import Path

#: The repository's root, where manage.py is.
ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Without the suite's own settings module (tests.settings turns DEBUG on) and variables.
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment["ENV_FILE"] = os.devnull  # nor a developer's .env (make demo writes one)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
