"""What the measurements need from the data set: an API key, the deep cursor, pools of ids.

All taken with the project's own code (the API's cursor encoder, its API key model), at set-up
time, outside anything timed.
"""

import random
from dataclasses import dataclass

from django.contrib.auth.models import Permission

from apikeys.models import APIKey
from enrollments.graphql.pagination import encode_cursor
from enrollments.models import Enrollment
from lms.models import Course, User

BENCH_USER_EMAIL = "bench-api@bench.example"
#: The bench user may read everyone's memberships and extend access, nothing more.
PERMISSIONS = ("view_enrollment", "extend_access")
#: The depth of measurement 1's deep page, and the same fraction of smaller data sets.
DEEP_ROWS = 900_000
DEEP_FRACTION = 0.9


@dataclass(frozen=True, slots=True)
class ExtensionTarget:
    """An enrollment an extension is sent to."""

    enrollment_id: str
    user_id: str
    course_id: str


def bench_user() -> User:
    """A staff user with exactly PERMISSIONS: a machine client, not a superuser."""
    user, _ = User.objects.get_or_create(
        email=BENCH_USER_EMAIL,
        defaults={"first_name": "Benchmark", "last_name": "client", "is_staff": True},
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="enrollments", codename__in=PERMISSIONS)
    )
    return user


def api_key() -> str:
    """A fresh API key of the bench user (earlier runs' keys are deleted)."""
    user = bench_user()
    APIKey.objects.filter(user=user).delete()
    _, raw_key = APIKey.objects.create_key(user=user, name="benchmark")
    return raw_key


def deep_position(total: int) -> int:
    """How many rows lie before the deep page: 900,000, or 90% of a smaller data set."""
    return min(DEEP_ROWS, int(total * DEEP_FRACTION))


def cursor_at(offset: int) -> str:
    """The API's cursor of the row at `offset` in the default order (one OFFSET query, at
    set-up time only): the page `after` it starts `offset + 1` rows deep."""
    row = Enrollment.objects.order_by("created_at", "id").only("id", "created_at")[offset]
    return encode_cursor(row)


def sample_cursors(count: int, rng: random.Random) -> list[str]:
    """Cursors of rows spread over the whole table (TABLESAMPLE: no full sort)."""
    total = Enrollment.objects.count()
    percent = min(100.0, max(0.01, 100.0 * count * 3 / max(total, 1)))
    rows = list(
        Enrollment.objects.raw(
            "SELECT id, created_at FROM enrollments_enrollment "  # noqa: S608, S611 - numbers
            f"TABLESAMPLE SYSTEM ({percent:.4f}) LIMIT {count * 3}"
        )
    )
    rng.shuffle(rows)
    return [encode_cursor(row) for row in rows[:count]]


def course_ids(count: int, rng: random.Random) -> list[str]:
    ids = [str(pk) for pk in Course.objects.values_list("pk", flat=True)]
    return rng.sample(ids, min(count, len(ids)))


def user_ids(count: int, rng: random.Random) -> list[str]:
    ids = [
        str(pk)
        for pk in User.objects.exclude(email=BENCH_USER_EMAIL)
        .order_by("pk")
        .values_list("pk", flat=True)[: count * 20]
    ]
    return rng.sample(ids, min(count, len(ids)))


def extension_targets(count: int, *, from_end: bool = False) -> list[ExtensionTarget]:
    """Enrollments with an end date (so extending by days is valid), spread over the table by
    their random ids; `from_end` takes them from the other end of the id order (a disjoint set
    for another measurement)."""
    rows = (
        Enrollment.objects.filter(ended_at__isnull=False)
        .order_by("-pk" if from_end else "pk")
        .values_list("pk", "user_id", "course_id")[:count]
    )
    return [ExtensionTarget(str(pk), str(user), str(course)) for pk, user, course in rows]


def ended_at_of(enrollment_ids: list[str]) -> dict[str, object]:
    return {
        str(pk): ended_at
        for pk, ended_at in Enrollment.objects.filter(pk__in=enrollment_ids).values_list(
            "pk", "ended_at"
        )
    }
