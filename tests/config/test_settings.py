"""Settings read from the environment; production settings pass Django's deployment checks."""

import re
import subprocess

from tests.subprocesses import ROOT, run_manage

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


def documented_environment() -> dict[str, str]:
    """The environment file of docs/deploy.md, as its shell block writes it (the secret key
    generated, the database password set)."""
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    heredoc = re.search(
        r"sudo tee /etc/course-access/env >/dev/null <<EOF\n(.*?\nEOF)\n", deploy, re.S
    )
    assert heredoc, "docs/deploy.md has no environment file block"
    written = subprocess.run(
        ["bash", "-c", f"DB_PASSWORD=secret-from-step-2\ncat <<EOF\n{heredoc[1]}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in written.splitlines() if line)


def test_check_deploy_is_clean_with_the_documented_production_environment():
    env = documented_environment()
    assert env["DEBUG"] == "false" and len(env["SECRET_KEY"]) >= 50
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (2 silenced).\n"
    assert result.stderr == ""


def test_the_documented_environment_configures_smtp_and_the_proxy_header():
    env = documented_environment()
    script = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_USE_TLS, "
        "s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_PRELOAD)"
    )
    result = run_manage("shell", "--no-imports", "-c", script, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(" ", 1) == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com 587 reminders@example.com True "
        "('HTTP_X_FORWARDED_PROTO', 'https') True False\n",
    ]


def test_without_a_proxy_header_configured_x_forwarded_proto_is_not_trusted():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)",
        **PRODUCTION,
    )
    assert result.stdout == "None\n", result.stderr


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
