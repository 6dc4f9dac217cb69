"""`make messages-check`: the committed translation catalogue is complete and current.

For each language given (`--locale de`, settings.LANGUAGES besides English), it checks
locale/<code>/LC_MESSAGES/django.po (the project's one catalogue, LOCALE_PATHS):

1. it holds exactly the strings the code marks: `makemessages` is run into a temporary
   directory with the same `--ignore` patterns as `make messages`, and GNU msgcmp compares the
   two both ways (a string marked but missing, or one no longer marked);
2. none of its entries is untranslated or fuzzy (GNU msgattrib lists them);
3. the committed django.mo is that .po compiled: `msgfmt --check` compiles it again and
   `msgunfmt` reads both, which must say the same.

Each failure says what to do (`make messages`, then translate). Exit status 0 when every
language passes, 1 otherwise. Needs GNU gettext (msgfmt, msgcmp, msgattrib, msgunfmt, xgettext),
as `make messages` does. Run from the repository root with the project's settings.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess:
    # GNU gettext programs with paths of this repository and a temporary directory.
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def fresh_catalogue(locale: str, ignore: list[str], into: Path) -> Path:
    """The catalogue `make messages` would start from: every marked string of the code, no
    translation, written under `into` (the committed locale/ is left alone).

    Django's makemessages adds ./locale to its locale paths whenever the current directory has
    one, and writes the strings of every file below it there, whatever LOCALE_PATHS says (and
    merges them into the committed catalogue, its file references dropped). So it walks a tree
    of symbolic links to the repository's own top-level entries instead, locale/ (and the
    ignored ones) left out, following the links."""
    import django
    from django.core.management import call_command
    from django.test.utils import override_settings

    django.setup()
    source, catalogues = into / "source", into / "locale"
    source.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {"locale", ".git", *ignore}:
            (source / entry.name).symlink_to(entry)
    previous = Path.cwd()
    os.chdir(source)
    try:
        with override_settings(LOCALE_PATHS=[str(catalogues)]):
            call_command(
                "makemessages",
                locale=[locale],
                ignore_patterns=list(ignore),
                add_location="never",
                symlinks=True,
                verbosity=0,
            )
    finally:
        os.chdir(previous)
    return catalogues / locale / "LC_MESSAGES" / "django.po"


def problems_of(locale: str, ignore: list[str]) -> list[str]:
    folder = ROOT / "locale" / locale / "LC_MESSAGES"
    po, mo = folder / "django.po", folder / "django.mo"
    if not po.is_file():
        return [f"{po.relative_to(ROOT)} is missing: run `make messages`, then translate it"]
    found: list[str] = []
    with tempfile.TemporaryDirectory() as temporary:
        fresh = fresh_catalogue(locale, ignore, Path(temporary))
        missing = _run("msgcmp", "--use-untranslated", str(po), str(fresh))
        if missing.returncode:
            found.append(
                f"{po.relative_to(ROOT)} lacks strings the code marks (run `make messages`, "
                f"then translate them):\n{missing.stderr.strip()}"
            )
        stale = _run("msgcmp", "--use-untranslated", str(fresh), str(po))
        if stale.returncode:
            found.append(
                f"{po.relative_to(ROOT)} holds strings the code no longer marks (run "
                f"`make messages`):\n{stale.stderr.strip()}"
            )
    header = po.read_text(encoding="utf-8").split("\n\n", 1)[0]
    if "#, fuzzy" in header or f"Language: {locale}\\n" not in header:
        found.append(
            f"{po.relative_to(ROOT)}: its header is fuzzy or names no Language {locale!r} (fill "
            "in Language, Last-Translator and Language-Team, then drop its fuzzy flag: msgfmt "
            "leaves a fuzzy header, and the plural rule it holds, out of django.mo)"
        )
    # msgfmt's statistics: "12 translated messages, 1 fuzzy translation, 2 untranslated
    # messages." (a part is left out when its count is 0).
    statistics = _run("msgfmt", "--statistics", "-o", os.devnull, str(po)).stderr
    for option, what in (("--untranslated", "untranslated"), ("--only-fuzzy", "fuzzy")):
        count = re.search(rf"(\d+) {what}", statistics)
        if count:
            listed = _run("msgattrib", option, "--no-obsolete", str(po)).stdout
            found.append(
                f"{po.relative_to(ROOT)} has {count.group(1)} {what} entries (translate them; "
                f"a fuzzy one: check it, then drop its fuzzy flag):\n{listed.strip()[:3000]}"
            )
    with tempfile.TemporaryDirectory() as temporary:
        compiled = Path(temporary) / "django.mo"
        made = _run("msgfmt", "--check", "-o", str(compiled), str(po))
        if made.returncode:
            found.append(f"{po.relative_to(ROOT)} does not compile:\n{made.stderr.strip()}")
        elif not mo.is_file():
            found.append(f"{mo.relative_to(ROOT)} is missing: run `make messages`")
        elif _run("msgunfmt", str(mo)).stdout != _run("msgunfmt", str(compiled)).stdout:
            found.append(f"{mo.relative_to(ROOT)} is not {po.name} compiled: run `make messages`")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locale", action="append", required=True, help="e.g. de (repeat)")
    parser.add_argument(
        "--ignore", action="append", default=[], help="as makemessages' --ignore (repeat)"
    )
    options = parser.parse_args()
    os.chdir(ROOT)  # makemessages walks the current directory
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    failed = False
    for locale in options.locale:
        problems = problems_of(locale, options.ignore)
        for problem in problems:
            print(f"messages-check: {problem}", file=sys.stderr)
        if not problems:
            print(f"messages-check: {locale}: complete, current and compiled")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
