"""WCAG 2.1 AA on every admin page the project adds or customises (issue 26): the list, the add
page and a change page of every model the project registers in the admin (its own apps, and
Django's groups, whose admin it replaces), plus the pages those admins add (a course's role
history, an endpoint's deliveries, a job's page), each with axe-core: 0 violations. The
enumeration covers the expiry reminders' list and page (read-only, a reminder of the learner) and
the audit trail with its course, actor and date-range filters; the learner's user page carries
the learner page's enrollments section (the superuser sees it).

The data is the privacy tests' learner with everything the database can hold about them
(`tests/privacy/helpers.build_history`), so every list has rows and every change page exists.
test_accessibility.py covers the enrollment flows step by step."""

import pytest
from django.urls import reverse

from enrollments.models import OperationRun, WebhookEndpoint
from tests.admin.helpers import pages_of, project_models
from tests.browser.conftest import axe_violations, log_in_directly
from tests.factories import OperatorFactory
from tests.privacy.helpers import build_history

pytestmark = pytest.mark.browser


def test_every_project_admin_page_has_no_axe_violations(page, clock, axe_script):
    history = build_history(clock)
    superuser = OperatorFactory(email="root@example.com")
    log_in_directly(page, superuser)
    course = history.enrollments[0].course
    endpoint = WebhookEndpoint.objects.get()
    run = OperationRun.objects.first()
    paths = ["/admin/"]
    for model in project_models():
        paths += pages_of(model)
    paths += [
        reverse("admin:lms_user_change", args=[history.learner.pk]),
        reverse("admin:lms_course_change", args=[course.pk]),
        f"{reverse('admin:enrollments_webhookendpoint_change', args=[endpoint.pk])}deliveries/",
        reverse("admin:enrollments_operationrun_change", args=[run.pk]),
    ]
    failures: list[str] = []
    visited = 0
    for path in dict.fromkeys(paths):
        response = page.goto(path)
        if response.status == 403:  # an add page of a read-only admin: Django's own page
            continue
        assert response.status == 200, path
        visited += 1
        failures += [f"{path}: {line}" for line in axe_violations(page, axe_script)]
    assert visited >= 25, visited
    assert not failures, "\n".join(failures)
