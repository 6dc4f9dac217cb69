"""Correcting an over-extension in the admin (issue 26, item 3): "Shorten by N days" on the
"End access / set end" form, and "Restore the end before this change" from an enrollment's
history; both through the core (operations/shortening.py), with the preview, Confirm once,
bad input shown at its field, the scope and a stale preview."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollments.admin.correcting import NOTHING_TO_RESTORE
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import CourseRole
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import post_action
from tests.factories import (
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    OperatorFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

EXPIRE = "admin:enrollments_enrollment_expire_access"
EXPIRE_ONE = "admin:enrollments_enrollment_expire_access_one"
END = datetime(2027, 1, 1, tzinfo=UTC)
SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)


@pytest.fixture
def carol(clock):
    """Extended by 365 days instead of 65 (as seed_demo's carol@example.com): ends END + 300."""
    enrollment = EnrollmentFactory(
        user__email="carol@example.com",
        course=CourseFactory(title="Python Basics", slug="python-basics"),
        start_at=clock.current - timedelta(days=5),
        ended_at=END - timedelta(days=65),
    )
    mistake = Attribution(None, AccessChange.Source.ADMIN, "365 days instead of 65")
    apply(Extend(days=365), Selection.named([enrollment.pk]), mistake)
    enrollment.refresh_from_db()
    assert enrollment.ended_at == END + timedelta(days=300)
    return enrollment


@pytest.fixture
def client(db):
    return logged_in(OperatorFactory())


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def expire_data(page, **fields) -> dict:
    data: dict = {}
    for name, value in page.context["scope"].hidden_fields:
        data.setdefault(name, []).append(value)
    data.update({"time_zone": "UTC", "at": "", "end_mode": "shorten", **fields})
    return data


def shorten_preview(client, page, url, **fields):
    return client.post(url, expire_data(page, _preview="Preview", **fields))


def shorten_confirm(client, shown, url, **fields):
    data = expire_data(
        shown,
        _confirm="Confirm",
        fingerprint=shown.context["fingerprint"],
        previewed=shown.context.get("previewed", ""),
        **fields,
    )
    return client.post(url, data)


def mistake_of(enrollment) -> AccessChange:
    return AccessChange.objects.get(enrollment=enrollment, action="extend")


def restore_end_url(change) -> str:
    return reverse(
        "admin:enrollments_enrollment_restore_end", args=[change.enrollment_id, change.pk]
    )


def press_confirm(client, page, reason=""):
    return client.post(
        page.context["scope"].form_url,
        {
            "_confirm": "Confirm",
            "fingerprint": page.context["fingerprint"],
            "previewed": page.context.get("previewed", ""),
            "reason": reason,
        },
    )


# -- Shorten by N days ------------------------------------------------------------------------


def test_shorten_by_days_beside_set_a_new_end_previews_then_confirms(client, carol):
    url = reverse(EXPIRE_ONE, args=[carol.pk])
    form = client.get(url)
    assert form.templates[0].name == "admin/enrollments/enrollment/expire_access.html"
    text = form.content.decode()
    assert "Set a new end (empty: end access now)" in text
    assert "Shorten by a number of days" in text

    shown = shorten_preview(client, form, url, days="300", reason="365 days instead of 65")
    row = shown.context["preview"].changed_rows[0]
    assert (row.current_end, row.new_end) == ("2027-10-28 00:00 UTC", "2027-01-01 00:00 UTC")
    carol.refresh_from_db()
    assert carol.ended_at == END + timedelta(days=300), "a preview changes nothing"

    done = shorten_confirm(client, shown, url, days="300", reason="365 days instead of 65")
    assert done.status_code == 302
    carol.refresh_from_db()
    assert carol.ended_at == END
    record = AccessChange.objects.get(enrollment=carol, action="expire")
    assert (record.old_ended_at, record.new_ended_at, record.reason) == (
        END + timedelta(days=300),
        END,
        "365 days instead of 65",
    )
    assert messages_of(done) == ["Set the new end of access for this enrollment."]


@pytest.mark.parametrize(
    ("days", "error"),
    [
        ("0", "Shorten by a whole number of days from 1 to 36500 (0 days)"),
        ("-5", "Shorten by a whole number of days from 1 to 36500 (-5 days)"),
        ("36501", "Shorten by a whole number of days from 1 to 36500 (36501 days)"),
        ("abc", "Enter a whole number."),
        ("2.5", "Enter a whole number."),
        ("", "Enter the number of days to take off."),
    ],
)
def test_a_bad_number_of_days_is_shown_at_the_field_and_changes_nothing(client, carol, days, error):
    url = reverse(EXPIRE_ONE, args=[carol.pk])
    shown = shorten_preview(client, client.get(url), url, days=days)
    assert shown.status_code == 200
    assert shown.context["form"].errors["days"] == [error]
    assert shown.context["preview"] is None
    # Confirm with the bad value changes nothing either.
    forced = client.post(url, expire_data(shown, _confirm="Confirm", fingerprint="x", days=days))
    assert forced.status_code == 200
    carol.refresh_from_db()
    assert carol.ended_at == END + timedelta(days=300)
    assert not AccessChange.objects.filter(action="expire").exists()


def test_rows_the_core_refuses_are_skipped_with_the_reason(client, carol, clock):
    """Before the start: END_BEFORE_START; indefinite: NO_END_DATE; the rest shortened. An end
    in the past is allowed (a correction may put back an end that had passed)."""
    course = carol.course
    young = EnrollmentFactory(
        course=course, start_at=clock.current - timedelta(days=1), ended_at=clock.current
    )
    forever = EnrollmentFactory(course=course, ended_at=None)
    ids = [carol.pk, young.pk, forever.pk]
    form = post_action(client, "expire_access", ids)
    shown = shorten_preview(client, form, reverse(EXPIRE), days="30")
    preview = shown.context["preview"]
    assert (preview.changed, preview.skipped) == (1, 2)
    reasons = {row.enrollment_id: row.reason for row in preview.skipped_rows}
    assert reasons == {
        young.pk: "The new end would be before the start of access",
        forever.pk: "Current enrollment has no end date",
    }
    done = shorten_confirm(client, shown, reverse(EXPIRE), days="30")
    assert done.status_code == 302
    ends = dict(Enrollment.objects.values_list("pk", "ended_at"))
    assert ends == {
        carol.pk: END + timedelta(days=270),
        young.pk: clock.current,
        forever.pk: None,
    }


def test_a_stale_shorten_preview_applies_nothing(client, carol):
    url = reverse(EXPIRE_ONE, args=[carol.pk])
    shown = shorten_preview(client, client.get(url), url, days="300")
    apply(Extend(days=1), Selection.named([carol.pk]), SYSTEM)  # someone else, meanwhile
    again = shorten_confirm(client, shown, url, days="300")
    assert again.status_code == 200
    assert "changed since the preview" in again.context["notice"]
    carol.refresh_from_db()
    assert carol.ended_at == END + timedelta(days=301)
    # Typing another number after the preview is named as such.
    changed = shorten_confirm(client, again, url, days="299")
    assert changed.context["notice"].startswith("You changed the request after the preview")


def test_shortening_needs_the_permission_to_end_access_in_the_course(carol):
    extender = grant(StaffFactory(), "view_enrollment", "change_enrollment", "extend_access")
    url = reverse(EXPIRE_ONE, args=[carol.pk])
    assert logged_in(extender).post(url, {"end_mode": "shorten", "days": "300"}).status_code == 403
    manager = CourseRoleFactory(course=CourseFactory(), role=CourseRole.Role.MANAGER).user
    elsewhere = logged_in(manager).post(
        url, {"end_mode": "shorten", "days": "300", "_confirm": "1"}
    )
    assert elsewhere.status_code == 302  # another course's enrollment: not found
    carol.refresh_from_db()
    assert carol.ended_at == END + timedelta(days=300)


# -- Restore the end before this change -------------------------------------------------------


def test_history_links_each_change_that_moved_the_end(client, carol):
    apply(Pause(), Selection.named([carol.pk]), SYSTEM)  # moves no end: no link
    mistake = mistake_of(carol)
    page = client.get(reverse("admin:enrollments_enrollment_change", args=[carol.pk]))
    text = page.content.decode()
    assert text.count('class="restore-end-link"') == 1
    assert restore_end_url(mistake) in text

    trail = reverse("admin:enrollments_accesschange_changelist")
    history = client.get(f"{trail}?enrollment__id__exact={carol.pk}")
    assert history.content.decode().count('class="restore-end-link"') == 1
    assert restore_end_url(mistake) in history.content.decode()
    unfiltered = client.get(trail)
    assert 'class="restore-end-link"' not in unfiltered.content.decode()


def test_restore_the_end_before_this_change_previews_then_confirms(client, carol):
    mistake = mistake_of(carol)
    page = client.get(restore_end_url(mistake))
    assert page.status_code == 200
    text = page.content.decode()
    row = page.context["preview"].changed_rows[0]
    old_end = END - timedelta(days=65)
    assert (row.current_end, row.new_end) == (
        "2027-10-28 00:00 UTC",
        f"{old_end:%Y-%m-%d} 00:00 UTC",
    )
    assert f'class="restored-end">{old_end:%Y-%m-%d} 00:00 UTC' in text

    done = press_confirm(client, page, reason="365 days instead of 65")
    assert done.status_code == 302
    assert done.url == reverse("admin:enrollments_enrollment_change", args=[carol.pk])
    carol.refresh_from_db()
    assert carol.ended_at == old_end
    record = AccessChange.objects.get(enrollment=carol, action="expire")
    assert (record.old_ended_at, record.new_ended_at, record.reason, record.source) == (
        END + timedelta(days=300),
        old_end,
        "365 days instead of 65",
        "admin",
    )
    assert messages_of(done) == ["Restored the end of access of this enrollment."]


def test_a_change_no_longer_in_force_is_refused_clearly(client, carol):
    """A later change moved the end: restoring would silently undo it too."""
    mistake = mistake_of(carol)
    apply(Extend(days=2), Selection.named([carol.pk]), SYSTEM)
    page = client.get(restore_end_url(mistake))
    preview = page.context["preview"]
    assert (preview.changed, preview.skipped) == (0, 1)
    assert preview.skipped_rows[0].reason == (
        "The end of access changed after this change: it was left as it is"
    )
    assert 'disabled title="Nothing would change"' in page.content.decode()
    press_confirm(client, page)
    carol.refresh_from_db()
    assert carol.ended_at == END + timedelta(days=302)


def test_a_stale_restore_preview_applies_nothing(client, carol):
    mistake = mistake_of(carol)
    page = client.get(restore_end_url(mistake))
    apply(Extend(days=2), Selection.named([carol.pk]), SYSTEM)
    again = press_confirm(client, page)
    assert again.status_code == 200
    assert "changed since the preview" in again.context["notice"]
    carol.refresh_from_db()
    assert carol.ended_at == END + timedelta(days=302)
    assert AccessChange.objects.filter(enrollment=carol).count() == 2  # the two extensions


def test_restoring_a_later_end_is_an_extension_within_the_courses_limits(carol, clock):
    """After an earlier end (a shortening), restoring moves the end later: EXTEND_ACCESS, and a
    course's staff stay within its limits."""
    operator = logged_in(OperatorFactory())
    url = reverse(EXPIRE_ONE, args=[carol.pk])
    shown = shorten_preview(operator, operator.get(url), url, days="100")
    shorten_confirm(operator, shown, url, days="100")
    shortening = AccessChange.objects.get(enrollment=carol, action="expire")

    course = carol.course
    course.staff_max_extension_days = 30
    course.save()
    staff = CourseRoleFactory(course=course, role=CourseRole.Role.STAFF).user
    limited = logged_in(staff)
    page = limited.get(restore_end_url(shortening))
    assert (
        page.context["preview"]
        .skipped_rows[0]
        .reason.startswith("This change adds more days of access than the course allows its staff")
    )
    page = operator.get(restore_end_url(shortening))
    done = press_confirm(operator, page)
    assert done.status_code == 302
    carol.refresh_from_db()
    assert carol.ended_at == END + timedelta(days=300)
    assert AccessChange.objects.get(enrollment=carol, action="set_end").new_ended_at == (
        END + timedelta(days=300)
    )


def test_a_change_that_moved_no_end_or_another_enrollments_is_not_restored(client, carol):
    apply(Pause(), Selection.named([carol.pk]), SYSTEM)
    pause = AccessChange.objects.get(enrollment=carol, action="pause")
    response = client.get(restore_end_url(pause))
    assert response.status_code == 302
    assert messages_of(response) == [NOTHING_TO_RESTORE]

    other = EnrollmentFactory(course=carol.course)
    wrong = reverse(
        "admin:enrollments_enrollment_restore_end", args=[other.pk, mistake_of(carol).pk]
    )
    for url in (wrong, restore_end_url(mistake_of(carol)).replace(str(mistake_of(carol).pk), "x")):
        response = client.get(url)
        assert response.status_code == 302
        assert messages_of(response)[-1] == "Enrollment not found."


def test_restore_end_needs_the_permission_in_the_enrollments_course(carol):
    mistake = mistake_of(carol)  # an extension: restoring ends sooner (EXPIRE_ACCESS)
    viewer = grant(StaffFactory(), "view_enrollment", "change_enrollment")
    assert logged_in(viewer).get(restore_end_url(mistake)).status_code == 403
    extender = grant(StaffFactory(), "view_enrollment", "change_enrollment", "extend_access")
    client = logged_in(extender)
    assert client.get(restore_end_url(mistake)).status_code == 403
    page = client.get(reverse("admin:enrollments_enrollment_change", args=[carol.pk]))
    assert 'class="restore-end-link"' not in page.content.decode()
    manager = CourseRoleFactory(course=CourseFactory(), role=CourseRole.Role.MANAGER).user
    response = logged_in(manager).post(restore_end_url(mistake), {"_confirm": "Confirm"})
    assert response.status_code == 302  # another course: not found
    carol.refresh_from_db()
    assert carol.ended_at == END + timedelta(days=300)


def test_the_restore_links_cost_no_query_per_row(client, carol):
    """The history on the enrollment's page and its History page cost the same statements
    with 1 change that moved the end and with 11."""
    trail = reverse("admin:enrollments_accesschange_changelist")
    pages = (
        reverse("admin:enrollments_enrollment_change", args=[carol.pk]),
        f"{trail}?enrollment__id__exact={carol.pk}",
    )

    def counts() -> list[int]:
        result = []
        for url in pages:
            client.get(url)  # warm the session and caches
            with CaptureQueriesContext(connection) as captured:
                text = client.get(url).content.decode()
            result.append((len(captured), text.count('class="restore-end-link"')))
        return result

    one = counts()
    for _ in range(10):
        apply(Extend(days=1), Selection.named([carol.pk]), SYSTEM)
    eleven = counts()
    assert [links for _, links in one] == [1, 1]
    # Every change that moved the end links (the page says whether it still applies).
    assert [links for _, links in eleven] == [11, 11]
    assert [queries for queries, _ in eleven] == [queries for queries, _ in one]
