"""`expireStudentCourseAccess` (Teachify's): end a learner's access now, or at an earlier
instant, keeping their course data. A thin adapter over the core's `Expire` operation; its
business errors arrive in the payload's `errors`, like removeStudentFromCourse's."""

from datetime import UTC, datetime

import graphene
from graphql import GraphQLResolveInfo

from enrollments.errors import EndNotEarlier, InvalidAccessEnd, NotEnrolled
from enrollments.graphql.payload_errors import payload_errors_field, reports_business_errors
from enrollments.graphql.permissions import require_perm
from enrollments.graphql.types import StudentCourseShip, load_membership
from enrollments.models import AccessChange
from enrollments.operations import Expire, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.selectors import enrollment_get_for_student


def unix_to_end(seconds: int) -> datetime:
    """customEndedAt as an aware UTC datetime; a value no calendar holds is INVALID_ACCESS_END
    (the operation checks the range)."""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidAccessEnd("customEndedAt is out of range") from None


class ExpireStudentCourseAccessPayload(graphene.ObjectType):
    enrollment = graphene.Field(
        StudentCourseShip, description="The updated enrollment with expired access"
    )
    errors = payload_errors_field()


@reports_business_errors(
    "errors",
    {
        NotEnrolled: ("userId", "courseId"),
        InvalidAccessEnd: ("customEndedAt",),
        EndNotEarlier: ("customEndedAt",),
    },
)
def resolve_expire_student_course_access(
    root,
    info: GraphQLResolveInfo,
    user_id: str,
    course_id: str,
    custom_ended_at: int | None = None,
    reason: str | None = None,
) -> ExpireStudentCourseAccessPayload:
    actor = require_perm(info, Expire.permission)
    operation = Expire(at=unix_to_end(custom_ended_at) if custom_ended_at is not None else None)
    enrollment = enrollment_get_for_student(user_id=user_id, course_id=course_id)
    by = Attribution(actor, AccessChange.Source.GRAPHQL, reason or "")
    apply_to_one(operation, enrollment, by)
    return ExpireStudentCourseAccessPayload(enrollment=load_membership(enrollment.pk))


EXPIRE_STUDENT_COURSE_ACCESS = graphene.Field(
    ExpireStudentCourseAccessPayload,
    name="expireStudentCourseAccess",
    description=(
        "The expireStudentCourseAccess mutation allows you to mark a student’s course access as "
        f"expired while retaining their course data. Needs the {Expire.permission} permission."
    ),
    resolver=resolve_expire_student_course_access,
    user_id=graphene.String(
        name="userId",
        required=True,
        description="ID of the student (User) whose access should be expired",
    ),
    course_id=graphene.String(
        name="courseId", required=True, description="ID of the course to expire access for"
    ),
    custom_ended_at=graphene.Int(
        name="customEndedAt",
        description="Custom expiration date (Unix Timestamp). Defaults to current time",
    ),
    reason=graphene.String(description="Optional reason for expiring the access"),
)
