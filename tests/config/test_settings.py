"""Settings read from the environment; production settings pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Without the suite's own settings module (tests.settings turns DEBUG on) and variables.
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-of-fifty-or-more-characters-1234567890-abcdefghij",
    "ALLOWED_HOSTS": "lms.example.com",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
}


def test_check_deploy_reports_nothing_with_production_variables():
    """Two pieces of advice are silenced, on purpose: HSTS for subdomains (W005) and the preload
    flag (W021) are off unless configured (config/settings.py says why)."""
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (2 silenced).\n"


def test_with_subdomains_and_preload_configured_nothing_is_silenced():
    env = {**PRODUCTION, "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true"}
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_without_debug_set_the_app_is_in_production_mode():
    """DEBUG is off unless set: with neither DEBUG nor SECRET_KEY, nothing starts."""
    result = run_manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = dict(PRODUCTION)
    del env["SECRET_KEY"]
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_on_needs_nothing_else():
    result = run_manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr
