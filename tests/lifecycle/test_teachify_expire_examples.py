"""Teachify's two documented expireStudentCourseAccess examples, sent verbatim (the ids
substituted) with an API key in Teachify's header, return the documented shape."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from enrollments.models import AccessChange
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.lifecycle.teachify import ENROLLMENT

pytestmark = pytest.mark.django_db

EXPIRE_NOW = f"""mutation ExpireStudentAccess {{
  expireStudentCourseAccess(
    userId: "USER_ID"
    courseId: "COURSE_ID"
  ) {{
{ENROLLMENT}
  }}
}}"""

EXPIRE_WITH_CUSTOM_DATE = """mutation ExpireStudentAccessWithCustomDate {
  expireStudentCourseAccess(
    userId: "USER_ID"
    courseId: "COURSE_ID"
    customEndedAt: 1735689600
    reason: "Course access expired due to non-payment"
  ) {
    enrollment {
      id
      endedAt
      course {
        id
        name
      }
      user {
        id
        name
      }
    }
  }
}"""


@pytest.fixture
def key(make_key):
    """An integration's key: it ends access and reads the learners it shows (without
    view_enrollment the payload's e-mail is null: tests/graphql/test_payload_email.py)."""
    staff = StaffFactory()
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="enrollments",
            codename__in=["expire_access", "view_enrollment"],
        )
    )
    return make_key(staff)


@pytest.fixture
def learner(clock):
    """Enrolled since 2024-06-01, access until 2026-06-01 (the clock: 2026-01-01)."""
    return EnrollmentFactory(
        user=UserFactory(email="jane@example.com", first_name="Jane", last_name="Doe"),
        course=CourseFactory(title="Data Basics", slug="data-basics"),
        start_at=datetime(2024, 6, 1, tzinfo=UTC),
        ended_at=clock.current + timedelta(days=151),
    )


def send(api, document: str, key: str, enrollment) -> dict:
    document = document.replace("USER_ID", str(enrollment.user_id))
    document = document.replace("COURSE_ID", str(enrollment.course_id))
    return api.post(document, HTTP_X_TEACHIFY_API_KEY=key)


def test_expire_now_example(api, key, learner, clock):
    body = send(api, EXPIRE_NOW, key, learner)
    assert "errors" not in body
    enrollment = body["data"]["expireStudentCourseAccess"]["enrollment"]
    now = int(clock.current.timestamp())
    assert enrollment == {
        "id": str(learner.pk),
        "completionRate": 0.0,
        "createdAt": int(learner.created_at.timestamp()),
        "updatedAt": now,
        "endedAt": now,
        "course": {"id": str(learner.course_id), "name": "Data Basics", "slug": "data-basics"},
        "user": {"id": str(learner.user_id), "name": "Jane Doe", "email": "jane@example.com"},
    }
    audit = AccessChange.objects.get(enrollment=learner)
    assert (audit.action, audit.source, audit.new_ended_at) == ("expire", "graphql", clock.current)


def test_expire_with_custom_date_example(api, key, learner):
    body = send(api, EXPIRE_WITH_CUSTOM_DATE, key, learner)
    assert "errors" not in body
    enrollment = body["data"]["expireStudentCourseAccess"]["enrollment"]
    assert enrollment == {
        "id": str(learner.pk),
        "endedAt": 1735689600,
        "course": {"id": str(learner.course_id), "name": "Data Basics"},
        "user": {"id": str(learner.user_id), "name": "Jane Doe"},
    }
    learner.refresh_from_db()
    assert learner.ended_at == datetime(2025, 1, 1, tzinfo=UTC)
    audit = AccessChange.objects.get(enrollment=learner)
    assert audit.reason == "Course access expired due to non-payment"
    assert audit.old_ended_at == datetime(2026, 6, 1, tzinfo=UTC)
