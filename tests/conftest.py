"""Fixtures shared by the whole suite."""

from datetime import UTC, datetime, timedelta

import pytest

from apikeys import permission_cache
from enrollments import fastpaths
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    OperatorFactory,
    StaffFactory,
    UserFactory,
)
from tests.fuzzing import load_profile

# Before any test module builds its hypothesis settings (tests/fuzzing.py: ci, dev, fuzz).
load_profile()


class FrozenClock:
    """A settable clock that replaces enrollments.clock.now for one test."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant


#: Fixtures through which a test reaches a database (not django_db_setup and
#: django_db_blocker: pytest-django's autouse fixtures give every test those; a test that
#: unblocks the database itself says which one it needs with requires_postgres).
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
    | {"live_server"}
)


def pytest_addoption(parser):
    parser.addoption(
        "--database-dependent-only",
        action="store_true",
        help="run only the tests a second database can change: those that reach the database "
        "and are not browser tests (CI's PostgreSQL suite; its SQLite suite ran every test)",
    )
    parser.addoption(
        "--keep-database-free",
        action="append",
        default=[],
        metavar="PATH",
        help="with --database-dependent-only, keep the tests under PATH that reach no database "
        "too (CI's PostgreSQL suite runs with every fast path off, so every GraphQL test runs "
        "once with them on, in the SQLite suite, and once off, there)",
    )


def uses_database(item) -> bool:
    """Whether a test reaches the database (a django_db mark or a database fixture), or says
    which database it needs (a skipif such as requires_postgres)."""
    return (
        item.get_closest_marker("django_db") is not None
        or item.get_closest_marker("skipif") is not None
        or bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))
    )


def pytest_collection_modifyitems(config, items):
    """With --database-dependent-only, deselects the browser tests and the tests that reach
    no database: the same code with the same result on either database, so CI runs them once,
    in the SQLite suite (the PostgreSQL suite is then about a minute shorter; README "CI").
    Then marks the transactional tests and starts the long database-free ones first (below)."""
    if config.getoption("--database-dependent-only"):
        also = tuple(config.getoption("--keep-database-free"))
        kept = [
            i
            for i in items
            if (uses_database(i) or (also and i.nodeid.startswith(also)))
            and i.get_closest_marker("browser") is None
        ]
        keep = set(kept)
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = kept
    allow_every_database_alias(items)
    long_ones_first(items)


#: Database-free tests that each take a worker for a minute or more (the docs' examples, one
#: process per example).
LONG_AND_DATABASE_FREE = ("tests/test_docs_commands.py",)


def long_ones_first(items):
    """Starts the longest database-free tests first. pytest-django puts the tests that reach no
    database last, so the docs' examples (commands.md alone is over a minute) ran at the very
    end, on one worker, while the other waited: first, they run beside everything else.
    Tests that use the database keep pytest-django's order (transactional ones last)."""
    first = [i for i in items if i.nodeid.startswith(LONG_AND_DATABASE_FREE)]
    if first:
        rest = [i for i in items if not i.nodeid.startswith(LONG_AND_DATABASE_FREE)]
        items[:] = first + rest


def allow_every_database_alias(items):
    """Transactional tests may use every database alias: outside a transaction the API's query
    reads go to the `api_reads` connection (a mirror of default carrying PostgreSQL's statement
    timeout: enrollments.graphql.statement_timeout), which pytest-django refuses unless the test
    names it. Tests wrapped in a transaction (the `db` fixture) read on default and need nothing."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None:
            transactional = marker.kwargs.get("transaction", False)
            if transactional and "databases" not in marker.kwargs:
                kwargs = {**marker.kwargs, "databases": "__all__"}
                item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)
        elif {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.django_db(transaction=True, databases="__all__"))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 is slow on purpose; tests hash many passwords and need none of that strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_permission_cache():
    """API keys' permission sets are kept per process (apikeys.permission_cache): no test
    sees another's."""
    permission_cache.clear()
    yield
    permission_cache.clear()


@pytest.fixture(params=["fast paths on", "fast paths off"])
def fast_paths(request):
    """Runs a test twice in the same run: with every fast path on (those whose signature
    check passed; enrollments/fastpaths), then with every one off, the public path. A test
    module opts in with `pytestmark = pytest.mark.usefixtures("fast_paths")`. The whole suite
    runs with them off under FASTPATHS_DISABLED=all."""
    on = request.param == "fast paths on"
    names = [name for name, path in fastpaths.REGISTRY.items() if path.mismatch is None]
    with fastpaths.switched(names, on=on):
        yield on


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    """Freezes the one clock (enrollments.clock) at 2026-01-01T00:00:00Z; `clock.advance(days=3)`
    moves it."""
    frozen = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    monkeypatch.setattr("enrollments.clock.now", frozen)
    return frozen


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def operator(db):
    """A staff member allowed every operation everywhere (factories.OperatorFactory)."""
    return OperatorFactory()


@pytest.fixture
def course(db):
    return CourseFactory()


@pytest.fixture
def enrollment(db, clock):
    """Started 10 days before the frozen now, ends 30 days after it."""
    return EnrollmentFactory(
        start_at=clock.current - timedelta(days=10), ended_at=clock.current + timedelta(days=30)
    )
