"""The export (enrollments/privacy/document.py, `manage.py export_learner`): one JSON document
with everything held about a learner, valid against the committed JSON Schema, in a constant
number of queries."""

import json
import os
import stat

import jsonschema_rs
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments import privacy
from enrollments.models import AccessChange, AccessEvent
from enrollments.permissions import EXPORT_LEARNER_DATA
from enrollments.privacy.document import SCHEMA_ID, SCHEMA_PATH
from tests.factories import CourseRoleFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.privacy.helpers import EMAIL, FIRST, LAST, SCHEMA, grant

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert jsonschema_rs.meta.is_valid(schema)
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def errors(validator, document) -> list[str]:
    return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_committed_schema_is_the_one_the_document_names():
    assert SCHEMA_PATH == SCHEMA
    assert json.loads(SCHEMA.read_text())["$id"] == SCHEMA_ID


def test_the_full_history_is_valid_against_the_schema(history, validator):
    document = json.loads(privacy.render(privacy.learner_export(history.learner)))
    assert errors(validator, document) == []
    assert document["$schema"] == SCHEMA_ID


def test_a_learner_without_history_is_valid_too(db, validator):
    document = json.loads(privacy.render(privacy.learner_export(UserFactory())))
    assert errors(validator, document) == []
    assert document["enrollments"] == document["api_keys"] == document["course_roles"] == []


def test_the_schema_refuses_what_the_document_must_not_hold(history, validator):
    document = json.loads(privacy.render(privacy.learner_export(history.learner)))
    document["api_keys"][0]["hashed_key"] = "abc"
    document["enrollments"][0]["start_at"] = "2026-01-01 00:00"
    refused = {tuple(e.instance_path) for e in validator.iter_errors(document)}
    assert refused == {("api_keys", 0), ("enrollments", 0, "start_at")}


def test_it_holds_everything_the_database_holds_about_them(history):
    document = privacy.learner_export(history.learner)
    assert document["learner"] | {"id": None, "date_joined": None} == {
        "id": None,
        "email": EMAIL,
        "first_name": FIRST,
        "last_name": LAST,
        "time_zone": "Europe/Oslo",
        "language": "de",
        "is_active": True,
        "is_staff": False,
        "date_joined": None,
        "last_login": None,
    }
    first, second = document["enrollments"]
    assert {first["id"], second["id"]} == {str(e.pk) for e in history.enrollments}
    assert first["progress"] == {"status": "in_progress", "items_completed": 1, "items_total": 3}
    assert [item["position"] for item in first["completed_items"]] == [1]
    assert second["paused_at"] is None and second["total_paused_seconds"] == 2 * 86400
    for enrollment in (first, second):
        rows = AccessChange.objects.filter(enrollment_id=enrollment["id"])
        assert [c["id"] for c in enrollment["access_changes"]] == [
            str(pk) for pk in rows.order_by("created_at", "id").values_list("pk", flat=True)
        ]
        events = AccessEvent.objects.filter(enrollment_id=enrollment["id"])
        assert [e["event_id"] for e in enrollment["events"]] == [
            str(pk) for pk in events.order_by("id").values_list("event_id", flat=True)
        ]
    assert {c["reason"] for c in first["access_changes"]} == {
        f"{FIRST} {LAST} asked, ill since May",
        f"bulk for {FIRST}",
    }
    assert first["access_changes"][0]["actor_id"] == str(history.staff.pk)
    [reminder] = first["reminders"]
    assert reminder["state"] == "sent" and EMAIL in reminder["last_error"]
    assert [r["state"] for r in second["reminders"]] == ["pending"]
    deliveries = [d for e in first["events"] for d in e["deliveries"]]
    assert {d["endpoint_id"] for d in deliveries} == {history.endpoint.pk}
    assert "failed" in {d["state"] for d in deliveries}
    [key] = document["api_keys"]
    assert key == {
        "prefix": history.key.prefix,
        "name": f"{FIRST}'s laptop",
        "created_at": key["created_at"],
        "last_used_at": None,
        "expires_at": None,
        "revoked_at": None,
    }
    [role] = document["course_roles"]
    assert role["role"] == "staff" and role["granted_by_id"] == str(history.staff.pk)
    changes = [
        (c["action"], c["old_role"], c["new_role"], c["actor_id"], c["source"])
        for c in document["course_role_changes"]
    ]
    assert changes == [
        ("grant", None, "manager", None, "command"),
        ("revoke", "manager", None, None, "command"),
        ("grant", None, "staff", str(history.staff.pk), "admin"),
    ]


def test_other_people_appear_by_id_only(history):
    text = privacy.render(privacy.learner_export(history.learner))
    assert history.staff.email not in text and history.staff.first_name not in text
    assert history.other.email not in text


def test_the_number_of_queries_does_not_grow_with_the_history(db, clock):
    def queries(learner) -> int:
        with CaptureQueriesContext(connection) as captured:
            privacy.learner_export(learner)
        return len(captured)

    small = UserFactory()
    EnrollmentFactory(user=small)
    large = UserFactory()
    for _ in range(5):
        EnrollmentFactory(user=large)
        CourseRoleFactory(user=large)
    # enrollments, item counts, completions, audit rows, reminders, events, deliveries, API
    # keys, course roles, course role changes: one each.
    assert queries(small) == queries(large) == 10


def test_the_command_writes_the_document_to_stdout(history, run, validator):
    result = run("export_learner", EMAIL.upper())
    assert result.status == 0
    assert errors(validator, json.loads(result.stdout)) == []


def test_the_command_writes_a_file_only_its_owner_reads(history, run, tmp_path, validator):
    path = tmp_path / "zebulon.json"
    result = run("export_learner", str(history.learner.pk), "--output", str(path))
    assert result.status == 0
    assert f"Wrote the data of learner {history.learner.pk} to {path}" in result.stdout
    assert EMAIL not in result.stdout
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert errors(validator, json.loads(path.read_text())) == []


def test_an_existing_file_ends_readable_by_its_owner_only(history, run, tmp_path):
    """os.open's mode applies only to a file it creates: an existing world-readable file (an
    earlier export's name reused, one made with `touch`) was filled with the learner's data
    and stayed 0644."""
    path = tmp_path / "zebulon.json"
    path.write_text("an older and longer text than the document will replace " * 500)
    path.chmod(0o644)
    result = run("export_learner", EMAIL, "--output", str(path))
    assert result.status == 0, result
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["learner"]["email"] == EMAIL  # emptied, then written


def test_the_command_refuses_an_unknown_learner_and_an_unwritable_file(history, run, tmp_path):
    unknown = run("export_learner", "nobody@example.org")
    assert (unknown.status, unknown.error) == (
        2,
        "LEARNER 'nobody@example.org': no user with that e-mail or id",
    )
    folder = run("export_learner", EMAIL, "--output", str(tmp_path))
    assert folder.status == 2 and "cannot write it" in folder.error


def test_the_commands_actor_needs_the_permission(history, run):
    bare = StaffFactory()
    refused = run("export_learner", EMAIL, "--actor", bare.email)
    assert refused.status == 2
    assert refused.error == f"--actor '{bare.email}': lacks the permission lms.export_learner_data"
    assert refused.stdout == ""
    grant(bare, EXPORT_LEARNER_DATA)
    assert run("export_learner", EMAIL, "--actor", bare.email).status == 0
