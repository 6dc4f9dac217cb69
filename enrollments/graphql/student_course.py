"""The shape Teachify's course-access mutations share (extendStudentCourseAccess,
expireStudentCourseAccess, removeStudentFromCourse, enrollStudentToCourse): a payload of the
enrollment and `errors`, Unix-seconds instants, the `(userId, courseId)` arguments, and the
step "find the learner's enrollment, apply the operation, re-read it".

Each mutation's own module keeps what differs: its resolver (permission, parsing, which
errors blame which argument) and its descriptions.

Each acts within its caller's scope (permissions.require_scope: the courses where they hold
the operation's permission): an enrollment outside it is NOT_ENROLLED, exactly as one that does
not exist, and the core keeps to the same scope where it locks the row (operations/scope.py).
"""

from datetime import UTC, datetime
from typing import Any

import graphene

from enrollments.errors import DomainError, NotEnrolled
from enrollments.graphql.loading import load_membership
from enrollments.graphql.payload_errors import payload_errors_field
from enrollments.graphql.types import StudentCourseShip
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Operation, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.operations.scope import Scope
from enrollments.selectors.by_id import enrollment_get_for_student
from lms.models import User

SOURCE = AccessChange.Source.GRAPHQL


def unix_instant(
    seconds: int | None, *, error: type[DomainError], argument: str
) -> datetime | None:
    """Unix seconds as an aware UTC datetime (None stays None). A value no calendar can hold
    is the mutation's `error` naming the argument, never a server error."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise error(f"{argument} is out of range") from None


def enrollment_payload(name: str, description: str) -> type[graphene.ObjectType]:
    """A payload of the enrollment (`description` says in what state) and `errors`, in that
    order (payload_errors)."""
    return type(
        name,
        (graphene.ObjectType,),
        {
            "enrollment": graphene.Field(StudentCourseShip, description=description),
            "errors": payload_errors_field(),
        },
    )


def student_course_field(
    payload: type[graphene.ObjectType],
    *,
    name: str,
    description: str,
    resolver,
    user_id: str,
    course_id: str,
    **arguments: Any,
) -> graphene.Field:
    """The mutation's field: the required `userId` and `courseId` (described by `user_id`
    and `course_id`) first, then `arguments` in the order given."""
    return graphene.Field(
        payload,
        name=name,
        description=description,
        resolver=resolver,
        args={
            "user_id": graphene.String(name="userId", required=True, description=user_id),
            "course_id": graphene.String(name="courseId", required=True, description=course_id),
            **arguments,
        },
    )


def apply_to_student(
    operation: Operation,
    actor: User,
    *,
    scope: Scope,
    user_id: str,
    course_id: str,
    reason: str | None,
) -> Enrollment:
    """Applies `operation` to the learner's enrollment in the course as `actor` with
    source=graphql; the enrollment re-read with its progress. NOT_ENROLLED when there is none
    or when its course is outside `scope` (the actor's, for the operation's permission): the
    same error, so a caller cannot tell another course's learner from no learner."""
    enrollment = enrollment_get_for_student(user_id=user_id, course_id=course_id)
    if not scope.covers(enrollment.course_id):
        raise NotEnrolled()
    apply_to_one(operation, enrollment, Attribution(actor, SOURCE, reason or ""))
    return load_membership(enrollment.pk, viewer=actor)
