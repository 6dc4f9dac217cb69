"""Domain errors: a stable code and the message users see, defined once for every adapter.

The first three messages are the API contract's, verbatim. Adapters map these exceptions to
their medium (GraphQL `extensions.code`, an admin message, a command's stderr and exit status)
and never invent their own wording.

The messages are the contract's English strings and stay so: each is marked with
`gettext_noop` only, so that `make messages` collects it for the catalogue while its value is
unchanged. The GraphQL door answers them as they are; the admin and the commands translate them
where they show them (`gettext(error.message)`, a template before its instants are filled in).
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import ClassVar

from django.utils.translation import gettext, gettext_noop, ngettext

from enrollments.access_window import MAX_ENDED_AT


def utc_text(instant: datetime) -> str:
    """How the core writes an instant in a message: ISO 8601 in UTC, `2038-01-19T03:14:07Z`."""
    return f"{instant.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


class Phrase:
    """Words for people whose English the core keeps (the API, the logs, stored text) and a door
    translates whole: a msgid and the values of its `%(name)s` placeholders, so that a sentence
    naming a value ("no learner with e-mail %(email)s") is one catalogue entry instead of an
    f-string no catalogue can hold. `str()` is the English; `translated()` the active
    language's (the admin and the commands call it). A value that is a Phrase itself (a
    refusal's reason inside its sentence) is translated with it.

    Write the msgid where the phrase is made, marked: `Phrase(gettext_noop("..."), name=value)`,
    or `Phrase.ngettext(singular, plural, count, ...)` for a sentence with a count."""

    def __init__(self, template: str, /, **values: object) -> None:
        self.template = template
        self.values = values
        self.plural = ""
        self.count: int | None = None

    @classmethod
    def ngettext(cls, singular: str, plural: str, count: int, /, **values: object) -> "Phrase":
        """A phrase with its plural form, chosen by `count`. Named as gettext's ngettext so that
        xgettext (`make messages`) collects both forms as one entry; nothing is translated
        here."""
        phrase = cls(singular, **values)
        phrase.plural, phrase.count = plural, count
        return phrase

    def __str__(self) -> str:
        singular = not self.plural or self.count == 1
        return self._filled(self.template if singular else self.plural, str)

    def translated(self) -> str:
        if self.plural:
            text = ngettext(self.template, self.plural, self.count or 0)
        else:
            text = gettext(self.template)
        return self._filled(text, lambda value: value.translated())

    def _filled(self, text: str, phrase_text) -> str:
        if not self.values:
            return text
        return text % {
            name: phrase_text(value) if isinstance(value, Phrase) else value
            for name, value in self.values.items()
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (
            self.template,
            self.plural,
            self.count,
            self.values,
        ) == (other.template, other.plural, other.count, other.values)

    __hash__ = None  # type: ignore[assignment]  (mutable values: not a dict key)

    def __repr__(self) -> str:
        return f"Phrase({str(self)!r})"


class DomainError(Exception):
    """Base of every business-rule error. `code` is stable; `message` is shown to users.

    Instants in the words are also data, so a door can write them in its reader's zone while
    the core (the API, the commands, the logs) keeps UTC (issue 26: the admin showed the 2038
    limit in ISO UTC to a staff member in Berlin): a class whose `message` names an instant
    also has `message_template` with `{placeholders}` and `message_instants`; a detail naming
    instants is given as a template with `instants=` (it is stored written in UTC as `detail`).
    `text(write)` gives the message and detail with each instant written by `write`.

    A detail naming other values is given as a Phrase (its English is `detail`, the admin and
    the commands show `detail_phrase.translated()`); a message an instance words otherwise than
    its class (a webhook URL's reason) is `phrase`, its English `message`."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    message: ClassVar[str] = gettext_noop("The operation is not allowed")
    #: `message` with its instants as placeholders ("" when it names none); written with
    #: `utc_text` it is `message`, word for word (tested).
    message_template: ClassVar[str] = ""
    message_instants: ClassVar[Mapping[str, datetime]] = {}
    #: This instance's message as a Phrase, when it is not the class's (None: `message`).
    phrase: Phrase | None = None

    def __init__(
        self,
        detail: str | Phrase | None = None,
        *,
        instants: Mapping[str, datetime] | None = None,
    ) -> None:
        #: Optional context for logs and operators (which row, which value); never replaces
        #: the contract's message.
        self.instants = dict(instants or {})
        self.detail_phrase = detail if isinstance(detail, Phrase) else None
        if isinstance(detail, Phrase):
            detail = str(detail)
        self.detail_template = detail
        self.detail = _fill(detail, self.instants, utc_text) if detail else detail
        super().__init__(self.message)

    def __reduce__(self):  # keep pickling (multiprocessing, caches) working with `detail`
        return (type(self), (self.detail,), dict(vars(self)))

    def text(self, write: Callable[[datetime], str] = utc_text) -> tuple[str, str | None]:
        """(message, detail) with every instant they name written by `write` (by default as
        the core writes it, in UTC)."""
        message = self.message
        if self.message_template and message == type(self).message:
            message = _fill(self.message_template, self.message_instants, write)
        detail = self.detail
        if self.detail_template and self.instants:
            detail = _fill(self.detail_template, self.instants, write)
        return message, detail


def _fill(template: str, instants: Mapping[str, datetime], write) -> str:
    if not instants:
        return template
    return template.format_map({name: write(value) for name, value in instants.items()})


class NotEnrolled(DomainError):
    code = "NOT_ENROLLED"
    message = gettext_noop("Student is not enrolled in this course")


class InvalidExtensionPeriod(DomainError):
    code = "INVALID_EXTENSION_PERIOD"
    message = gettext_noop("Invalid extension period")


class NoEndDate(DomainError):
    code = "NO_END_DATE"
    message = gettext_noop("Current enrollment has no end date")


class StillExpired(DomainError):
    """Bulk only: the extension would leave the enrollment expired, so it is skipped."""

    code = "STILL_EXPIRED"
    message = gettext_noop("Access would still be expired after the extension")


class AlreadyPaused(DomainError):
    code = "ALREADY_PAUSED"
    message = gettext_noop("Course membership is already paused")


class NotPaused(DomainError):
    code = "NOT_PAUSED"
    message = gettext_noop("Course membership is not paused")


class MembershipNotFound(DomainError):
    code = "NOT_FOUND"
    message = gettext_noop("Course membership not found")


class AlreadyEnrolled(DomainError):
    code = "ALREADY_ENROLLED"
    message = gettext_noop("Student is already enrolled in this course")


class AccessEndOutOfRange(DomainError):
    code = "ACCESS_END_OUT_OF_RANGE"
    message = gettext_noop(
        "Access would end after 2038-01-19T03:14:07Z, the latest supported end date"
    )
    # Translators: keep {limit} as it is: the latest end date, written in the reader's zone.
    message_template = gettext_noop("Access would end after {limit}, the latest supported end date")
    message_instants = {"limit": MAX_ENDED_AT}


class ItemNotInCourse(DomainError):
    code = "ITEM_NOT_IN_COURSE"
    message = gettext_noop("Course item does not belong to this course")


class NoAccess(DomainError):
    code = "NO_ACCESS"
    message = gettext_noop("Course membership gives no access at this time")


class CourseItemNotFound(DomainError):
    code = "NOT_FOUND"
    message = gettext_noop("Course item not found")


class InvalidReason(DomainError):
    code = "INVALID_REASON"
    message = gettext_noop(
        "A reason is at most 1000 characters of valid text and contains no NUL character"
    )


class ChangedSincePreview(DomainError):
    """A confirmed preview no longer matches what applying would do (another change came
    first, or the same preview was confirmed twice): nothing was applied. `plan` is what
    applying would do now, for the door to show as the new preview."""

    code = "CHANGED_SINCE_PREVIEW"
    message = gettext_noop("The enrollments changed since the preview: nothing was applied")

    def __init__(self, detail: str | Phrase | None = None, *, plan=None) -> None:
        super().__init__(detail)
        self.plan = plan


class ExtensionOverCourseLimit(DomainError):
    """A change by a course's staff that would add more days than the course allows them
    (lms.Course.staff_max_extension_days; operations/limits.py). Managers and global staff are
    not limited."""

    code = "EXTENSION_OVER_COURSE_LIMIT"
    message = gettext_noop("This change adds more days of access than the course allows its staff")


class ReasonRequired(DomainError):
    """A change by a course's staff without a reason, where the course requires one
    (lms.Course.staff_reason_required)."""

    code = "REASON_REQUIRED"
    message = gettext_noop("This course requires a reason for every access change by its staff")


class EnrollmentRemoved(DomainError):
    """The learner was removed from the course: enroll them again before changing access."""

    code = "ENROLLMENT_REMOVED"
    message = gettext_noop("Student was removed from this course")


class AlreadyRemoved(DomainError):
    code = "ALREADY_REMOVED"
    message = gettext_noop("Student is already removed from this course")


class InvalidAccessEnd(DomainError):
    """End access: customEndedAt must be an instant after 2020-01-01 (Teachify's rule) and
    no later than the 2038 limit."""

    code = "INVALID_ACCESS_END"
    message = gettext_noop(
        "Invalid end of access: use an instant after 2020-01-01 and before 2038-01-19"
    )


class EndNotEarlier(DomainError):
    """End access / set an earlier end: the new end must be earlier than the current one
    (use an extension to move it later)."""

    code = "END_NOT_EARLIER"
    message = gettext_noop("The new end must be earlier than the current end of access")


class InvalidShortening(DomainError):
    """Shorten by N days (the admin's correction of an over-extension): N must be a whole
    number of days from 1 to MAX_SHORTEN_DAYS (operations/shortening.py)."""

    code = "INVALID_SHORTENING"
    message = gettext_noop("Shorten by a whole number of days from 1 to 36500")


class EndBeforeStart(DomainError):
    """Shorten by N days: the new end would fall before the enrollment's start."""

    code = "END_BEFORE_START"
    message = gettext_noop("The new end would be before the start of access")


class EndChangedSince(DomainError):
    """Restore the end before a change: the end is no longer the one that change set (a
    later change moved it), so putting the older end back would also undo that later change."""

    code = "END_CHANGED_SINCE"
    message = gettext_noop("The end of access changed after this change: it was left as it is")


class BatchNotFound(DomainError):
    code = "BATCH_NOT_FOUND"
    message = gettext_noop("No access changes with this batch id")


class BatchRunUnfinished(DomainError):
    """Undo: the batch is a background run's that is still queued, running or failed (not
    done or cancelled): undoing now would restore the chunks committed so far while the run
    goes on to change the rest under the same batch. Refused whole, nothing changed."""

    code = "BATCH_RUN_UNFINISHED"
    message = gettext_noop(
        "This batch's run is unfinished: undo it once the run is done or cancelled"
    )


class ChangedSinceBatch(DomainError):
    """Undo: the enrollment changed after the batch (a later audit row), so undoing would
    overwrite that change: the row is skipped."""

    code = "CHANGED_SINCE_BATCH"
    message = gettext_noop("The enrollment changed after this batch: it was left as it is")


class NotUndoable(DomainError):
    """Undo: the batch's row does not record the whole state before it (written before undo
    existed), or the batch is itself an undo already undone."""

    code = "NOT_UNDOABLE"
    message = gettext_noop("This change cannot be undone: its earlier state was not recorded")


class EnrollmentTargetRequired(DomainError):
    code = "USER_ID_OR_EMAIL_REQUIRED"
    message = gettext_noop("Either userId or email must be provided")


class InvalidEmail(DomainError):
    code = "INVALID_EMAIL"
    message = gettext_noop("Enter a valid email address")


class NameRequired(DomainError):
    code = "NAME_REQUIRED"
    message = gettext_noop("Name is required when creating a new user")


class PlansNotSupported(DomainError):
    code = "PLANS_NOT_SUPPORTED"
    message = gettext_noop("Curriculum plans are not supported: leave planId out")


class UserNotFound(DomainError):
    code = "NOT_FOUND"
    message = gettext_noop("User not found")


class CourseNotFound(DomainError):
    code = "NOT_FOUND"
    message = gettext_noop("Course not found")


class DuplicateEntry(DomainError):
    """Bulk enrollment only: a second line naming a learner and course already listed."""

    code = "DUPLICATE_ENTRY"
    message = gettext_noop("This learner and course are already listed on an earlier line")


class EnrollmentChangedSincePreview(DomainError):
    """A run bound to its preview (an admin Confirm done in the background) found the
    enrollment changed since the preview: it is skipped, never changed to something that was
    not shown."""

    code = "ENROLLMENT_CHANGED_SINCE_PREVIEW"
    message = gettext_noop("The enrollment changed since the preview: it was left as it is")


class RunUnfinished(DomainError):
    """An identical run (same operation, same selection) is queued, running or failed: one of
    them at a time, so the rows it already changed are not changed twice. `run_id` names it."""

    code = "RUN_UNFINISHED"
    message = gettext_noop("An identical run is unfinished: resume it instead of starting another")

    def __init__(self, detail: str | Phrase | None = None, *, run_id=None) -> None:
        super().__init__(detail)
        self.run_id = run_id


class RunNotFound(DomainError):
    code = "RUN_NOT_FOUND"
    message = gettext_noop("No such run")


# Webhook endpoints (enrollments/events/endpoints.py: the API, the admin, `manage.py webhooks`).


class WebhookNotFound(DomainError):
    code = "NOT_FOUND"
    message = gettext_noop("Webhook not found")


class InvalidWebhookUrl(DomainError):
    """The URL is refused: not a URL, not https, or its host resolves to an address deliveries
    must not reach. The message is targets.check_url's when it gave one."""

    code = "INVALID_WEBHOOK_URL"
    message = gettext_noop("Enter a valid https URL whose host is publicly reachable")

    def __init__(self, detail: str | None = None, *, reason: Phrase | None = None) -> None:
        super().__init__(detail)
        if reason:
            # Shadows the class's default for this refusal: its English for the API, the
            # phrase for the doors that translate (the admin's form, `manage.py webhooks`).
            self.phrase = reason
            self.message = str(reason)
            self.args = (self.message,)


class UnknownEventType(DomainError):
    code = "UNKNOWN_EVENT_TYPE"
    message = gettext_noop(
        "Unknown event type: use course_membership.created, course_membership.updated or "
        "course_membership.deleted (or COURSE_MEMBERSHIP_CREATED, _UPDATED, _DELETED)"
    )


class UnknownScheme(DomainError):
    code = "UNKNOWN_SIGNATURE_SCHEME"
    message = gettext_noop("Unknown signature scheme: use standard or healthie")


class InvalidOwnerEmail(DomainError):
    code = "INVALID_EMAIL"
    message = gettext_noop("Enter a valid email address")


class DescriptionTooLong(DomainError):
    code = "DESCRIPTION_TOO_LONG"
    message = gettext_noop("A description is at most 200 characters")


class InvalidDescription(DomainError):
    """A description that PostgreSQL cannot store as text (lms.text: a NUL character or an
    unpaired surrogate)."""

    code = "INVALID_DESCRIPTION"
    message = gettext_noop("A description must be valid text (no NUL character)")


class DeliveryNotFound(DomainError):
    code = "NOT_FOUND"
    message = gettext_noop("Webhook delivery not found")


class WebhookDisabled(DomainError):
    code = "WEBHOOK_DISABLED"
    message = gettext_noop(
        "The webhook is disabled: enable it before resending or replaying its events"
    )


class InvalidRotationOverlap(DomainError):
    code = "INVALID_ROTATION_OVERLAP"
    message = gettext_noop(
        "The previous secret may keep signing for 0 seconds to 7 days after a rotation"
    )


#: Every domain error: the README's table of error codes is checked against these
#: (tests/test_readme.py). Two errors may share a code (NOT_FOUND), so this is a tuple.
ALL_ERRORS: tuple[type[DomainError], ...] = (
    NotEnrolled,
    InvalidExtensionPeriod,
    NoEndDate,
    StillExpired,
    AlreadyPaused,
    NotPaused,
    MembershipNotFound,
    AlreadyEnrolled,
    AccessEndOutOfRange,
    ItemNotInCourse,
    NoAccess,
    CourseItemNotFound,
    InvalidReason,
    ExtensionOverCourseLimit,
    ReasonRequired,
    ChangedSincePreview,
    EnrollmentRemoved,
    AlreadyRemoved,
    InvalidAccessEnd,
    EndNotEarlier,
    BatchNotFound,
    BatchRunUnfinished,
    ChangedSinceBatch,
    NotUndoable,
    EnrollmentTargetRequired,
    InvalidEmail,
    NameRequired,
    PlansNotSupported,
    UserNotFound,
    CourseNotFound,
    DuplicateEntry,
    EnrollmentChangedSincePreview,
    RunUnfinished,
    RunNotFound,
    WebhookNotFound,
    InvalidWebhookUrl,
    UnknownEventType,
    UnknownScheme,
    InvalidOwnerEmail,
    DescriptionTooLong,
    InvalidDescription,
    DeliveryNotFound,
    WebhookDisabled,
    InvalidRotationOverlap,
)


def message_of(code: str) -> str:
    """The message of the domain error with this code (the first in ALL_ERRORS when two share
    it), else the code itself: what a door shows for a code stored without its error (a run's
    skipped row)."""
    for error in ALL_ERRORS:
        if error.code == code:
            return error.message
    return code
