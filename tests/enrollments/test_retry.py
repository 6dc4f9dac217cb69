"""enrollments.retry without a database conflict: which errors are retried, how often, and
that the mutation fields are wrapped. (The real deadlock: tests/hardening/test_deadlocks.py.)"""

import pytest
from django.db import OperationalError, transaction

from config.schema import schema
from enrollments import retry


class DriverError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        self.sqlstate = sqlstate


def conflict(sqlstate: str | None) -> OperationalError:
    error = OperationalError("aborted")
    error.__cause__ = DriverError(sqlstate)
    return error


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(retry.time, "sleep", lambda _seconds: None)


def failing(errors: list[Exception]):
    calls: list[int] = []

    def function() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "done"

    return function, calls


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_deadlocks_and_serialization_failures_are_retried(sqlstate):
    function, calls = failing([conflict(sqlstate), conflict(sqlstate)])
    assert retry.retry_on_conflict(function)() == "done"
    assert len(calls) == 3


def test_the_retry_is_bounded():
    function, calls = failing([conflict("40P01")] * (retry.MAX_ATTEMPTS + 1))
    with pytest.raises(OperationalError):
        retry.retry_on_conflict(function)()
    assert len(calls) == retry.MAX_ATTEMPTS


@pytest.mark.parametrize(
    "error", [conflict("57014"), conflict(None), OperationalError("locked"), ValueError("bug")]
)
def test_other_errors_are_not_retried(error):
    function, calls = failing([error])
    with pytest.raises(type(error)):
        retry.retry_on_conflict(function)()
    assert len(calls) == 1


@pytest.mark.django_db
def test_not_retried_inside_an_atomic_block():
    function, calls = failing([conflict("40P01")])
    with pytest.raises(OperationalError), transaction.atomic():
        retry.retry_on_conflict(function)()
    assert len(calls) == 1


def test_every_mutation_field_is_wrapped_once():
    fields = schema.graphql_schema.mutation_type.fields.values()
    assert all(getattr(field.resolve, "retries_conflicts", False) for field in fields)
    retry.retry_mutations(schema.graphql_schema)  # idempotent
    assert not any(
        getattr(field.resolve.__wrapped__, "retries_conflicts", False) for field in fields
    )
