"""A change through each door arrives at a real receiver on 127.0.0.1 as the event docs/api.md
("Events: what other systems hear") documents for it, verified as a receiver would verify it
(the `standardwebhooks` package, or Healthie's published steps): the GraphQL API
(`extendStudentCourseAccess`, `completeCourseItem`), the admin (Pause... previewed, then
Confirm), a command (`expire_access`), an undo (`undo_batch` of that command's batch) and the
clock's sweep (`manage.py jobs sweep` once an end date passed).

Each door runs as its user drives it, its commit's callbacks run
(captureOnCommitCallbacks), then the worker runs the queued fan-out and delivery jobs
(tests/jobs/worker.run_jobs); a test then compares what the receiver got with docs/api.md's
table and with the rows the change wrote (its event's id and sequence, its audit batch).
"""

from datetime import timedelta

import pytest
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from apikeys.models import APIKey
from enrollments.models import AccessChange, AccessEvent, Enrollment, WebhookEndpoint
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import confirm_page, post_action
from tests.commands.conftest import run_command
from tests.factories import CourseItemFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.graphql.conftest import Api
from tests.graphql.documents import EXTEND
from tests.jobs.worker import run_jobs
from tests.webhooks.receiver import Request, verify_healthie, verify_standard

pytestmark = pytest.mark.django_db

Scheme = WebhookEndpoint.Scheme
DAY = timedelta(days=1)
ACCESS = ["access_state", "has_access"]

COMPLETE = """
mutation ($item: ID!) {
  completeCourseItem(input: {course_item_id: $item}) { courseMembership { id course_status } }
}
"""


@pytest.fixture(params=[Scheme.STANDARD, Scheme.HEALTHIE])
def hook(request, endpoint_for) -> WebhookEndpoint:
    """One endpoint at the receiver, signing with each scheme in turn (Healthie's with a
    query string, which its signed string includes)."""
    path = "/hooks/course-access" if request.param == Scheme.STANDARD else "/hooks/ca?tenant=7"
    return endpoint_for(path, scheme=request.param)


@pytest.fixture
def membership(clock) -> Enrollment:
    """A learner ten days into a course that ends in twenty."""
    return EnrollmentFactory(
        user=UserFactory(email="learner@example.com"),
        start_at=clock.current - 10 * DAY,
        ended_at=clock.current + 20 * DAY,
    )


def through(door):
    """Runs `door` (a callable) as its commit would, then the jobs it queued (the fan-out,
    then each endpoint's delivery) until none is left; returns what the door returned."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = door()
    for _ in range(5):
        ran = run_jobs()
        if not ran:
            break
        assert {job.status for job in ran} == {"SUCCESSFUL"}, [job.traceback for job in ran]
    assert not DBTaskResult.objects.ready().exists()
    return result


def received(hook: WebhookEndpoint, request: Request) -> dict:
    """The body of one delivery, verified as the endpoint's receiver verifies it."""
    if hook.scheme == Scheme.STANDARD:
        payload = verify_standard(hook.secret, request)
        assert request.headers["webhook-id"] == payload["event_id"]
        return payload
    return verify_healthie(hook.secret, request)


def only_delivery(hook: WebhookEndpoint, receiver, event: AccessEvent) -> dict:
    """The receiver got exactly one request, for `event`: its verified body."""
    assert len(receiver.requests) == 1, [r.body for r in receiver.requests]
    (request,) = receiver.requests
    assert request.path == hook.url.removeprefix(f"http://127.0.0.1:{receiver.port}")
    payload = received(hook, request)
    assert payload["event_id"] == str(event.event_id)
    assert payload["sequence"] == event.id
    assert payload["resource_id_type"] == "CourseMembership"
    return payload


def documented(payload: dict) -> dict:
    """What docs/api.md's table fixes for a door: everything but the per-event keys."""
    fixed = ("resource_id", "event_type", "action", "changed_fields", "batch_id", "occurred_at")
    return {key: payload[key] for key in fixed}


def iso(instant) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def batch_of(enrollment: Enrollment, action: str) -> str:
    return str(AccessChange.objects.get(enrollment=enrollment, action=action).batch_id)


def test_the_api_extend_arrives_as_updated_ended_at(hook, receiver, membership, clock, client):
    staff = grant(StaffFactory(), "view_enrollment", "extend_access")
    key = APIKey.objects.create_key(user=staff, name="crm")[1]
    variables = {
        "userId": str(membership.user_id),
        "courseId": str(membership.course_id),
        "extensionDays": 10,
    }
    body = through(lambda: Api(client).post(EXTEND, variables, key=key))
    assert "errors" not in body, body

    event = AccessEvent.objects.get()
    payload = only_delivery(hook, receiver, event)
    assert documented(payload) == {
        "resource_id": str(membership.pk),
        "event_type": "course_membership.updated",
        "action": "extend",
        "changed_fields": ["ended_at"],  # still active: no "+ access"
        "batch_id": batch_of(membership, "extend"),
        "occurred_at": iso(clock.current),
    }


