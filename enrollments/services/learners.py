"""Finding and creating the learners an enrolment names: by id, or by e-mail address, creating a
placeholder learner for an address nobody has (Teachify's enrollStudentToCourse: "If user
doesn't exist, a placeholder user will be created").

A learner created here has the e-mail address (normalised as Django does: the domain
lower-cased), the name split into first and last name at its first space (as lms migration
0003 split the old single name), no usable password and no staff rights. Creation runs in the
caller's transaction: the enrolment services create a learner and enrol them in one, so a
refused enrolment leaves no orphan user.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from enrollments.errors import CourseNotFound, InvalidEmail, NameRequired, UserNotFound
from lms.batching import chunked
from lms.identifiers import parse_uuid
from lms.models import Course, User
from lms.text import is_valid_text

#: The e-mail field's length (lms.models.User.email).
MAX_EMAIL_LENGTH = 254
#: First and last name are 255 characters each.
MAX_NAME_LENGTH = 255


def clean_email(value: str) -> str:
    """The address as stored (stripped, domain lower-cased); raises InvalidEmail."""
    email = (value or "").strip()
    if len(email) > MAX_EMAIL_LENGTH or not is_valid_text(email):
        raise InvalidEmail(repr(email[:80]))
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidEmail(repr(email[:80])) from None
    return User.objects.normalize_email(email)


def split_name(name: str) -> tuple[str, str]:
    """(first name, last name) of a full name, split at its first space. Raises NameRequired
    when the name is empty, not valid text (lms.text) or too long for the fields."""
    cleaned = " ".join((name or "").split())
    if not cleaned or not is_valid_text(cleaned):
        raise NameRequired()
    first, _, last = cleaned.partition(" ")
    if len(first) > MAX_NAME_LENGTH or len(last) > MAX_NAME_LENGTH:
        raise NameRequired("the name is too long (255 characters each for first and last name)")
    return first, last


def learner_get(user_id: object) -> User:
    """The user with that id (the API's userId). Raises UserNotFound, malformed ids alike."""
    pk = parse_uuid(user_id)
    user = User.objects.filter(pk=pk).first() if pk is not None else None
    if user is None:
        raise UserNotFound()
    return user


def learners_by_email(emails: Iterable[str]) -> dict[str, User]:
    """{lower-cased address: user} for the (cleaned) addresses that name a user; one query per
    chunk of addresses (the unique index on lower(email))."""
    found: dict[str, User] = {}
    for chunk in chunked(sorted({email.lower() for email in emails})):
        for user in User.objects.annotate(key=Lower("email")).filter(key__in=chunk):
            found[user.key] = user
    return found


def learners_by_id(ids: Iterable[object]) -> dict[object, User]:
    found: dict[object, User] = {}
    for chunk in chunked(list(set(ids))):
        found.update((user.pk, user) for user in User.objects.filter(pk__in=chunk))
    return found


def learner_find_or_create(*, email: str, name: str) -> User:
    """The learner with that address, else a new one (the module says how it is made), in the
    caller's transaction. Raises InvalidEmail or NameRequired (before any insert). Two
    requests creating the same learner at once: the unique index on lower(email) lets one
    insert, the other finds that learner."""
    email = clean_email(email)
    found = learners_by_email([email]).get(email.lower())
    if found is not None:
        return found
    first, last = split_name(name)
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password=None, first_name=first, last_name=last)
    except IntegrityError:
        found = learners_by_email([email]).get(email.lower())
        if found is None:
            raise
        return found


def course_find(value: str) -> Course:
    """The course with that id (a malformed or unknown id: CourseNotFound)."""
    pk = parse_uuid(value)
    course = Course.objects.filter(pk=pk).first() if pk is not None else None
    if course is None:
        raise CourseNotFound()
    return course
