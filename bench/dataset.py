"""The benchmark's data set: users, courses of ordered items, enrollments with progress spread
over them. Written with PostgreSQL COPY (psycopg 3 `cursor.copy`) and one INSERT ... SELECT for
the item completions, never one save at a time.

The shape is a parameter (`Shape`); the default is one million enrollments over 1,000 courses
of 20 items each, ten courses per user (100,000 users). Generation is seeded: the same shape
and seed give the same rows, apart from the times, which are relative to `now`.

- Enrollments are created over the two years before `now`, in a shuffled order of (user,
  course) pairs, so `created_at` follows the table's physical order (as rows inserted over time
  do) while users and courses do not.
- 2% have not started yet, 3% are paused, 10% of the courses give indefinite access and the
  others 90 to 730 days: a realistic mix of active, expired, not-started and paused rows.
- Progress: the number of completed items (first ones by position) is `(items + 1) * u**2` for
  a uniform `u`: about a fifth of the enrollments have not started, a few percent are complete,
  the mean is a third of the items.

Large builds drop the secondary indexes and constraints of the two big tables, load, and create
them again (much faster than maintaining them row by row); the whole build is one transaction,
so a failure leaves the previous data set and every index in place.
"""

import json
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from enrollments.progress import course_status

#: Tables whose secondary indexes and constraints a large build drops and re-creates.
BIG_TABLES = ("enrollments_enrollment", "enrollments_itemcompletion")
#: Below this many enrollments, indexes are kept during the load (and the build may run inside
#: a test's transaction).
DROP_INDEXES_FROM = 100_000

ACCESS_DAYS_CYCLE = (90, 180, 365, 730)
ITEM_KINDS = ("lesson", "video", "quiz", "assignment")
#: The benchmark's record of what it built, read back by `--skip-load`.
META_TABLE = "bench_dataset"


@dataclass(frozen=True, slots=True)
class Shape:
    enrollments: int = 1_000_000
    courses: int = 1_000
    items_per_course: int = 20
    courses_per_user: int = 10
    seed: int = 20260101

    def normalized(self) -> "Shape":
        """The same request with its parts made consistent for small sizes."""
        enrollments = max(1, self.enrollments)
        courses = max(1, min(self.courses, enrollments))
        return Shape(
            enrollments=enrollments,
            courses=courses,
            items_per_course=max(1, self.items_per_course),
            courses_per_user=max(1, min(self.courses_per_user, courses)),
            seed=self.seed,
        )

    @property
    def users(self) -> int:
        return math.ceil(self.enrollments / self.courses_per_user)


@dataclass(frozen=True, slots=True)
class BuildStats:
    shape: Shape
    users: int
    enrollments: int
    completions: int
    seconds: float
    built_at: datetime

    def as_dict(self) -> dict:
        return {
            **{key: value for key, value in asdict(self).items() if key != "shape"},
            "shape": asdict(self.shape),
            "built_at": self.built_at.isoformat(),
        }


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _secondary_definitions(table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(constraints other than the primary key, indexes that back no constraint) of `table`, as
    (name, SQL to create it) pairs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype <> 'p' ORDER BY conname",
            [table],
        )
        constraints = [
            (name, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for name, definition in cursor.fetchall()
        ]
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname",
            [table],
        )
        indexes = list(cursor.fetchall())
    return constraints, indexes


def _drop_secondary(table: str) -> list[str]:
    """Drops the secondary constraints and indexes of `table`; returns the SQL that re-creates
    them (indexes first, then constraints, whose checks then run once, set-based)."""
    constraints, indexes = _secondary_definitions(table)
    with connection.cursor() as cursor:
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in indexes] + [sql for _, sql in constraints]


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE enrollments_itemcompletion, enrollments_accesschange, "
            "enrollments_expiryreminder, enrollments_enrollment, lms_courseitem, lms_courserole, "
            "lms_course, "
            "apikeys_apikey, lms_user_user_permissions, lms_user_groups, lms_user CASCADE"
        )


