"""The time-zone picker's widget (enrollments/admin/time_zone.py, TimeZoneSelect) writes the
HTML Django's Select writes, option for option, with one template instead of two per option."""

import pytest
from django import forms

from enrollments.admin.forms import ExpireAccessForm, ExtendAccessForm
from enrollments.admin.time_zone import TimeZoneForm, TimeZoneSelect, time_zone_choices
from lms.admin import EmailUserChangeForm


def rendered(widget: forms.Widget, value, attrs=None) -> str:
    widget.choices = time_zone_choices("US/Eastern")  # an alias too: the groups and one extra
    return widget.render("time_zone", value, attrs=attrs)


@pytest.mark.parametrize("value", ["UTC", "Europe/Berlin", "US/Eastern", "", None, "No/Such"])
def test_it_renders_what_djangos_select_renders(value):
    attrs = {"id": "id_time_zone", "required": True, "aria-describedby": "id_time_zone_help"}
    assert rendered(TimeZoneSelect(), value, attrs) == rendered(forms.Select(), value, attrs)


def test_it_writes_every_zone_once_grouped_and_the_chosen_one_selected():
    html = rendered(TimeZoneSelect(), "Europe/Berlin")
    assert html.count("<option ") == sum(
        len(zones) if isinstance(zones, list) else 1 for _, zones in time_zone_choices("US/Eastern")
    )
    assert '<optgroup label="Europe">' in html
    assert '<option value="Europe/Berlin" selected>Europe/Berlin</option>' in html
    assert html.count(" selected") == 1


def test_every_time_zone_field_uses_it():
    fields = [
        ExtendAccessForm().fields["time_zone"],
        ExpireAccessForm().fields["time_zone"],
        TimeZoneForm().fields["time_zone"],
        EmailUserChangeForm.base_fields["time_zone"],
    ]
    assert all(isinstance(field.widget, TimeZoneSelect) for field in fields)


def test_its_template_is_one_render_per_select():
    """One template render for the whole <select>, whatever the zones: what it is for."""
    from django.test.signals import template_rendered

    renders = []

    def count(sender, template, context, **kwargs):
        renders.append(template.name)

    template_rendered.connect(count)
    try:
        rendered(TimeZoneSelect(), "UTC")
        ours = list(renders)
        renders.clear()
        rendered(forms.Select(), "UTC")
    finally:
        template_rendered.disconnect(count)
    assert ours.count("enrollments/widgets/time_zone_select.html") == 1
    assert len(ours) == 2  # the select and its own attrs
    assert len(renders) > 800  # Django's: two per option (~420 zones)
