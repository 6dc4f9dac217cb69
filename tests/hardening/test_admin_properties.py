"""Property-based tests (hypothesis) over the admin's "Extend access" form: whatever staff type
(or a crafted POST sends) in its fields is either a valid request, which the operation core
then accepts or refuses with a domain error, or a form error; never an exception, never a
server error, and a preview never writes.
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from enrollments.admin.forms import ExtendAccessForm
from enrollments.errors import DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, preview
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import EXTEND, extend_form_data, post_action
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory
from tests.fuzzing import examples

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NASTY = [
    "",
    " ",
    "\x00",
    "1\x00",
    "<script>alert(1)</script>",
    "'; DROP TABLE enrollments_enrollment; --",
    "é" * 10,
    "\U0001f600",
    "x" * 5000,
]
EDGE_DAYS = [0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 10**12, 5_000_000]
day_values = st.one_of(
    st.integers().map(str),
    st.integers(min_value=-1000, max_value=1000).map(str),
    st.sampled_from(
        [
            "0",
            "-1",
            "2147483647",
            "2147483648",
            "9" * 30,
            "9" * 400,
            "9" * 5000,  # past Python's 4300-digit limit on int()
            "1e5",
            "5.0",
            "5.5",
            " 7 ",
            "٣",  # an Arabic-Indic digit: int() reads it
            "NaN",
            "inf",
            "0x10",
        ]
    ),
    st.sampled_from(NASTY),
    st.text(max_size=10),
)
wall_times = st.one_of(
    st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2039, 1, 1)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
).flatmap(
    lambda value: st.sampled_from(
        [
            value.strftime("%Y-%m-%dT%H:%M"),
            value.strftime("%Y-%m-%d %H:%M"),
            value.strftime("%Y-%m-%d"),
        ]
    )
)
until_values = st.one_of(
    wall_times,
    st.sampled_from(
        [
            "2026-03-29T02:30",  # skipped by daylight saving in Europe
            "2026-10-25T02:30",  # repeated in Europe
            "2038-01-19T03:14",
            "2038-01-19T03:15",
            "9999-12-31T23:59",
            "0001-01-01T00:00",
            "2026-02-30T00:00",
            "2026-03-01T09:30+02:00",
            "2026-03-01T09:30Z",
            "2026-03-01T09:30:00.123456",
            "tomorrow",
        ]
    ),
    st.sampled_from(NASTY),
    st.text(max_size=20),
)
ZONES = sorted(zoneinfo.available_timezones())
zone_values = st.one_of(
    st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati", "America/St_Johns"]),
    st.sampled_from(ZONES),
    st.sampled_from(["", "Mars/Olympus", "localtime", "../../etc/passwd", "utc", "\x00"]),
    st.text(max_size=10),
)
mode_values = st.one_of(
    st.sampled_from(["days", "until", "indefinite"]),
    st.sampled_from(["", "DAYS", "sideways", "\x00"]),
    st.text(max_size=5),
)
reason_values = st.one_of(st.text(max_size=30), st.sampled_from(NASTY), st.just("r" * 1001))


plausible_fields = {
    "mode": st.sampled_from(["days", "until", "indefinite"]),
    "days": st.one_of(st.integers(min_value=-1000, max_value=5000), st.sampled_from(EDGE_DAYS)).map(
        str
    ),
    "until": wall_times,
    "time_zone": st.sampled_from(ZONES),
    "reason": st.text(max_size=30).filter(lambda text: "\x00" not in text),
}
any_fields = {
    "mode": mode_values,
    "days": day_values,
    "until": until_values,
    "time_zone": zone_values,
    "reason": reason_values,
}


@st.composite
def form_data(draw) -> dict[str, str]:
    """Half the time what a person would type (valid fields, any values), half the time any
    text in any subset of the fields."""
    if draw(st.booleans()):
        fields = {name: draw(value) for name, value in plausible_fields.items()}
        if draw(st.integers(0, 9)) == 0:  # a mode's own field left out
            fields.pop(draw(st.sampled_from(["days", "until"])))
        return fields
    return {
        name: draw(value)
        for name, value in any_fields.items()
        if name == "mode" or draw(st.booleans())
    }


def snapshot() -> tuple[list[dict], int]:
    return list(Enrollment.objects.order_by("pk").values()), AccessChange.objects.count()


@pytest.fixture
def enrollments(clock):
    now = clock.current
    course = CourseFactory()
    ends = (
        now + timedelta(days=5),
        None,
        now - timedelta(days=3),
        datetime(2038, 1, 1, tzinfo=UTC),
    )
    return [
        EnrollmentFactory(course=course, start_at=now - timedelta(days=10), ended_at=end)
        for end in ends
    ]


def test_the_form_is_valid_or_has_errors_never_an_exception(enrollments):
    queryset = Enrollment.objects.filter(pk__in=[e.pk for e in enrollments])

    @settings(HYPOTHESIS, max_examples=examples(300))
    @given(data=form_data())
    @example(data={"mode": "days", "days": "9" * 400})
    @example(data={"mode": "until", "until": "2026-03-29T02:30", "time_zone": "Europe/Paris"})
    @example(data={"mode": "until", "until": "9999-12-31T23:59", "time_zone": "Pacific/Kiritimati"})
    @example(data={"mode": "until", "until": "0001-01-01T00:00", "time_zone": "America/St_Johns"})
    # Found by this test (issue 14): year 9999 west of UTC overflowed the calendar, a 500.
    @example(data={"mode": "until", "until": "9999-12-31T23:59", "time_zone": "America/New_York"})
    @example(data={"mode": "until", "until": "0001-01-01T00:00", "time_zone": "Asia/Tokyo"})
    def run(data):
        form = ExtendAccessForm(data=data)
        assert isinstance(form.zone, zoneinfo.ZoneInfo)  # the page renders dates in it
        if not form.is_valid():
            assert form.errors
            return
        operation = form.operation()
        assert isinstance(operation, Extend)
        assert operation.until is None or operation.until.tzinfo is UTC
        reason = form.cleaned_data["reason"]
        assert "\x00" not in reason and len(reason) <= 1000
        try:
            plan = preview(operation, Selection.by_filter(queryset))
        except DomainError as error:
            assert error.code == "INVALID_EXTENSION_PERIOD"
        else:
            assert plan.selected == len(enrollments)

    run()


def test_the_admin_page_answers_any_input_without_a_server_error_and_previews_write_nothing(
    enrollments,
):
    operator = grant(
        StaffFactory(), "view_enrollment", "change_enrollment", "extend_access", "pause_enrollment"
    )
    client = logged_in(operator)
    page = post_action(client, "extend_access", [e.pk for e in enrollments])
    assert page.status_code == 200

    @settings(HYPOTHESIS, max_examples=examples(40))
    @given(data=form_data(), confirm=st.sampled_from(["no", "bogus token", "valid token"]))
    @example(data={"mode": "days", "days": "9" * 400}, confirm="no")
    @example(data={"mode": "days", "days": "2147483648"}, confirm="no")
    @example(data={"mode": "days", "days": "30"}, confirm="valid token")
    @example(data={"mode": "days", "days": str(10**12)}, confirm="valid token")
    @example(
        data={"mode": "until", "until": "9999-12-31T23:59", "time_zone": "America/New_York"},
        confirm="valid token",
    )
    def run(data, confirm):
        fields = extend_form_data(page, **data)
        with transaction.atomic():
            before = snapshot()
            response = client.post(reverse(EXTEND), {**fields, "_preview": "Preview"})
            shown = response.context["preview"] if response.status_code == 200 else None
            token = response.context["fingerprint"] if shown else ""
            if confirm != "no":
                token = token if confirm == "valid token" else "not-the-preview"
                response = client.post(
                    reverse(EXTEND), {**fields, "_confirm": "Confirm", "fingerprint": token}
                )
            after = snapshot()
            transaction.set_rollback(True)
        if confirm == "valid token" and token:
            # What the preview showed is what was applied: one audit row per previewed change.
            assert response.status_code == 302, response.status_code
            changed = after[1] - before[1]
            assert changed == shown.changed
            assert sum(a != b for a, b in zip(after[0], before[0], strict=True)) == changed
            return
        assert response.status_code == 200, response.status_code
        assert after == before  # a preview, or a confirmation that matches no preview

    run()
