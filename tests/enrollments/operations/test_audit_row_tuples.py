"""The core's audit rows as tuples (writing.audit_rows, issue 22: the bulk path's Python time):
row by row the values audit_values gives, in audit.AUDIT_COLUMNS order, each with a new
version-7 id, in the changes' order (enrollments/ids.py); save_audit_rows writes a tuple as it
writes the mapping, on either database."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from enrollments.models import AccessChange
from enrollments.operations import Change, State
from enrollments.operations.audit import AUDIT_COLUMNS, Attribution, save_audit_rows
from enrollments.operations.writing import audit_rows, audit_values
from tests.factories import EnrollmentFactory, StaffFactory

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
BEFORE = State(
    ended_at=NOW + timedelta(days=3),
    paused_at=None,
    total_paused_duration=7,
    removed_at=None,
)


@dataclass(frozen=True, slots=True)
class UndoingChange(Change):
    """A change carrying the batch it undoes, as an undo's changes do."""

    undoes_batch_id: uuid.UUID | None = None


def changes_of_every_shape() -> list[Change]:
    paused = BEFORE.but(is_paused=True, paused_at=NOW - timedelta(hours=5))
    return [
        # An extension: only the end moves.
        Change(uuid.uuid4(), AccessChange.Action.EXTEND, BEFORE, BEFORE.but(ended_at=NOW)),
        # A pause: the pause state moves (old and new recorded).
        Change(uuid.uuid4(), AccessChange.Action.PAUSE, BEFORE, paused),
        # A resume: paused seconds, and a whole state before.
        Change(
            uuid.uuid4(),
            AccessChange.Action.RESUME,
            paused,
            BEFORE.but(total_paused_duration=18007),
            paused_seconds=18000,
        ),
        # A removal mark before (an enrolment again) and an enrollment created (no before).
        Change(
            uuid.uuid4(),
            AccessChange.Action.ENROLL,
            BEFORE.but(removed_at=NOW - timedelta(days=1)),
            BEFORE,
        ),
        Change(uuid.uuid4(), AccessChange.Action.ENROLL, None, BEFORE.but(is_paused=True)),
        # An undo names the batch it undoes.
        UndoingChange(
            uuid.uuid4(),
            AccessChange.Action.UNDO,
            BEFORE,
            BEFORE.but(ended_at=None),
            undoes_batch_id=uuid.uuid4(),
        ),
    ]


@pytest.mark.parametrize(
    "by",
    [
        Attribution(None, AccessChange.Source.SYSTEM),
        Attribution(None, AccessChange.Source.ADMIN, " why ", batch_id=uuid.uuid4()),
    ],
    ids=["system", "admin"],
)
def test_each_tuple_holds_what_audit_values_gives_for_its_change(by):
    changes = changes_of_every_shape()

    rows = list(audit_rows(changes, by=by, now=NOW))

    assert len(rows) == len(changes)
    for change, row in zip(changes, rows, strict=True):
        values = dict(zip(AUDIT_COLUMNS, row, strict=True))
        expected = audit_values(change, by=by, now=NOW)
        assert values.keys() == expected.keys()
        assert {k: v for k, v in values.items() if k != "id"} == {
            k: v for k, v in expected.items() if k != "id"
        }
        assert isinstance(values["id"], uuid.UUID) and values["id"].version == 7
    assert len({row[0] for row in rows}) == len(rows)
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)


def test_the_column_order_names_every_audit_column_once():
    assert sorted(AUDIT_COLUMNS) == sorted(f.attname for f in AccessChange._meta.concrete_fields)


def test_no_changes_no_rows():
    assert list(audit_rows([], by=Attribution(None, AccessChange.Source.SYSTEM), now=NOW)) == []


@pytest.mark.django_db
def test_save_audit_rows_writes_a_tuple_as_it_writes_the_mapping():
    enrollment = EnrollmentFactory()
    by = Attribution(StaffFactory(), AccessChange.Source.COMMAND, "ünïcode 'x'", uuid.uuid4())
    change = Change(
        enrollment.pk,
        AccessChange.Action.RESUME,
        BEFORE.but(is_paused=True, paused_at=NOW - timedelta(seconds=30)),
        BEFORE.but(total_paused_duration=37),
        paused_seconds=30,
    )
    as_tuple = next(audit_rows([change], by=by, now=NOW))
    as_mapping = audit_values(change, by=by, now=NOW)

    save_audit_rows([as_tuple, as_mapping])

    stored = {row.pk: row for row in AccessChange.objects.filter(batch_id=by.batch_id)}
    assert set(stored) == {as_tuple[0], as_mapping["id"]}
    for pk, written in (
        (as_tuple[0], dict(zip(AUDIT_COLUMNS, as_tuple, strict=True))),
        (as_mapping["id"], as_mapping),
    ):
        assert {name: getattr(stored[pk], name) for name in AUDIT_COLUMNS} == written
