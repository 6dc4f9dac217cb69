"""Every command example of README.md and docs/*.md runs verbatim against the demo data.

The examples are found, not listed: every line of a `sh`, `bash` or `cron` code block that runs
`.venv/bin/python manage.py ...` (also as `VAR=$(.venv/bin/python manage.py ...)`), and every
`course-access-manage ...` line of docs/deploy.md (its wrapper around the same command, with the
service's environment file: here the command runs as `.venv/bin/python manage.py`). A cron line
runs its command without the `cd` into the install directory. A new example in any doc, of any
command, is picked up by this test.

An example must be written as it runs when pasted: every `manage.py` of a shell block (and of a
`$ ` line of a transcript) is run by the project's interpreter, `.venv/bin/python manage.py`.
A bare `manage.py`, `./manage.py` (the system Python) or `python manage.py` (no venv) fails the
test (`misplaced`), whatever block it is in, so that no example escapes it by its prefix.

Each document's examples run in order, in bash, each in a fresh process (a variable an example
assigns, such as `RUN=$(...)`, is kept for the document's later examples, as in the shell they
are pasted into), against a fresh copy of a demo database (SQLite: `migrate` then `seed_demo`,
made once), in a directory holding the docs' CSV files (each ```csv block introduced by its
`file.csv` name), `manage.py` and `.venv` (links to this checkout's), with DEBUG=true (what
`make demo`'s `.env` sets) and no other setting; `example.com`, the docs' webhook host,
resolves to a public address without the network (no job worker runs: nothing is sent to it).
Each must exit 0, and where the docs promise rows (a report, a change, a reminder, a key) the
output must hold at least one (on the command's first run in that document: run again,
notify_expiring rightly sends nothing new).
"""

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WRAPPER = "(?:/usr/local/bin/)?course-access-manage"  # docs/deploy.md's wrapper script
MANAGE = ".venv/bin/python manage.py"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
CSV_FILE = re.compile(r"`([\w.-]+\.csv)`[^\n]*\n\n```csv\n(.*?)^```", re.M | re.S)
EXAMPLE = re.compile(rf"^(?:sudo )?(?:\w+=\$\()?(?:{re.escape(MANAGE)}|{WRAPPER}) (?P<command>\w+)")
CRON_COMMAND = re.compile(r"^\s*(?:\S+\s+){5}(?:(?:root|course-access)\s+)?(?P<command>.*)$")
REDIRECT = re.compile(r">\s*(?P<file>[\w.-]+)\s*$")
#: A `manage.py` not run by the project's interpreter: `manage.py`, `./manage.py`,
#: `python manage.py`, `python3 manage.py`, `sudo manage.py`... (never `.venv/bin/python manage.py`,
#: also as `/srv/course-access/.venv/bin/python manage.py`).
NOT_PASTEABLE = re.compile(r"(?<!\.venv/bin/python )(?<![\w.-])(?:\./)?manage\.py\b")
#: Blocks whose every line is a command; in the others (text, console, none) only `$ ` lines are.
SHELL_BLOCKS = {"sh", "bash", "shell", "cron"}
#: docs/commands.md's webhook examples name https://example.com/...: a test double of its DNS
#: answer (an address of the public internet) for a machine without the network.
FAKE_DNS = """\
import socket

_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, port, *args, **kwargs):
    if host == "example.com":
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port or 443))]
    return _getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = getaddrinfo
"""
pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="runs on its own SQLite demo database: the SQLite run of the suite covers it",
)


def logical_lines(block: str) -> list[str]:
    """The block's commands, a backslash-continued command as one (continuations kept)."""
    return [line for line in re.split(r"(?<!\\)\n", block) if line.strip()]


def examples(doc: Path) -> list[str]:
    found = []
    for language, block in FENCE.findall(doc.read_text()):
        if language not in {"sh", "bash", "cron"}:
            continue
        for line in logical_lines(block):
            if line.lstrip().startswith("#"):
                continue
            if language == "cron":
                match = CRON_COMMAND.match(line)
                if match is None:
                    continue
                line = re.sub(r"^cd \S+ && ", "", match["command"])
            if EXAMPLE.match(line):
                found.append(line)
    return found


