"""A stand-in for a translation catalogue, for tests that must see *that* a text goes through
gettext in the reader's language before the real catalogue (locale/de) has any msgstr.

`install(monkeypatch, module, ...)` replaces the modules' own `gettext` and `ngettext` by fakes
that answer `[de] <msgid>` while German is active, and the msgid unchanged in English (or with
no language active, as `translation.override(None)` leaves it). A test then reads which texts
were written in which language: `[de] Your access to ...` in a German learner's e-mail, the
plain English one stored for the API.
"""

from types import ModuleType

import pytest
from django.utils import translation


def _tagged(text: str) -> str:
    language = translation.get_language()
    if not language or language.startswith("en"):
        return text
    return f"[{language}] {text}"


def fake_gettext(message: str) -> str:
    return _tagged(message)


def fake_ngettext(singular: str, plural: str, number: int) -> str:
    return _tagged(singular if number == 1 else plural)


def install(monkeypatch: pytest.MonkeyPatch, *modules: ModuleType) -> None:
    for module in modules:
        if hasattr(module, "gettext"):
            monkeypatch.setattr(module, "gettext", fake_gettext)
        if hasattr(module, "ngettext"):
            monkeypatch.setattr(module, "ngettext", fake_ngettext)
