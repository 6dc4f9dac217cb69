"""Accessible names for the inputs Django's admin renders without one (issue 26, item 6).

A tabular inline prints each field's label once, as a column heading, and every row's inputs
bare: axe counts each of them as an input without a name (WCAG 4.1.2), and a screen reader
announces "edit text" 32 times on a course of eight items. A split date-and-time widget prints
"Date:" and "Time:" as plain text beside its two inputs. Both get an `aria-label` here, named
for the column and the row ("Title, row 2") or for the field and the part ("Expires at, date"),
so the page reads the same as before and says what each input is."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _


def _name_rows(formset_class: type[forms.BaseFormSet]) -> type[forms.BaseFormSet]:
    """The formset class whose forms' inputs carry "<column>, row <n>" ("new row" for the
    template row the admin's "Add another" copies)."""

    class NamedRows(formset_class):  # type: ignore[misc, valid-type]
        def add_fields(self, form: forms.Form, index: int | None) -> None:
            super().add_fields(form, index)
            for name, field in form.fields.items():
                column = field.label or name.replace("_", " ").capitalize()
                if index is None:
                    # Translators: an input's name in the template row "Add another" copies.
                    label = _("%(column)s, new row") % {"column": column}
                else:
                    # Translators: an input's name in a table: its column, then its row number.
                    label = _("%(column)s, row %(row)s") % {"column": column, "row": index + 1}
                field.widget.attrs.setdefault("aria-label", label)

    NamedRows.__name__ = formset_class.__name__
    return NamedRows


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose every input has an accessible name."""

    def get_formset(self, request, obj=None, **kwargs):
        return _name_rows(super().get_formset(request, obj, **kwargs))


class LabelledSplitDateTimes(forms.BaseForm):
    """A form mixin: each split date-and-time field's two inputs are named "<label>, date" and
    "<label>, time"."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.SplitDateTimeWidget):
                date, time = widget.widgets
                # Translators: the accessible names of a date-and-time field's two inputs.
                date.attrs["aria-label"] = _("%(field)s, date") % {"field": field.label}
                time.attrs["aria-label"] = _("%(field)s, time") % {"field": field.label}