def misplaced(text: str) -> list[str]:
    """The command lines of a document's code blocks that run `manage.py` in a form that fails
    when pasted (see NOT_PASTEABLE), whatever the block's language."""
    found = []
    for language, block in FENCE.findall(text):
        for line in logical_lines(block):
            command = line.strip()
            if language not in SHELL_BLOCKS:
                if not command.startswith("$ "):
                    continue  # a transcript's output, a listing: not a command
                command = command[2:]
            if command.startswith("#"):
                continue
            if NOT_PASTEABLE.search(re.sub(r"\s+# .*$", "", command)):
                found.append(line)
    return found


def runnable(example: str, variables: Path | None = None) -> str:
    """The example as this test runs it: the wrapper as the command it wraps; an assignment
    followed by printing the variable, so that its value can be checked, and by saving it in
    `variables`, which every later example reads first (as one shell would keep it)."""
    line = re.sub(rf"^(sudo )?{WRAPPER} ", f"{MANAGE} ", example)
    line = re.sub(r"^sudo (?=\w+=\$\()", "", line)
    assignment = re.match(r"^(\w+)=\$\(", line)
    if assignment:
        line += f'\nprintf "%s\\n" "${assignment[1]}"'
        if variables is not None:
            line += f"\ndeclare -p {assignment[1]} >> {variables}"
    if variables is not None:
        line = f"if [ -f {variables} ]; then . {variables}; fi\n{line}"
    return line


def command_of(example: str) -> str:
    return EXAMPLE.match(example)["command"]


def _changed(output: str) -> bool:
    """Rows changed, or would be (a dry run), or queued for the job worker (--background), or
    changed by a resumed run ("Now: changed N")."""
    match = re.search(
        r"(?:would change|changed) (\d+)|^Run \S+ queued: [^\n]*?, (\d+) enrollments?",
        output,
        re.I | re.M,
    )
    return match is not None and int(match[1] or match[2]) > 0


def _report_rows(output: str) -> bool:
    lines = [line for line in output.splitlines() if "@" in line]  # a row names its learner
    return len(lines) > 0


#: What "printed rows" means for each command whose examples promise some. Other commands
#: (and future ones) must exit 0.
PROMISES = {
    "extend_access": _changed,
    "pause_membership": _changed,
    "resume_membership": _changed,
    "access_report": _report_rows,
    "notify_expiring": lambda out: (
        re.search(r"Queued [1-9]|[1-9]\d* learners? would be", out) is not None
    ),
    "create_api_key": lambda out: bool(out.strip().splitlines()[-1:]),
}


def csv_files() -> dict[str, str]:
    files = {}
    for doc in DOCS:
        for name, content in CSV_FILE.findall(doc.read_text()):
            assert files.get(name, content) == content, f"{name} differs between docs"
            files[name] = content
    return files


def environment(database: Path, static_root: Path, fake_dns: Path | None = None) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{database}",
        STATIC_ROOT=str(static_root),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    if fake_dns is not None:  # a folder holding FAKE_DNS as sitecustomize.py
        env["PYTHONPATH"] = str(fake_dns)
    return env


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory, worker_id) -> Path:
    """migrate + seed_demo once per run, whichever pytest-xdist worker asks first (the others
    wait on a file lock in the run's shared temporary directory); each document gets a copy."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # each worker's base is a folder of the run's own
        shared = shared.parent
    work = shared / "demo"
    database = work / "demo.sqlite3"
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not database.exists():
            work.mkdir(exist_ok=True)
            building = work / "building.sqlite3"
            env = environment(building, work / "static")
            for script in (f"{ROOT}/{MANAGE} migrate --noinput", f"{ROOT}/{MANAGE} seed_demo"):
                result = bash(script, ROOT, env)
                assert result.returncode == 0, result.stderr
            building.rename(database)
    return database


def test_no_example_runs_manage_py_in_a_form_that_fails_when_pasted():
    found = {doc.name: misplaced(doc.read_text()) for doc in DOCS}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_forms_that_fail_when_pasted_are_found_in_every_kind_of_block():
    document = """
