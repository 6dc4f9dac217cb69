"""The contract's two example mutations, sent verbatim with an API key against the demo data,
return the documented shape."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from enrollments.management.commands.seed_demo import (
    EXAMPLE_COURSE_ID,
    EXAMPLE_ENROLLMENT_ID,
    EXAMPLE_USER_ID,
    STAFF_EMAIL,
)
from enrollments.models import AccessChange, Enrollment
from lms.models import User
from tests.graphql import contract

pytestmark = pytest.mark.django_db

EXTEND_BY_30_DAYS, INDEFINITE = contract.example_documents()


@pytest.fixture
def demo_key(make_key) -> str:
    call_command("seed_demo", force=True, verbosity=0)
    return make_key(User.objects.get(email=STAFF_EMAIL), name="contract examples")


def _assert_documented_shape(enrollment: dict) -> None:
    assert set(enrollment) == {"id", "course", "user", "endedAt"}
    assert enrollment["id"] == str(EXAMPLE_ENROLLMENT_ID)
    assert enrollment["course"] == {"id": str(EXAMPLE_COURSE_ID), "slug": "course-slug"}
    assert enrollment["user"] == {"id": str(EXAMPLE_USER_ID), "name": "Example Student"}


def test_extension_days_example(api, demo_key):
    before = Enrollment.objects.get(pk=EXAMPLE_ENROLLMENT_ID).ended_at

    body = api.post(EXTEND_BY_30_DAYS, key=demo_key)

    assert "errors" not in body
    enrollment = body["data"]["extendStudentCourseAccess"]["enrollment"]
    _assert_documented_shape(enrollment)
    assert enrollment["endedAt"] == int((before + timedelta(days=30)).timestamp())
    assert Enrollment.objects.get(pk=EXAMPLE_ENROLLMENT_ID).ended_at == before + timedelta(days=30)
    audit = AccessChange.objects.filter(enrollment_id=EXAMPLE_ENROLLMENT_ID).first()
    assert audit.action == AccessChange.Action.EXTEND
    assert audit.source == AccessChange.Source.GRAPHQL
    assert audit.actor.email == STAFF_EMAIL


def test_indefinite_example(api, demo_key):
    body = api.post(INDEFINITE, key=demo_key)

    assert "errors" not in body
    enrollment = body["data"]["extendStudentCourseAccess"]["enrollment"]
    _assert_documented_shape(enrollment)
    assert enrollment["endedAt"] is None
    assert Enrollment.objects.get(pk=EXAMPLE_ENROLLMENT_ID).ended_at is None


def test_sample_response_fields_are_all_available(api, demo_key):
    # The sample response also shows completionRate, createdAt, updatedAt and the user's e-mail.
    body = api.post(
        """mutation {
          extendStudentCourseAccess(
            userId: "387b0c87-0f85-44cc-833e-7306c1b5d3e6"
            courseId: "9a1216f7-36de-4c50-8094-2ebfb7d3c383"
            extensionDays: 30
          ) {
            enrollment { id completionRate createdAt updatedAt endedAt
                         course { id slug } user { id name email } }
          }
        }""",
        key=demo_key,
    )
    enrollment = body["data"]["extendStudentCourseAccess"]["enrollment"]
    assert enrollment["completionRate"] == 0.5  # two of the example course's four items
    assert enrollment["createdAt"] == 1672531200
    stored = Enrollment.objects.get(pk=EXAMPLE_ENROLLMENT_ID)
    assert enrollment["updatedAt"] == int(stored.updated_at.timestamp())
    assert enrollment["user"]["email"] == "student@example.com"


def test_extending_an_indefinite_enrollment_by_days_is_the_contracts_no_end_date(api, demo_key):
    api.post(INDEFINITE, key=demo_key)

    body = api.post(EXTEND_BY_30_DAYS, key=demo_key)

    assert body["errors"][0]["message"] == "Current enrollment has no end date"
    assert body["errors"][0]["extensions"]["code"] == "NO_END_DATE"
    assert body["data"] == {"extendStudentCourseAccess": None}
    assert Enrollment.objects.get(pk=EXAMPLE_ENROLLMENT_ID).ended_at is None
