"""The one preview/confirm view (enrollments/admin/confirming.py) as a new page would adopt
it: a `Scope` of its own (hidden fields, URLs, words) and an operation with a parameter,
built from an OperationForm subclass. Pause, resume and remove use it with no parameter
(tests/admin/test_pause_resume.py, tests/lifecycle/test_remove_admin.py), extend and expire
with their forms, enroll and undo with their own hooks (tests/lifecycle/)."""

from datetime import timedelta

import pytest
from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import get_resolver
from django.utils.translation import ngettext_lazy

from enrollments.admin.confirming import OperationPage, Scope
from enrollments.admin.forms import OperationForm
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection
from tests.commands.conftest import snapshot
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

URL = "/admin/enrollments/enrollment/some-page/"


class DaysForm(OperationForm):
    days = forms.IntegerField(label="Days", required=False)

    def operation(self) -> Extend:
        return Extend(days=self.cleaned_data["days"])

    def rule_error_field(self) -> str:
        return "days"


PAGE = OperationPage(
    "extend_batch",
    Extend,
    form_class=DaysForm,
    title="Extend a batch",
    # The page's words: whole sentences with their plural forms (marked for translation).
    done=ngettext_lazy("Extended %(count)s enrollment", "Extended %(count)s enrollments", "n"),
    will=ngettext_lazy(
        "%(count)s enrollment will be extended.", "%(count)s enrollments will be extended.", "n"
    ),
    will_heading="Will be extended",
)


def call(user, enrollment, data=None):
    # A real request has resolved the URLconf before any view runs, and importing it registers
    # admins (axes'); called directly, the admin's app list would meet that mid-iteration.
    get_resolver().url_patterns  # noqa: B018
    factory = RequestFactory()
    request = factory.post(URL, data) if data is not None else factory.get(URL)
    request.user = user
    request.session = SessionStore()
    MessageMiddleware(lambda request: None).process_request(request)  # the messages storage
    scope = Scope(
        selection=Selection.named([enrollment.pk]),
        form_url=URL,
        cancel_url="/back/",
        done_url="/done/",
        hidden_fields=(("batch", "b-1"),),
        description="the enrollments of batch b-1",
    )
    response = PAGE.respond(admin.site.get_model_admin(Enrollment), request, scope)
    if hasattr(response, "render"):
        response.render()
    return request, response


@pytest.fixture
def enrollment(clock):
    return EnrollmentFactory(ended_at=clock.current + timedelta(days=5))


def test_a_page_with_a_parameter_asks_for_it_then_previews_then_confirms(operator, enrollment):
    before = snapshot()
    _, first = call(operator, enrollment)
    html = first.content.decode()
    assert first.context_data["preview"] is None
    assert 'name="_preview" value="Preview"' in html
    assert 'name="_confirm"' not in html
    assert '<input type="hidden" name="batch" value="b-1">' in html
    assert f'action="{URL}"' in html
    assert "For <strong>the enrollments of batch b-1</strong>." in html

    _, shown = call(operator, enrollment, {"days": "3", "_preview": "Preview", "batch": "b-1"})
    assert shown.context_data["preview"].changed == 1
    html = shown.content.decode()
    assert 'value="Update preview"' in html
    assert "<strong>1</strong> enrollment will be extended." in html
    assert snapshot() == before

    fingerprint = shown.context_data["fingerprint"]
    request, done = call(
        operator, enrollment, {"days": "3", "_confirm": "Confirm", "fingerprint": fingerprint}
    )
    assert done["Location"] == "/done/"
    assert [str(m) for m in get_messages(request)] == ["Extended 1 enrollment."]
    assert AccessChange.objects.get().new_ended_at == enrollment.ended_at + timedelta(days=3)


def test_a_rule_error_is_shown_at_the_form_s_field(operator, enrollment):
    before = snapshot()
    _, shown = call(operator, enrollment, {"days": "0", "_preview": "Preview"})
    assert shown.context_data["preview"] is None
    assert list(shown.context_data["form"].errors) == ["days"]
    assert 'id="id_days_error"' in shown.content.decode()
    _, refused = call(
        operator, enrollment, {"days": "0", "_confirm": "Confirm", "fingerprint": "x"}
    )
    assert list(refused.context_data["form"].errors) == ["days"]
    assert snapshot() == before


def test_the_operation_s_permission_is_asked_again(viewer, enrollment):
    with pytest.raises(PermissionDenied):
        call(viewer, enrollment, {"days": "3", "_preview": "Preview"})
    assert AccessChange.objects.count() == 0