def test_api_progress_arrives_as_updated_progress_fields(hook, receiver, membership, clock, client):
    first = CourseItemFactory(course=membership.course, position=1)
    CourseItemFactory(course=membership.course, position=2)
    key = APIKey.objects.create_key(user=membership.user, name="app")[1]
    body = through(lambda: Api(client).post(COMPLETE, {"item": str(first.pk)}, key=key))
    assert body["data"]["completeCourseItem"]["courseMembership"]["course_status"] == (
        "in_progress"
    )

    payload = only_delivery(hook, receiver, AccessEvent.objects.get())
    assert documented(payload) == {
        "resource_id": str(membership.pk),
        "event_type": "course_membership.updated",
        "action": "progress",
        # course_status too: it changed (not started -> in progress)
        "changed_fields": [
            "course_status",
            "completion_rate",
            "next_incomplete_item",
            "next_next_incomplete_item",
        ],
        "batch_id": None,  # no audit batch: progress is no access change
        "occurred_at": iso(clock.current),
    }

    # Completing the same item again changes nothing: no second event, nothing sent.
    through(lambda: Api(client).post(COMPLETE, {"item": str(first.pk)}, key=key))
    assert AccessEvent.objects.count() == 1 and len(receiver.requests) == 1


def test_the_admin_pause_arrives_as_updated_pause_fields_and_access(
    hook, receiver, membership, clock
):
    operator = grant(StaffFactory(), "view_enrollment", "change_enrollment", "pause_enrollment")
    admin = logged_in(operator)
    shown = post_action(admin, "pause_enrollments", [membership.pk])
    assert shown.status_code == 200
    assert not AccessEvent.objects.exists(), "the preview records nothing"
    done = through(lambda: confirm_page(admin, shown, "Parental leave"))
    assert done.status_code == 302

    payload = only_delivery(hook, receiver, AccessEvent.objects.get())
    assert documented(payload) == {
        "resource_id": str(membership.pk),
        "event_type": "course_membership.updated",
        "action": "pause",
        "changed_fields": ["is_paused", "paused_at", *ACCESS],  # a pause takes access away
        "batch_id": batch_of(membership, "pause"),
        "occurred_at": iso(clock.current),
    }


def expire_by_command(membership: Enrollment) -> str:
    """`expire_access` for the one membership (access ends now); its audit batch id."""
    run = run_command(
        "expire_access", "--user", membership.user.email, "--course", membership.course.slug
    )
    assert run.status == 0, (run.stdout, run.stderr, run.error)
    return batch_of(membership, "expire")


def test_the_command_expire_arrives_as_updated_ended_at_and_access(
    hook, receiver, membership, clock
):
    batch = through(lambda: expire_by_command(membership))

    payload = only_delivery(hook, receiver, AccessEvent.objects.get())
    assert documented(payload) == {
        "resource_id": str(membership.pk),
        "event_type": "course_membership.updated",
        "action": "expire",
        "changed_fields": ["ended_at", *ACCESS],  # an end moved to now ends access
        "batch_id": batch,
        "occurred_at": iso(clock.current),
    }


def test_undoing_the_command_arrives_as_updated_with_the_fields_it_puts_back(
    hook, receiver, membership, clock
):
    ended_at = membership.ended_at

    def expire_then_undo() -> tuple[str, object]:
        # Both doors in one commit: under the `db` fixture the test is one transaction whose
        # on-commit list keeps the first commit's fan-out (captureOnCommitCallbacks runs it but
        # does not drop it), so events.announce would queue no second fan-out; a real commit
        # would. The receiver gets both events; the undo's is the later one.
        expired = expire_by_command(membership)
        clock.advance(minutes=5)
        return expired, run_command("undo_batch", expired, "--reason", "wrong learner")

    expired, run = through(expire_then_undo)
    assert run.status == 0, (run.stdout, run.stderr, run.error)
    membership.refresh_from_db()
    assert membership.ended_at == ended_at

    expire_event, event = AccessEvent.objects.order_by("id")
    assert len(receiver.requests) == 2
    payloads = {
        payload["event_id"]: payload
        for payload in (received(hook, request) for request in receiver.requests)
    }
    assert set(payloads) == {str(expire_event.event_id), str(event.event_id)}
    assert payloads[str(expire_event.event_id)]["action"] == "expire"
    payload = payloads[str(event.event_id)]
    assert payload["sequence"] == event.id > expire_event.id
    undo_batch = batch_of(membership, "undo")
    assert undo_batch != expired
    assert documented(payload) == {
        "resource_id": str(membership.pk),
        "event_type": "course_membership.updated",  # not a removal: updated, what it puts back
        "action": "undo",
        "changed_fields": ["ended_at", *ACCESS],  # the old end, so access again
        "batch_id": undo_batch,  # the undo's own batch (it can be undone in turn)
        "occurred_at": iso(clock.current),
    }


def test_the_clocks_sweep_arrives_as_access_ended_at_the_instant_that_passed(hook, receiver, clock):
    ends = clock.current + DAY
    membership = EnrollmentFactory(start_at=clock.current - 10 * DAY, ended_at=ends)
    through(lambda: run_command("jobs", "sweep"))
    assert receiver.requests == [], "nothing passed yet"

    clock.set(ends + timedelta(minutes=1))
    run = through(lambda: run_command("jobs", "sweep"))
    assert run.status == 0, (run.stdout, run.stderr, run.error)

    payload = only_delivery(hook, receiver, AccessEvent.objects.get())
    assert documented(payload) == {
        "resource_id": str(membership.pk),
        "event_type": "course_membership.updated",
        "action": "access_ended",
        "changed_fields": ACCESS,
        "batch_id": None,  # the clock's: no audit batch
        "occurred_at": iso(ends),  # the instant that passed, not the sweep's
    }

    # A second sweep records and sends nothing more (once per membership and instant).
    through(lambda: run_command("jobs", "sweep"))
    assert AccessEvent.objects.count() == 1 and len(receiver.requests) == 1