def _copy(sql: str, rows) -> int:
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def build(
    shape: Shape,
    *,
    now: datetime,
    drop_indexes: bool | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> BuildStats:
    """Replaces every user, course and enrollment of the database with a generated data set.

    Never run it against a database that holds anything of value: it truncates the tables.
    Must run in PostgreSQL; inside a transaction (a test's) only when `drop_indexes` is False.
    """
    shape = shape.normalized()
    if drop_indexes is None:
        drop_indexes = shape.enrollments >= DROP_INDEXES_FROM
    started = datetime.now().astimezone()
    rng = random.Random(shape.seed)  # noqa: S311 - reproducible data, not secrets
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        _truncate()
        recreate: list[str] = []
        if drop_indexes:
            for table in BIG_TABLES:
                recreate += _drop_secondary(table)

        progress(f"users: {shape.users:,}")
        user_ids = [_uuid(rng) for _ in range(shape.users)]
        _copy(
            "COPY lms_user (id, password, is_superuser, email, first_name, last_name, is_staff, "
            "is_active, date_joined, time_zone, language) FROM STDIN",
            (
                (
                    user_id,
                    "!",
                    False,
                    f"learner{n}@bench.example",
                    "Learner",
                    str(n),
                    False,
                    True,
                    now,
                    "",  # not chosen: the admin shows UTC
                    "",  # not chosen: e-mails in LANGUAGE_CODE
                )
                for n, user_id in enumerate(user_ids)
            ),
        )

        progress(f"courses: {shape.courses:,} of {shape.items_per_course} items")
        course_ids = [_uuid(rng) for _ in range(shape.courses)]
        access_days = [
            None if n % 10 == 9 else ACCESS_DAYS_CYCLE[n % len(ACCESS_DAYS_CYCLE)]
            for n in range(shape.courses)
        ]
        _copy(
            "COPY lms_course (id, slug, title, description, access_days, pause_freezes_access, "
            "staff_reason_required, created_at, updated_at) FROM STDIN",
            (
                (
                    course_id,
                    f"course-{n}",
                    f"Course {n}",
                    "",
                    access_days[n],
                    n % 3 != 0,
                    False,
                    now,
                    now,
                )
                for n, course_id in enumerate(course_ids)
            ),
        )
        _copy(
            "COPY lms_courseitem (id, course_id, title, description, kind, position, created_at, "
            "updated_at) FROM STDIN",
            (
                (
                    _uuid(rng),
                    course_id,
                    f"Item {p} of course {n}",
                    "",
                    ITEM_KINDS[p % 4],
                    p,
                    now,
                    now,
                )
                for n, course_id in enumerate(course_ids)
                for p in range(1, shape.items_per_course + 1)
            ),
        )

        progress(f"enrollments: {shape.enrollments:,}")
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_progress (enrollment_id uuid, course_id uuid, "
                "start_at timestamptz, completed smallint) ON COMMIT DROP"
            )
        order = list(range(shape.enrollments))
        rng.shuffle(order)
        span = timedelta(days=730)
        spacing = span / shape.enrollments
        first_created = now - span
        step = max(1, shape.courses // shape.courses_per_user)
        progress_rows: list[tuple] = []

        def enrollment_rows():
            for position, pair in enumerate(order):
                user, slot = divmod(pair, shape.courses_per_user)
                course = (user + slot * step) % shape.courses
                created_at = first_created + spacing * (position + rng.random() * 0.5)
                started = rng.random() >= 0.02
                start_at = created_at if started else now + timedelta(days=rng.uniform(1, 60))
                days = access_days[course]
                ended_at = None if days is None else start_at + timedelta(days=days)
                paused_at = None
                if started and rng.random() < 0.03:
                    paused_at = max(start_at, now - timedelta(days=rng.uniform(0, 30)))
                paused_total = rng.randrange(3600, 30 * 86400) if rng.random() < 0.1 else 0
                items = shape.items_per_course
                completed = min(items, int((items + 1) * rng.random() ** 2)) if started else 0
                enrollment_id = _uuid(rng)
                if completed:
                    progress_rows.append((enrollment_id, course_ids[course], start_at, completed))
                yield (
                    enrollment_id,
                    user_ids[user],
                    course_ids[course],
                    start_at,
                    ended_at,
                    paused_at is not None,
                    paused_at,
                    paused_total,
                    completed,
                    course_status(completed=completed, total=items),
                    created_at,
                    paused_at or created_at,
                )

        enrollments = _copy(
            "COPY enrollments_enrollment (id, user_id, course_id, start_at, ended_at, is_paused, "
            "paused_at, total_paused_duration, items_completed, course_status, created_at, "
            "updated_at) FROM STDIN",
            enrollment_rows(),
        )
        _copy(
            "COPY bench_progress (enrollment_id, course_id, start_at, completed) FROM STDIN",
            progress_rows,
        )

        progress("item completions")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO enrollments_itemcompletion (enrollment_id, item_id, completed_at) "
                "SELECT p.enrollment_id, i.id, "
                "LEAST(p.start_at + i.position * interval '1 hour', %s) "
                "FROM bench_progress p JOIN lms_courseitem i "
                "ON i.course_id = p.course_id AND i.position <= p.completed",
                [now],
            )
            completions = cursor.rowcount
            if recreate:
                progress(f"indexes and constraints: {len(recreate)}")
            for sql in recreate:
                cursor.execute(sql)
        stats = BuildStats(
            shape=shape,
            users=shape.users,
            enrollments=enrollments,
            completions=completions,
            seconds=(datetime.now().astimezone() - started).total_seconds(),
            built_at=now,
        )
        _record(stats)
    return stats


def _record(stats: BuildStats) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (id int PRIMARY KEY, stats jsonb)")
        cursor.execute(
            f"INSERT INTO {META_TABLE} (id, stats) VALUES (1, %s) "  # noqa: S608 - a constant
            "ON CONFLICT (id) DO UPDATE SET stats = EXCLUDED.stats",
            [json.dumps(stats.as_dict())],
        )


def recorded() -> dict | None:
    """What the last build recorded, or None when this database holds no benchmark data set."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [META_TABLE])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT stats FROM {META_TABLE} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def vacuum_analyze() -> None:
    """Fresh statistics and visibility maps after a load (outside any transaction)."""
    with connection.cursor() as cursor:
        for table in ("lms_user", "lms_course", "lms_courseitem", *BIG_TABLES):
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')


def analyze() -> None:
    """Fresh statistics; unlike VACUUM, works inside a transaction (a test's)."""
    with connection.cursor() as cursor:
        for table in ("lms_user", "lms_course", "lms_courseitem", *BIG_TABLES):
            cursor.execute(f'ANALYZE "{table}"')
