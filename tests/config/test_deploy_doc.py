"""docs/deploy.md tells the truth about what it names: the cache lifetime it gives the static
files is the one the app sends (with DEBUG off, after collectstatic, a hashed name is cached for
ten years, WhiteNoise's `immutable`; its unhashed copy for 60 seconds, WhiteNoise's default: the
settings set no WHITENOISE_MAX_AGE), and a release tag it checks out exists."""

import json
import re
import subprocess

from tests.subprocesses import ROOT, SECRET_KEY, manage_environment, run_manage, run_python

DEPLOY = (ROOT / "docs" / "deploy.md").read_text()

#: Asks the app, as configured by the environment, for one file under both names.
ASK = """
import json, sys, django
django.setup()
from django.test import Client
client = Client()
answers = {}
for name in sys.argv[1:]:
    response = client.get("/static/" + name, secure=True)
    answers[name] = [response.status_code, response.headers.get("Cache-Control")]
print(json.dumps(answers))
"""


def test_static_files_are_cached_as_docs_deploy_says(tmp_path):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    # As a production server runs it: the runtime lock (requirements.lock) has no `brotli`, so
    # WhiteNoise writes gzip copies only. The development lock has it (for the benchmark's load
    # generator), and Brotli-compressing every asset would triple this test's time for nothing
    # it checks.
    (tmp_path / "runtime" / "brotli.py").parent.mkdir()
    (tmp_path / "runtime" / "brotli.py").write_text(
        'raise ImportError("not in requirements.lock")\n'
    )
    collected = run_manage(
        "collectstatic", "--noinput", PYTHONPATH=str(tmp_path / "runtime"), **env
    )
    assert collected.returncode == 0, collected.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    assert not list((tmp_path / "static").rglob("*.br"))  # as in production
    hashed = manifest["paths"]["admin/css/base.css"]
    assert hashed != "admin/css/base.css"

    asked = run_python(
        "-c",
        ASK,
        hashed,
        "admin/css/base.css",
        env=manage_environment({**env, "DJANGO_SETTINGS_MODULE": "config.settings"}),
    )
    assert asked.returncode == 0, asked.stderr
    answers = json.loads(asked.stdout.splitlines()[-1])

    ten_years = 10 * 365 * 24 * 60 * 60
    assert answers[hashed] == [200, f"max-age={ten_years}, public, immutable"]
    assert answers["admin/css/base.css"] == [200, "max-age=60, public"]
    text = " ".join(DEPLOY.split())
    assert f"`Cache-Control: max-age={ten_years}, public, immutable`: ten years" in text
    assert "`max-age=60, public`" in text


def test_the_docs_name_no_release_that_does_not_exist():
    tags = subprocess.run(
        ["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    named = set(re.findall(r"\bv\d+\.\d+\.\d+\b", DEPLOY))
    assert named <= set(tags), f"docs/deploy.md names tags that do not exist: {named - set(tags)}"
