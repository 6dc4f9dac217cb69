"""The admin in German, page by page (issue 26 item 9: "the admin in the second locale"): every
project admin page, rendered for a staff member whose language is German, shows none of the
catalogue's English. The pages are the every-page axe test's (tests/browser/
test_accessibility_every_page.py: the list, the add page and a change page of every model the
project registers, over the privacy tests' learner with everything the database can hold about
them) and the pages reached from them: the dashboard, the language and time-zone pages, the
enrollment and learner pages, the history, each lifecycle action's form and preview, the
enroll page, the undo page, the erasure preview, the webhook pages and the new API key's page.

The witness is the catalogue itself (locale/de/LC_MESSAGES/django.po): each English msgid whose
German differs is cut at its placeholders and tags, and each piece of at least three words
found in a page's visible text (its text, and the title, aria-label, placeholder and alt
attributes and button values people read or hear) fails the test with the page and the words.
A string left out of the catalogue or untranslated, or shown in English by the code, is found
so; a msgid the code shows unmarked (no msgid at all) is the lints' job
(tests/admin/test_admin_marked_for_translation.py, tests/test_marked_for_translation.py)."""

import ast
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from enrollments.models import AccessChange, OperationRun, WebhookEndpoint
from tests.admin.helpers import confirm, pages_of, post_action, preview, project_models
from tests.factories import OperatorFactory
from tests.privacy.helpers import build_history

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "de" / "LC_MESSAGES" / "django.po"
#: A piece of a msgid this long or longer is English no German page may show.
MIN_WORDS = 3
#: Placeholders (%(name)s, %s, {name}), HTML tags and entities: where a msgid is cut.
CUTS = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[sdr]|\{\w*\}|<[^>]*>|&\w+;|&#\d+;")
BERLIN = ZoneInfo("Europe/Berlin")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
#: Attributes whose words people read or hear.
#: (data-label: a table cell's heading, shown by the narrow layout's CSS.)
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-label"}


