"""The admin's "End access / set end…": the action and the change page's button, the form in
the staff member's time zone, the preview (old and new ends, skipped rows and why), Confirm
once, errors that change nothing, the permission."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Remove, Selection, apply
from enrollments.operations.audit import Attribution
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import changelist_url, post_action
from tests.commands.conftest import snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPIRE = "admin:enrollments_enrollment_expire_access"
EXPIRE_ONE = "admin:enrollments_enrollment_expire_access_one"


@pytest.fixture
def expirer(db):
    return grant(StaffFactory(), "view_enrollment", "change_enrollment", "expire_access")


@pytest.fixture
def expirer_client(expirer):
    return logged_in(expirer)


@pytest.fixture
def rows(clock):
    """In one course: over-extended (ends 2027-01-01), active (ends in 10 days), ended."""
    course = CourseFactory(title="Python Basics", slug="python-basics")
    now = clock.current

    def make(email, end):
        return EnrollmentFactory(
            course=course,
            user=UserFactory(email=email),
            start_at=now - timedelta(days=30),
            ended_at=end,
        )

    return {
        "over": make("over@example.com", datetime(2027, 1, 1, tzinfo=UTC)),
        "active": make("active@example.com", now + timedelta(days=10)),
        "ended": make("ended@example.com", now - timedelta(days=3)),
    }


def form_data(page, **fields) -> dict:
    data: dict = {}
    for name, value in page.context["scope"].hidden_fields:
        data.setdefault(name, []).append(value)
    data.setdefault("time_zone", "UTC")
    data.setdefault("at", "")
    data.update(fields)
    return data


def preview(client, page, url=None, **fields):
    return client.post(url or reverse(EXPIRE), form_data(page, _preview="Preview", **fields))


def confirm(client, shown, url=None, **fields):
    data = form_data(shown, _confirm="Confirm", fingerprint=shown.context["fingerprint"], **fields)
    return client.post(url or reverse(EXPIRE), data)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_action_form_then_preview_of_now_then_confirm(expirer_client, expirer, rows, clock):
    ids = [row.pk for row in rows.values()]
    form = post_action(expirer_client, "expire_access", ids)
    assert form.status_code == 200
    assert "3 selected enrollments" in form.content.decode()
    before = snapshot()

    shown = preview(expirer_client, form, reason="contract ended")
    assert shown.status_code == 200
    plan = shown.context["preview"]
    assert (plan.changed, plan.skipped, plan.unchanged) == (2, 0, 1)
    by_pk = {row.enrollment_id: row for row in plan.changed_rows}
    assert by_pk[rows["over"].pk].current_end == "2027-01-01 00:00 UTC"
    assert by_pk[rows["over"].pk].new_end == "2026-01-01 00:00 UTC"
    assert snapshot() == before

    done = confirm(expirer_client, shown, reason="contract ended")
    assert done.status_code == 302
    assert "Set the new end of access for 2 enrollments." in messages_of(done)
    audits = AccessChange.objects.filter(action="expire")
    assert sorted(
        (a.enrollment_id, a.old_ended_at, a.new_ended_at, a.source, a.reason, a.actor_id)
        for a in audits
    ) == sorted(
        (rows[name].pk, rows[name].ended_at, clock.current, "admin", "contract ended", expirer.pk)
        for name in ("over", "active")
    )
    assert len({a.batch_id for a in audits}) == 1


def test_confirming_twice_applies_once(expirer_client, rows):
    form = post_action(expirer_client, "expire_access", [rows["active"].pk])
    shown = preview(expirer_client, form)
    confirm(expirer_client, shown)
    again = confirm(expirer_client, shown)
    assert again.status_code == 200
    assert "changed since the preview" in again.context["notice"]
    assert again.context["preview"].unchanged == 1
    assert AccessChange.objects.filter(action="expire").count() == 1


def test_correcting_an_over_extension_from_the_change_page_in_berlin(expirer, rows):
    expirer.time_zone = "Europe/Berlin"
    expirer.save()
    client = logged_in(expirer)
    over = rows["over"]
    change = client.get(reverse("admin:enrollments_enrollment_change", args=[over.pk]))
    url = reverse(EXPIRE_ONE, args=[over.pk])
    assert url in change.content.decode()

    form = client.get(url)
    assert form.status_code == 200
    assert form.context["form"].initial["time_zone"] == "Europe/Berlin"
    shown = preview(client, form, url, at="2026-03-01T12:00", time_zone="Europe/Berlin")
    row = shown.context["preview"].changed_rows[0]
    assert (row.current_end, row.new_end) == ("2027-01-01 01:00 CET", "2026-03-01 12:00 CET")

    done = confirm(client, shown, url, at="2026-03-01T12:00", time_zone="Europe/Berlin")
    assert done.status_code == 302
    assert done.url == reverse("admin:enrollments_enrollment_change", args=[over.pk])
    over.refresh_from_db()
    assert over.ended_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)


def test_an_end_not_earlier_is_skipped_with_the_reason(expirer_client, rows):
    ids = [rows["active"].pk, rows["over"].pk]
    form = post_action(expirer_client, "expire_access", ids)
    shown = preview(expirer_client, form, at="2026-06-01T00:00")
    plan = shown.context["preview"]
    assert [r.enrollment_id for r in plan.changed_rows] == [rows["over"].pk]
    assert [(r.enrollment_id, r.reason) for r in plan.skipped_rows] == [
        (rows["active"].pk, "The new end must be earlier than the current end of access")
    ]
    before = snapshot()
    done = confirm(expirer_client, shown, at="2026-06-01T00:00")
    assert done.status_code == 302
    assert any("Skipped 1 enrollment" in m for m in messages_of(done))
    assert len(snapshot()["audit"]) == len(before["audit"]) + 1


@pytest.mark.parametrize(
    "at,error",
    [
        ("2019-12-31T23:00", "Invalid end of access"),
        ("2020-01-01T00:00", "Invalid end of access"),
        ("2038-02-01T00:00", "Invalid end of access"),
        ("not a date", "Enter a valid date/time."),
        ("2026-03-29T02:30", "does not exist in Europe/Berlin"),
    ],
)
def test_bad_instants_are_shown_at_the_field_and_change_nothing(expirer_client, rows, at, error):
    form = post_action(expirer_client, "expire_access", [rows["over"].pk])
    before = snapshot()
    zone = "Europe/Berlin" if "02:30" in at else "UTC"
    shown = preview(expirer_client, form, at=at, time_zone=zone)
    assert shown.status_code == 200
    assert shown.context["preview"] is None
    assert any(error in message for message in shown.context["form"].errors["at"])
    assert snapshot() == before
    # Confirming a crafted request with a bad instant changes nothing either.
    crafted = client_post_confirm(expirer_client, form, at=at, time_zone=zone)
    assert crafted.status_code == 200
    assert snapshot() == before


def client_post_confirm(client, form, **fields):
    return client.post(
        reverse(EXPIRE), form_data(form, _confirm="Confirm", fingerprint="x", **fields)
    )


def test_a_bad_reason_changes_nothing(expirer_client, rows):
    form = post_action(expirer_client, "expire_access", [rows["over"].pk])
    shown = preview(expirer_client, form)
    before = snapshot()
    refused = confirm(expirer_client, shown, reason="nul \x00 byte")
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    assert snapshot() == before


def test_a_removed_enrollment_is_skipped(expirer_client, rows):
    removed = rows["active"]
    apply(Remove(), Selection.named([removed.pk]), Attribution(None, AccessChange.Source.SYSTEM))
    url = reverse(EXPIRE_ONE, args=[removed.pk])
    response = expirer_client.get(url)
    shown = preview(expirer_client, response, url)
    assert [r.reason for r in shown.context["preview"].skipped_rows] == [
        "Student was removed from this course"
    ]
    assert shown.context["preview"].changed == 0
    assert 'name="_confirm" value="Confirm" class="default" disabled' in shown.content.decode()
    assert not AccessChange.objects.filter(action="expire").exists()


def test_unknown_and_malformed_ids(expirer_client, rows):
    for object_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = expirer_client.get(reverse(EXPIRE_ONE, args=[object_id]))
        assert response.status_code == 302
        assert "Enrollment not found." in messages_of(response)
    before = snapshot()
    tampered = expirer_client.post(
        reverse(EXPIRE),
        {"_selected_action": "not-a-uuid", "_preview": "Preview", "time_zone": "UTC"},
    )
    assert tampered.status_code == 302
    assert snapshot() == before


def test_the_action_the_button_and_the_urls_need_the_permission(rows):
    client = logged_in(
        grant(StaffFactory(), "view_enrollment", "change_enrollment", "extend_access")
    )
    over = rows["over"]
    listed = client.get(changelist_url())
    assert "expire_access" not in listed.content.decode()
    change = client.get(reverse("admin:enrollments_enrollment_change", args=[over.pk]))
    assert reverse(EXPIRE_ONE, args=[over.pk]) not in change.content.decode()
    before = snapshot()
    assert client.get(reverse(EXPIRE_ONE, args=[over.pk])).status_code == 403
    crafted = {
        "_selected_action": str(over.pk),
        "_confirm": "Confirm",
        "time_zone": "UTC",
        "fingerprint": "x",
    }
    assert client.post(reverse(EXPIRE), crafted).status_code == 403
    post_action(client, "expire_access", [over.pk])
    assert snapshot() == before
    assert Enrollment.objects.get(pk=over.pk).ended_at == over.ended_at
