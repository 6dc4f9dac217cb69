"""Creating the learner an enrollment names by an e-mail address nobody has: a placeholder
learner (Teachify's enrollStudentToCourse: "If user doesn't exist, a placeholder user will be
created").

A learner created here has the e-mail address (normalised as Django does: the domain
lower-cased), the name split into first and last name at its first space (as lms migration
0003 split the old single name), no usable password and no staff rights. Creation runs in the
caller's transaction: operations/enrolling_learners.py creates a learner and enrolls them in
one, so a refused enrollment leaves no orphan user. Finding learners is a read:
selectors/by_key.py (many) and selectors/by_id.py (one).
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from enrollments.errors import InvalidEmail, NameRequired
from enrollments.selectors.by_key import learners_by_email
from lms.models import User
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
        raise NameRequired(
            gettext_noop("the name is too long (255 characters each for first and last name)")
        )
    return first, last


def learner_find_or_create(*, email: str, name: str) -> User:
    """The learner with that address, else a new one (the module says how it is made), in the
    caller's transaction. Raises InvalidEmail or NameRequired (before any insert). Two
    requests creating the same learner at once: the unique index on lower(email) lets one
    insert, the other waits for it and then finds that learner. Only the IntegrityError of
    that wait is caught here: a caller creating several learners in one transaction creates
    them in lower(email) order (enrolling_learners.apply_entries), so two such callers never
    hold an address each that the other waits for (a deadlock, which no retry here could
    answer: the caller's whole transaction is aborted)."""
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
