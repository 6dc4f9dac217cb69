"""The three doors driven the way their users drive them, each reduced to the same outcome.

Every door takes one enrollment and one request (`extend` with days / until / indefinite,
`pause`, `resume`, `expire` now or `at` an instant, `remove`) and answers `"done"`,
`"unchanged"` or the domain error's code, read from what the door showed (the API's
`extensions.code` or payload `errors`, the admin's page or message, the command's `[CODE]`).
The door-by-door tests compare those, the stored enrollment and the audit rows.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from enrollments.errors import ALL_ERRORS
from enrollments.models import AccessChange, Enrollment
from tests.admin.helpers import confirm_page, extend_form_data, post_action
from tests.commands.conftest import run_command
from tests.graphql.conftest import Api, error_codes
from tests.graphql.documents import EXPIRE as API_EXPIRE
from tests.graphql.documents import EXTEND as API_EXTEND
from tests.graphql.documents import PAUSE as API_PAUSE
from tests.graphql.documents import REMOVE as API_REMOVE
from tests.graphql.documents import RESUME as API_RESUME

COMMANDS = {
    "extend": "extend_access",
    "pause": "pause_membership",
    "resume": "resume_membership",
    "expire": "expire_access",
    "remove": "remove_from_course",
}
ACTIONS = {
    "extend": "extend_access",
    "pause": "pause_enrollments",
    "resume": "resume_enrollments",
    "expire": "expire_access",
    "remove": "remove_from_course",
}
DONE = {
    "extend": "Extended access for",
    "pause": "Paused",
    "resume": "Resumed",
    "expire": "Set the new end of access for",
    "remove": "Removed",
}
#: The operations whose admin door is a form page (the others: a confirmation page).
FORM_PAGES = {
    "extend": ("admin:enrollments_enrollment_extend_access", "extend_access_one"),
    "expire": ("admin:enrollments_enrollment_expire_access", "expire_access_one"),
}
API_FIELDS = {"expire": "expireStudentCourseAccess", "remove": "removeStudentFromCourse"}


@dataclass(frozen=True)
class Request:
    operation: str  # extend | pause | resume | expire | remove
    days: int | None = None
    until: datetime | None = None
    indefinite: bool = False
    at: datetime | None = None  # expire: the new end (None: now)

    def command_flags(self) -> list[str]:
        if self.at is not None:
            return ["--at", self.at.strftime("%Y-%m-%dT%H:%M:%SZ")]
        if self.indefinite:
            return ["--indefinite"]
        if self.until is not None:
            return ["--until", self.until.strftime("%Y-%m-%dT%H:%M:%SZ")]
        if self.days is not None:
            return ["--days", str(self.days)]
        return []

    def form_fields(self) -> dict:
        if self.operation == "expire":
            return {"at": self.at.strftime("%Y-%m-%dT%H:%M") if self.at else ""}
        if self.indefinite:
            return {"mode": "indefinite"}
        if self.until is not None:
            return {"mode": "until", "until": self.until.strftime("%Y-%m-%dT%H:%M")}
        return {"mode": "days", "days": str(self.days)}


def code_of(text: str) -> str:
    """The code of the domain error whose message `text` shows."""
    for error in ALL_ERRORS:
        if error.message in text:
            return error.code
    raise AssertionError(f"no domain error's message in {text!r}")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def read_messages(client: Client, response) -> list[str]:
    """The messages a redirect left, then shown (so consumed) as the browser would: the next
    door starts with none."""
    texts = messages_of(response)
    client.get(reverse("admin:index"))
    return texts


def audit_rows(enrollment: Enrollment) -> list[tuple]:
    """What each audit row of the enrollment says (the door's own source aside)."""
    return list(
        AccessChange.objects.filter(enrollment=enrollment)
        .order_by("created_at", "id")
        .values_list(
            "action",
            "old_ended_at",
            "new_ended_at",
            "old_is_paused",
            "new_is_paused",
            "paused_seconds",
        )
    )


def stored(enrollment: Enrollment) -> tuple:
    enrollment.refresh_from_db()
    return (
        enrollment.ended_at,
        enrollment.is_paused,
        enrollment.paused_at,
        enrollment.total_paused_duration,
        enrollment.removed_at,
    )


class Doors:
    """Each door as its user meets it. `admin` is a logged-in client of a staff member (one
    holding every permission, or a course's staff: tests/doors/test_scope.py); `key` is an API
    key of the same staff member, `actor` their e-mail for the commands' `--actor`."""

    def __init__(
        self, admin: Client, api: Api, key: str, tmp_path: Path, *, actor: str | None = None
    ) -> None:
        self.admin, self.api, self.key, self.tmp_path = admin, api, key, tmp_path
        #: The commands' `--actor` (the e-mail of the staff member the other doors sign in
        #: as); None: the operator, every course.
        self.actor = actor

    # -- named: the request names its enrollment ------------------------------------------

    def api_call(self, enrollment: Enrollment, request: Request) -> str:
        if request.operation == "extend":
            variables = {"userId": str(enrollment.user_id), "courseId": str(enrollment.course_id)}
            if request.days is not None:
                variables["extensionDays"] = request.days
            if request.until is not None:
                variables["newEndedAt"] = int(request.until.timestamp())
            if request.indefinite:
                variables["indefinite"] = True
            body = self.api.post(API_EXTEND, variables, key=self.key)
        elif request.operation in API_FIELDS:
            variables = {"userId": str(enrollment.user_id), "courseId": str(enrollment.course_id)}
            if request.operation == "expire":
                variables["at"] = int(request.at.timestamp()) if request.at else None
                document = API_EXPIRE
            else:
                document = API_REMOVE
            body = self.api.post(document, variables, key=self.key)
            payload = (body.get("data") or {}).get(API_FIELDS[request.operation]) or {}
            codes = [error["code"] for error in payload.get("errors") or []]
            if codes:
                return codes[0]
        else:
            document = API_PAUSE if request.operation == "pause" else API_RESUME
            body = self.api.post(document, {"id": str(enrollment.pk)}, key=self.key)
        codes = error_codes(body)
        if codes:
            return codes[0]
        return (
            "done" if AccessChange.objects.filter(enrollment=enrollment).exists() else "unchanged"
        )

    def admin_change_page(self, enrollment: Enrollment, request: Request) -> str:
        if request.operation not in FORM_PAGES:
            url = reverse(
                f"admin:enrollments_enrollment_{request.operation}_one", args=[enrollment.pk]
            )
            return self._confirmation(self.admin.get(url), request, one=True)
        one = FORM_PAGES[request.operation][1]
        url = reverse(f"admin:enrollments_enrollment_{one}", args=[enrollment.pk])
        page = self.admin.get(url)
        assert page.status_code == 200
        return self._preview_then_confirm(page, url, request, one=True)

    def command_pair(self, enrollment: Enrollment, request: Request) -> str:
        return self._command(
            request,
            "--user",
            enrollment.user.email,
            "--course",
            enrollment.course.slug,
            *request.command_flags(),
        )

    def csv_row(self, enrollment: Enrollment, request: Request) -> str:
        path = self.tmp_path / f"{enrollment.pk}.csv"
        path.write_text(f"user,course\n{enrollment.user.email},{enrollment.course.slug}\n")
        return self._command(request, "--csv", str(path), *request.command_flags())

    # -- by filter: the request selects whatever matches ----------------------------------

    def admin_ticked(self, enrollment: Enrollment, request: Request) -> str:
        page = post_action(self.admin, ACTIONS[request.operation], [enrollment.pk])
        if request.operation not in FORM_PAGES:
            return self._confirmation(page, request)
        return self._preview_then_confirm(page, reverse(FORM_PAGES[request.operation][0]), request)

    def admin_select_all(self, enrollment: Enrollment, request: Request) -> str:
        page = post_action(
            self.admin,
            ACTIONS[request.operation],
            [enrollment.pk],  # the page's ticked row, then "Select all": the filter decides
            select_across=True,
            query=f"course__id__exact={enrollment.course_id}",
        )
        if request.operation not in FORM_PAGES:
            return self._confirmation(page, request)
        return self._preview_then_confirm(page, reverse(FORM_PAGES[request.operation][0]), request)

    def command_course(self, enrollment: Enrollment, request: Request) -> str:
        return self._command(request, "--course", enrollment.course.slug, *request.command_flags())

    # -- reading what the door showed -------------------------------------------------------

    def _preview_then_confirm(self, page, url: str, request: Request, *, one: bool = False) -> str:
        """Extend / expire: the form, its preview, then Confirm when it changes a row."""
        fields = request.form_fields()
        shown = self.admin.post(url, extend_form_data(page, _preview="Preview", **fields))
        assert shown.status_code == 200
        preview = shown.context["preview"]
        if preview is None:  # the request is invalid for every row: a form error, shown at the
            # chosen mode's field (days, new end) or above the form
            errors = shown.context["form"].errors.values()
            return code_of(" ".join(error for field_errors in errors for error in field_errors))
        if preview.skipped:
            return code_of(preview.skipped_rows[0].reason)
        if not preview.changed:
            return "unchanged"
        fingerprint = shown.context["fingerprint"]
        done = self.admin.post(
            url, extend_form_data(shown, _confirm="Confirm", fingerprint=fingerprint, **fields)
        )
        assert done.status_code == 302, messages_of(done)
        return self._one_message(done, request) if one else self._bulk_messages(done, request)

    def _confirmation(self, page, request: Request, *, one: bool = False) -> str:
        """Pause / resume / remove: the page's preview, then Confirm when it changes a row."""
        assert page.status_code == 200
        preview = page.context["preview"]
        if preview.skipped:
            return code_of(preview.skipped_rows[0].reason)
        if not preview.changed:
            return "unchanged"
        done = confirm_page(self.admin, page)
        return self._one_message(done, request) if one else self._bulk_messages(done, request)

    def _one_message(self, response, request: Request) -> str:
        assert response.status_code == 302
        [message] = read_messages(self.admin, response)
        if message == f"{DONE[request.operation]} this enrollment.":
            return "done"
        return code_of(message)

    def _bulk_messages(self, response, request: Request) -> str:
        assert response.status_code == 302
        [message] = read_messages(self.admin, response)
        if message == f"{DONE[request.operation]} 1 enrollment.":
            return "done"
        assert message.startswith("Skipped 1 enrollment: "), message
        return code_of(message)

    def _command(self, request: Request, *argv: str) -> str:
        if self.actor is not None:
            argv = (*argv, "--actor", self.actor)
        result = run_command(COMMANDS[request.operation], *argv)
        if result.status == 0:
            if "Changed 1," in result.stdout:
                return "done"
            assert "unchanged 1," in result.stdout, result.stdout
            return "unchanged"
        said = result.stderr + result.error
        match = re.search(r"\[([A-Z_]+)\]", said)
        assert match, said
        return match.group(1)


NAMED_DOORS = ("api_call", "admin_change_page", "command_pair", "csv_row")
FILTER_DOORS = ("admin_ticked", "admin_select_all", "command_course")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