```sh
manage.py extend_access --days 1
./manage.py pause_membership --all
python manage.py resume_membership --all
.venv/bin/python manage.py check_progress   # manage.py here is a comment
RUN=$(python3 manage.py jobs list | tail -n 1)
sudo -u course-access .venv/bin/python manage.py migrate
# manage.py check: a comment
```

```cron
5 * * * *  cd /srv/course-access && manage.py notify_expiring --within 7
5 * * * *  cd /srv/course-access && .venv/bin/python manage.py notify_expiring --within 7
```

```text
$ manage.py notify_expiring --within 7
$ .venv/bin/python manage.py notify_expiring --within 7
CommandError: ... Continue it: manage.py extend_access --resume 5d1c7a2e-...
```

```
$ ./manage.py jobs sweep
ExecStart=/srv/course-access/.venv/bin/python manage.py db_worker --no-reload
```
"""
    assert misplaced(document) == [
        "manage.py extend_access --days 1",
        "./manage.py pause_membership --all",
        "python manage.py resume_membership --all",
        "RUN=$(python3 manage.py jobs list | tail -n 1)",
        "5 * * * *  cd /srv/course-access && manage.py notify_expiring --within 7",
        "$ manage.py notify_expiring --within 7",
        "$ ./manage.py jobs sweep",
    ]


def test_a_variable_an_example_assigns_is_there_for_the_later_ones(tmp_path):
    variables = tmp_path / "variables.sh"
    env = {"PATH": os.environ["PATH"]}
    first = bash(runnable("RUN=$(printf 'a b')", variables), tmp_path, env)
    later = bash(runnable('printf "[%s]" "$RUN"', variables), tmp_path, env)
    assert (first.returncode, first.stdout) == (0, "a b\n")
    assert (later.returncode, later.stdout) == (0, "[a b]")


def test_examples_are_found_in_every_doc_that_has_some():
    counts = {doc.name: len(examples(doc)) for doc in DOCS}
    assert counts["README.md"] >= 7
    assert counts["commands.md"] >= 13
    assert counts["api.md"] >= 2
    assert counts["deploy.md"] >= 4
    commands = {command_of(e) for doc in DOCS for e in examples(doc)}
    assert set(PROMISES) <= commands, set(PROMISES) - commands
    assert {"migrate", "collectstatic", "createsuperuser"} <= commands


@pytest.mark.parametrize("doc", [d for d in DOCS if examples(d)], ids=lambda d: d.name)
def test_every_example_runs_verbatim_against_the_demo_data(doc, demo_database, tmp_path):
    database = tmp_path / "demo.sqlite3"
    shutil.copy(demo_database, database)
    for name, content in csv_files().items():
        (tmp_path / name).write_text(content)
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    fake_dns = tmp_path.parent / f"{tmp_path.name}-dns"
    fake_dns.mkdir()
    (fake_dns / "sitecustomize.py").write_text(FAKE_DNS)
    env = environment(database, tmp_path / "static", fake_dns)
    variables = tmp_path.parent / f"{tmp_path.name}-variables.sh"
    already_run = set()
    for example in examples(doc):
        result = bash(runnable(example, variables), tmp_path, env)
        assert result.returncode == 0, f"{example}\nexit {result.returncode}\n{result.stderr}"
        output = result.stdout
        if re.match(r"^\w+=\$\(", example):  # what the assignment's command showed (`tee`)
            output += result.stderr
        redirect = REDIRECT.search(example)
        if redirect:
            output += (tmp_path / redirect["file"]).read_text()
        promise = PROMISES.get(command_of(example))
        if example.endswith(">/dev/null"):  # cron keeps only stderr: nothing to look at
            promise = None
        # Run again, the same command (whatever its comment) may rightly print nothing new
        # (notify_expiring's reminders go out once per end date): the promise is the first run's.
        command = re.sub(r"\s+# .*$", "", example)
        if promise is not None and command not in already_run:
            assert promise(output), f"{example}\nprinted no rows:\n{output}\n{result.stderr}"
        already_run.add(command)
