"""The admin's date drill-down (`date_hierarchy`) at the ends of the calendar, on every list page
that has one.

Django bounds a drill-down by the start of the next year, month or day; at year 9999 that next
start does not exist and the page answered 500. In the staff member's own zone, a bound turned
into UTC can also fall outside the calendar (year 1 east of UTC). Every such drill-down must
answer a normal page that lists what the drill-down names; a date that is no date at all gets
Django's "invalid" redirect, never a 500.
"""

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from apikeys.models import APIKey
from enrollments.access_window import MAX_ENDED_AT
from enrollments.models import AccessChange, Enrollment
from lms.models import User
from tests.factories import AccessChangeFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

#: Far in the last year datetime can hold, and far enough from its end that every zone can show
#: it (the page renders each row's date in the staff member's zone).
LAST_YEAR = datetime(9999, 6, 15, 12, tzinfo=UTC)
ORDINARY = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _enrollment(when: datetime) -> int | None:
    """An end of access fits a 32-bit timestamp (a database constraint): none is in 9999, and
    the drill-down into that year lists nothing."""
    if when > MAX_ENDED_AT:
        return None
    return EnrollmentFactory(start_at=datetime(2025, 1, 1, tzinfo=UTC), ended_at=when).pk


def _access_change(when: datetime) -> int:
    return AccessChangeFactory(created_at=when).pk


def _api_key(when: datetime) -> int:
    api_key, _raw = APIKey.objects.create_key(user=UserFactory(), name="drill-down")
    APIKey.objects.filter(pk=api_key.pk).update(created_at=when)
    return api_key.pk


def _user(when: datetime) -> int:
    return UserFactory(date_joined=when).pk


#: (changelist URL name, the drill-down field, a maker of one row dated `when`, the model).
PAGES = {
    "enrollments": ("admin:enrollments_enrollment_changelist", "ended_at", _enrollment, Enrollment),
    "access changes": (
        "admin:enrollments_accesschange_changelist",
        "created_at",
        _access_change,
        AccessChange,
    ),
    "api keys": ("admin:apikeys_apikey_changelist", "created_at", _api_key, APIKey),
    "users": ("admin:lms_user_changelist", "date_joined", _user, User),
}


def superuser_client(time_zone: str = "") -> Client:
    admin = UserFactory(
        is_staff=True,
        is_superuser=True,
        time_zone=time_zone,
        date_joined=datetime(2025, 1, 1, tzinfo=UTC),
    )
    client = Client()
    client.force_login(admin)
    return client


def listed_ids(response) -> set:
    return {row.pk for row in response.context["cl"].result_list}


def drill(field: str, year: int, month: int | None = None, day: int | None = None) -> str:
    query = f"{field}__year={year}"
    if month is not None:
        query += f"&{field}__month={month}"
    if day is not None:
        query += f"&{field}__day={day}"
    return query


@pytest.fixture(params=sorted(PAGES))
def page(request):
    return PAGES[request.param]


@pytest.mark.parametrize(
    ("time_zone", "month", "day"),
    [
        ("", None, None),  # year 9999: the next year would be 10000
        ("", 6, None),
        ("", 12, None),  # December 9999: the next month would be January 10000
        ("", 6, 15),
        ("", 12, 31),  # 31 December 9999: the next day would be 1 January 10000
        ("America/New_York", None, None),  # west of UTC: the year ends after 9999 in UTC
        ("America/New_York", 12, 31),
        ("Pacific/Kiritimati", 6, 16),  # UTC+14: 12:00 UTC on the 15th is the 16th there
    ],
)
def test_drilling_into_year_9999_lists_that_year(page, time_zone, month, day):
    url_name, field, make_row, _model = page
    client = superuser_client(time_zone)
    last = make_row(LAST_YEAR)
    make_row(ORDINARY)

    response = client.get(reverse(url_name) + "?" + drill(field, 9999, month, day))

    assert response.status_code == 200
    expected = {last} - {None} if month in (None, 6) else set()
    assert listed_ids(response) == expected


@pytest.mark.parametrize("time_zone", ["", "Asia/Tokyo", "America/New_York"])
def test_drilling_into_year_1_answers_an_empty_page(page, time_zone):
    """East of UTC (Tokyo: +09:18:59 then), the first day of year 1 starts before the first
    instant datetime holds."""
    url_name, field, make_row, _model = page
    client = superuser_client(time_zone)
    make_row(ORDINARY)

    for month, day in ((None, None), (1, None), (1, 1)):
        response = client.get(reverse(url_name) + "?" + drill(field, 1, month, day))
        assert response.status_code == 200, (month, day)
        assert listed_ids(response) == set()


def test_an_ordinary_drill_down_still_bounds_the_year_month_and_day(page):
    url_name, field, make_row, _model = page
    client = superuser_client("Europe/Berlin")
    march = make_row(ORDINARY)
    # 31 December 2025, 23:30 UTC: already 1 January 2026 in Berlin.
    new_year = make_row(datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    make_row(datetime(2027, 1, 5, tzinfo=UTC))

    def listed(query: str) -> set:
        response = client.get(reverse(url_name) + "?" + query)
        assert response.status_code == 200
        return listed_ids(response) - {response.wsgi_request.user.pk}

    assert listed(drill(field, 2026)) == {march, new_year}
    assert listed(drill(field, 2026, 1)) == {new_year}
    assert listed(drill(field, 2026, 1, 1)) == {new_year}
    assert listed(drill(field, 2026, 3, 10)) == {march}
    assert listed(drill(field, 2025)) == set()


@pytest.mark.parametrize(
    "query",
    [
        "{f}__year=10000",
        "{f}__year=0",
        "{f}__year=9999&{f}__month=13",
        "{f}__year=9999&{f}__month=2&{f}__day=30",
        "{f}__year=nine",
        "{f}__year=-1",
        # Past a C long: datetime() raises OverflowError, not ValueError (it was a 500).
        "{f}__year=99999999999999999999",
        "{f}__year=2026&{f}__month=99999999999999999999",
        "{f}__year=2026&{f}__month=1&{f}__day=99999999999999999999",
    ],
)
def test_a_date_that_does_not_exist_is_refused_as_invalid(page, query):
    """Django's own answer to lookups it cannot use: back to the unfiltered list, marked
    invalid (`?e=1`), which then answers 200."""
    url_name, field, make_row, _model = page
    client = superuser_client()
    make_row(ORDINARY)

    response = client.get(reverse(url_name) + "?" + query.format(f=field))

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    assert client.get(response["Location"]).status_code == 200