def catalogue_entries(path: Path = CATALOGUE) -> list[tuple[list[str], list[str]]]:
    """(English forms, German forms) of each entry of the .po file: msgid (and msgid_plural),
    msgstr (or msgstr[n]); the header left out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        english: list[str] = []
        german: list[str] = []
        current: list[str] | None = None
        for line in block.splitlines():
            if line.startswith(("msgid ", "msgid_plural ")):
                current = english
                current.append(ast.literal_eval(line.split(" ", 1)[1]))
            elif line.startswith("msgstr"):
                current = german
                current.append(ast.literal_eval(line.split(" ", 1)[1]))
            elif line.startswith('"') and current is not None:
                current[-1] += ast.literal_eval(line)
            elif line.startswith("msgctxt"):
                current = None
        if english and english[0]:
            entries.append((english, german))
    return entries


def english_pieces(entries=None) -> set[str]:
    """The pieces of the English msgids a German page must not show: cut at placeholders and
    tags, at least MIN_WORDS words, from entries whose German differs; a piece the German keeps
    too (a command line, a product name) is not English left over."""
    pieces: set[str] = set()
    for english, german in entries if entries is not None else catalogue_entries():
        if english[0] in german:
            continue
        kept = " ".join(german)
        for form in english:
            for piece in CUTS.split(form):
                piece = " ".join(piece.split()).strip(" .,:;()\"'“”")
                if len(WORD.findall(piece)) >= MIN_WORDS and piece not in kept:
                    pieces.add(piece)
    return pieces


class VisibleText(HTMLParser):
    """The words of a page people read or hear: text outside <script>, <style> and
    <template>, plus READ_ATTRIBUTES and the values of buttons. The permission pickers' options
    are left out: a permission's name ("Can add course role change") is stored text, written in
    English by Django's migrations, not the catalogue's to translate."""

    HIDDEN = {"script", "style", "template", "head"}
    STORED_TEXT_SELECTS = {"user_permissions", "permissions"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.in_stored_select = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in self.HIDDEN:
            self.hidden += 1
        if tag == "select" and values.get("name") in self.STORED_TEXT_SELECTS:
            self.in_stored_select = True
        for name in READ_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in {"submit", "button", "reset"}:
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag == "select":
            self.in_stored_select = False

    def handle_data(self, data):
        if not self.hidden and not self.in_stored_select:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return " | ".join(" ".join(part.split()) for part in parser.parts if part.strip())


def english_on(html: str, pieces: set[str]) -> list[str]:
    text = VisibleText.of(html)
    return sorted(piece for piece in pieces if piece in text)


@pytest.fixture
def german_staff(db):
    return OperatorFactory(email="root@example.com", language="de", time_zone="Europe/Berlin")


def _get(client: Client, path: str, pages: dict[str, str]) -> None:
    response = client.get(path, follow=True)
    if response.status_code == 403:  # a read-only admin's add page: Django's own page
        return
    assert response.status_code == 200, (path, response.status_code)
    pages[path] = response.content.decode()


def _post(client: Client, path: str, data: dict, pages: dict[str, str], name: str) -> None:
    response = client.post(path, data, follow=True)
    assert response.status_code == 200, (name, response.status_code)
    pages[name] = response.content.decode()


def german_pages(client: Client, history) -> tuple[dict[str, str], str]:
    """Every project admin page as the German staff member sees it, by path (or by what was
    posted to reach it), and the new API key's expiry as the staff member's zone writes it."""
    pages: dict[str, str] = {}
    enrollment = history.enrollments[0]
    course = enrollment.course
    endpoint = WebhookEndpoint.objects.get()
    run = OperationRun.objects.first()
    batch = AccessChange.objects.exclude(batch_id=None).values_list("batch_id", flat=True)[0]
    paths = ["/admin/", reverse("admin_language"), reverse("admin_time_zone")]
    for model in project_models():
        paths += pages_of(model)
    endpoint_url = reverse("admin:enrollments_webhookendpoint_change", args=[endpoint.pk])
    paths += [
        reverse("admin:lms_user_change", args=[history.learner.pk]),
        reverse("admin:lms_course_change", args=[course.pk]),
        f"{endpoint_url}deliveries/",
        reverse("admin:enrollments_webhookendpoint_rotate", args=[endpoint.pk]),
        reverse("admin:enrollments_webhookendpoint_replay", args=[endpoint.pk]),
        reverse("admin:enrollments_operationrun_change", args=[run.pk]),
        reverse("admin:enrollments_enrollment_history", args=[enrollment.pk]),
        reverse("admin:enrollments_enrollment_enroll"),
        reverse("admin:enrollments_accesschange_undo_batch", args=[batch]),
        f"{reverse('admin:enrollments_enrollment_changelist')}?q=nobody-matches",
        f"{reverse('admin:enrollments_accesschange_changelist')}?q=nobody-matches",
    ]
    for target in history.enrollments:
        paths.append(reverse("admin:enrollments_enrollment_change", args=[target.pk]))
        for action in ("extend_access", "expire_access", "pause", "resume", "remove"):
            paths.append(reverse(f"admin:enrollments_enrollment_{action}_one", args=[target.pk]))
    for path in dict.fromkeys(paths):
        _get(client, path, pages)

    ids = [target.pk for target in history.enrollments]
    for action in (
        "extend_access",
        "expire_access",
        "pause_enrollments",
        "resume_enrollments",
        "remove_from_course",
    ):
        response = post_action(client, action, ids)
        assert response.status_code in (200, 302), action
        pages[f"action {action}"] = (
            client.get(response.url).content.decode()
            if (response.status_code == 302)
            else response.content.decode()
        )
    extend_one = reverse("admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk])
    preview_data = {"mode": "days", "days": "7", "time_zone": "Europe/Berlin", "_preview": "1"}
    _post(client, extend_one, preview_data, pages, "extend preview")
    _post(client, extend_one, {**preview_data, "days": "0"}, pages, "extend refused")
    previewed = preview(
        client, client.get(extend_one), extend_one, days="7", time_zone="Europe/Berlin"
    )
    done = confirm(client, previewed, extend_one, days="7", time_zone="Europe/Berlin")
    assert done.status_code == 302, done.status_code
    pages["extend done"] = client.get(done.url).content.decode()
    _post(
        client,
        reverse("admin:enrollments_webhookendpoint_add"),
        # The cloud metadata address: refused whatever the settings, with no DNS.
        {"url": "https://169.254.169.254/in", "event_types": ["course_membership.created"]},
        pages,
        "webhook refused",
    )
    erase = post_action_on(client, "admin:lms_user_changelist", "erase_learner", [history.other.pk])
    pages["erase preview"] = erase
    # The key's expiry a month from now (the key's own clock), typed in the staff member's zone.
    expires = (timezone.now() + timedelta(days=30)).astimezone(BERLIN).replace(second=0)
    data = {
        "user": str(history.staff.pk),
        "name": "etl",
        "expires_at_0": f"{expires:%Y-%m-%d}",
        "expires_at_1": f"{expires:%H:%M:00}",
    }
    key = client.post(reverse("admin:apikeys_apikey_add"), data)
    assert key.status_code == 200
    pages["new API key"] = key.content.decode()
    return pages, f"{expires:%Y-%m-%d %H:%M} {expires.tzname()}"


def post_action_on(client: Client, changelist: str, action: str, ids) -> str:
    data = {"action": action, "index": "0", "_selected_action": [str(pk) for pk in ids]}
    response = client.post(reverse(changelist), data)
    assert response.status_code == 200, action
    return response.content.decode()


def test_every_project_admin_page_shows_no_english_of_the_catalogue(clock, german_staff):
    history = build_history(clock)
    client = Client()
    client.force_login(german_staff)
    pages, expires = german_pages(client, history)
    pieces = english_pieces()
    assert len(pieces) > 500  # the catalogue was read
    found = {name: english for name, html in pages.items() if (english := english_on(html, pieces))}
    assert len(pages) >= 45, sorted(pages)
    for name, html in pages.items():
        assert '<html lang="de"' in html, name
    assert not found, "English on German pages:\n" + "\n".join(
        f"{name}: {piece!r}" for name, english in found.items() for piece in english
    )
    # The apps', models' and fields' names (one or two words: not the pieces' business).
    home = VisibleText.of(pages["/admin/"])
    assert all(name in home for name in ("Kurszugang", "Lerninhalte", "Einschreibungen", "Kurse"))
    changelist = VisibleText.of(pages[reverse("admin:enrollments_enrollment_changelist")])
    assert "Einschreibung zur Änderung auswählen" in changelist
    assert "Nach Kurs" in changelist
    course = VisibleText.of(
        pages[reverse("admin:lms_course_change", args=[history.enrollments[0].course.pk])]
    )
    assert all(label in course for label in ("Titel:", "Beschreibung:", "Zugangstage:"))
    # The result of a Confirm, and the refusals and details made in the core, in German at the
    # admin's door.
    assert "Der Zugang dieser Einschreibung wurde verlängert." in pages["extend done"]
    assert "die Verlängerungstage müssen positiv sein" in pages["extend refused"]
    assert (
        "Der Host 169.254.169.254 ist eine Cloud-Metadaten-Adresse: Dorthin werden keine "
        "Webhooks gesendet." in pages["webhook refused"]
    )
    # The new key's expiry in the staff member's zone, named, as every admin date.
    assert f"Er läuft am {expires} ab." in pages["new API key"]
    assert "UTC" not in VisibleText.of(pages["new API key"])


def test_the_witness_finds_the_english_of_an_english_page(clock, db):
    """The same pages for a staff member reading English: the catalogue's pieces are found on
    them, so a German page without any means translated, not unread."""
    history = build_history(clock)
    client = Client()
    client.force_login(OperatorFactory(email="root@example.com", language="en"))
    pages, _ = german_pages(client, history)
    pieces = english_pieces()
    found = {name: english_on(html, pieces) for name, html in pages.items()}
    assert "Enrollments at a glance" in found["/admin/"]
    assert "extension days must be positive" in found["extend refused"]
    assert sum(len(english) for english in found.values()) > 200
    assert sum(1 for english in found.values() if english) >= len(pages) - 5
