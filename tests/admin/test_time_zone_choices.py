"""The zone picker (enrollments/admin/time_zone.py): current IANA zones only (the tz database's
zone.tab), grouped by area, UTC first; a zone stored before, now an alias, still shown and kept
on the time-zone page, the extend form and the user admin."""

import zoneinfo
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from enrollments.admin import time_zone
from enrollments.admin.forms import ExtendAccessForm
from enrollments.admin.time_zone import (
    TimeZoneForm,
    canonical_zones,
    is_known_zone,
    time_zone_choices,
)
from tests.admin.conftest import logged_in
from tests.admin.helpers import changelist_url, no_roles, post_action, preview
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

ALIASES = [
    "US/Eastern",
    "US/Pacific",
    "Etc/GMT+5",
    "Etc/UTC",
    "GB",
    "Zulu",
    "EST5EDT",
    "Asia/Calcutta",
    "Europe/Kiev",
    "America/Godthab",
    "Canada/Eastern",
]
CANONICAL = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Europe/Kyiv",
    "America/Nuuk",
    "Europe/Amsterdam",  # its own country's entry, not merged into Europe/Brussels
    "Australia/Sydney",
    "Pacific/Kiritimati",
]


def values(choices) -> list[str]:
    """The option values of (possibly grouped) choices, in order."""
    found = []
    for value, label in choices:
        if isinstance(label, list):
            found.extend(member for member, _ in label)
        else:
            found.append(value)
    return found


def test_the_picker_lists_canonical_zones_without_legacy_aliases():
    offered = values(time_zone_choices())
    assert offered[0] == "UTC"
    assert len(offered) == len(set(offered))
    for alias in ALIASES:
        assert alias not in offered
        assert is_known_zone(alias)  # still a loadable name: stored values keep working
    for name in CANONICAL:
        assert name in offered
    assert all("/" in name for name in offered[1:])


def test_the_picker_has_the_canonical_count_not_the_600_names():
    offered = values(time_zone_choices())
    assert len(offered) == len(canonical_zones()) + 1  # UTC
    assert 300 <= len(offered) <= 420
    assert len(zoneinfo.available_timezones()) > 550  # what it listed before


def test_the_zones_are_grouped_by_area_and_sorted_within():
    choices = time_zone_choices()
    groups = [group for group, members in choices if isinstance(members, list)]
    assert groups == sorted(groups)
    assert {"Africa", "America", "Asia", "Europe", "Pacific"} <= set(groups)
    for group, members in choices[1:]:
        names = [name for name, _ in members]
        assert names == sorted(names)
        assert all(name.startswith(group + "/") for name in names)
    america = dict(dict(choices)["America"])
    assert america["America/New_York"] == "America/New York"


def test_without_a_zone_tab_the_installed_names_under_the_areas_are_offered(monkeypatch):
    monkeypatch.setattr(time_zone, "_zone_tab", lambda: None)
    canonical_zones.cache_clear()
    try:
        names = canonical_zones()
    finally:
        canonical_zones.cache_clear()
    assert "Europe/Berlin" in names
    assert not {"US/Eastern", "Etc/GMT+5", "GB", "Zulu", "EST5EDT"} & set(names)


def test_a_stored_alias_is_offered_after_utc_and_only_then():
    choices = time_zone_choices("US/Eastern")
    assert choices[1] == ("US/Eastern", "US/Eastern (an older name, still valid)")
    assert values(choices).count("US/Eastern") == 1
    assert values(time_zone_choices("Europe/Berlin")).count("Europe/Berlin") == 1
    assert values(time_zone_choices("Atlantis/Capital")) == values(time_zone_choices())
    assert values(time_zone_choices("")) == values(time_zone_choices())


def test_a_new_alias_is_refused_by_the_forms():
    form = TimeZoneForm({"time_zone": "US/Eastern"}, initial={"time_zone": "UTC"})
    assert "time_zone" in form.errors
    extend = ExtendAccessForm(
        {"mode": "days", "days": "3", "time_zone": "GB"}, initial={"time_zone": "UTC"}
    )
    assert "time_zone" in extend.errors


# -- a stored alias through the pages ------------------------------------------------------


@pytest.fixture
def eastern(operator):
    operator.time_zone = "US/Eastern"
    operator.save(update_fields=["time_zone"])
    return operator


@pytest.fixture
def enrollment(db):
    return EnrollmentFactory(
        course=CourseFactory(title="Python Basics"),
        ended_at=datetime(2036, 3, 1, 12, 0, tzinfo=UTC),  # 07:00 EST
    )


def test_a_stored_alias_still_sets_the_admins_zone(eastern, enrollment):
    html = logged_in(eastern).get(changelist_url()).content.decode()
    assert '2036-03-01 <span class="instant-time">07:00 EST</span>' in html


def test_the_time_zone_page_shows_and_keeps_a_stored_alias(eastern):
    client = logged_in(eastern)
    page = client.get(reverse("admin_time_zone"))
    assert page.context["form"]["time_zone"].value() == "US/Eastern"
    assert '<option value="US/Eastern" selected>' in page.content.decode()
    saved = client.post(reverse("admin_time_zone"), {"time_zone": "US/Eastern"})
    assert saved.status_code == 302
    eastern.refresh_from_db()
    assert eastern.time_zone == "US/Eastern"
    # Choosing a canonical zone replaces it; the alias is then no longer offered.
    client.post(reverse("admin_time_zone"), {"time_zone": "America/New_York"})
    eastern.refresh_from_db()
    assert eastern.time_zone == "America/New_York"
    again = client.get(reverse("admin_time_zone")).content.decode()
    assert 'value="US/Eastern"' not in again


def test_the_extend_form_previews_in_a_stored_alias(eastern, operator_client, enrollment):
    page = post_action(operator_client, "extend_access", [enrollment.pk])
    assert page.context["form"]["time_zone"].value() == "US/Eastern"
    shown = preview(operator_client, page, days="3", time_zone="US/Eastern")
    assert shown.context["form"].errors == {}
    assert shown.context["preview"].changed_rows[0].current_end == "2036-03-01 07:00 EST"
    eastern.refresh_from_db()
    assert eastern.time_zone == "US/Eastern"


def test_the_user_admin_shows_and_saves_a_stored_alias(admin_user, client):
    client.force_login(admin_user)
    user = UserFactory(first_name="Ada", last_name="L", time_zone="Asia/Calcutta")
    url = reverse("admin:lms_user_change", args=[user.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    assert form["time_zone"].value() == "Asia/Calcutta"
    html = page.content.decode()
    assert '<option value="Asia/Calcutta" selected>' in html
    assert 'value="Asia/Kolkata"' in html
    assert 'value="US/Eastern"' not in html
    data = {
        "email": user.email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "time_zone": "Asia/Calcutta",
        "is_active": "on",
        **no_roles("course_roles"),
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (user.last_name, user.time_zone) == ("Lovelace", "Asia/Calcutta")
    # An alias other than the stored one is refused: the picker does not list it.
    refused = client.post(url, {**data, "time_zone": "US/Eastern"})
    assert refused.status_code == 200
    assert "time_zone" in refused.context["adminform"].form.errors
