"""completeCourseItem racing the deletion of its item (PostgreSQL, threads): an item deleted
while the completion waits for its locks answers as any unknown item, never a server error (the
core's lock order: tests/enrollments/progress/test_complete_deleted_item_postgres.py)."""

import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from enrollments.models import Enrollment, ItemCompletion
from tests.factories import CourseItemFactory, EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

COMPLETE = """
mutation ($item: ID!) {
  completeCourseItem(input: {course_item_id: $item}) {
    courseMembership { id course_status completion_rate }
    messages { field message }
  }
}
"""


def post(key: str, query: str, variables: dict | None = None):
    return Client().post(
        "/graphql/",
        json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_an_item_deleted_while_the_completion_waits_is_not_found_not_a_server_error(make_key):
    """The deletion commits while the completion waits: "Course item not found" in the
    payload's `messages` (as for any unknown item), nothing stored, the count unchanged. The
    completion read its item before waiting; inserting it as completed broke the foreign key
    (an IntegrityError no retry covers: INTERNAL_SERVER_ERROR for bad timing)."""
    enrollment = EnrollmentFactory()
    CourseItemFactory(course=enrollment.course, position=1)
    doomed = CourseItemFactory(course=enrollment.course, position=2)
    doomed_id = str(doomed.pk)  # delete() below sets doomed.pk to None
    key = make_key(enrollment.user)
    # A first request builds the schema and caches the key: the raced one is then quick.
    warm = post(key, "{ courseMemberships(first: 1) { total_count } }")
    assert "errors" not in warm.json(), warm.json()
    deleting = threading.Event()
    answer: dict = {}

    def delete_item_and_hold_the_lock():
        try:
            with transaction.atomic():
                doomed.delete()  # its recount locks the course's enrollments
                deleting.set()
                time.sleep(1.5)  # the completion has read the item and waits on the row lock
        finally:
            connection.close()

    def complete():
        deleting.wait(timeout=10)
        try:
            answer["body"] = post(key, COMPLETE, {"item": doomed_id}).json()
        finally:
            connection.close()

    deleter = threading.Thread(target=delete_item_and_hold_the_lock)
    completer = threading.Thread(target=complete)
    deleter.start()
    completer.start()
    deleter.join(timeout=20)
    completer.join(timeout=20)

    body = answer["body"]
    assert "errors" not in body, body
    assert body["data"]["completeCourseItem"]["messages"] == [
        {"field": "course_item_id", "message": "Course item not found"}
    ]
    assert not ItemCompletion.objects.exists()
    assert Enrollment.objects.get(pk=enrollment.pk).items_completed == 0
