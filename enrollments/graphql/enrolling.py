"""`enrollStudentToCourse` (Teachify's): enroll a learner by id or e-mail address, creating a
placeholder learner for an unknown address; an existing enrollment is restored or updated by
the rule of operations.enrolling. A thin adapter: it checks the permission, finds the course and
the learner, and makes one core call (operations.enrolling_learners.enrollment_enroll).

Business errors come back in the payload's `errors` (as removeStudentFromCourse's do), each
naming the argument at fault.

A course manager (lms.CourseRole) enrolls in their courses only: a course outside the actor's
scope for ENROLL_LEARNERS answers NOT_FOUND "Course not found" (`field` courseId), exactly as
an unknown course, before anything is read or created (the core refuses it too:
core._refuse_new_outside).
"""

import graphene
from graphql import GraphQLResolveInfo

from enrollments.errors import (
    AccessEndOutOfRange,
    CourseNotFound,
    EnrollmentTargetRequired,
    InvalidAccessEnd,
    InvalidEmail,
    NameRequired,
    PlansNotSupported,
    UserNotFound,
)
from enrollments.graphql.loading import load_membership
from enrollments.graphql.payload_errors import reports_business_errors
from enrollments.graphql.permissions import require_scope
from enrollments.graphql.student_course import SOURCE, enrollment_payload, unix_instant
from enrollments.operations import Enroll
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling_learners import enrollment_enroll
from enrollments.selectors.by_id import course_get, learner_get

EnrollStudentToCoursePayload = enrollment_payload(
    "EnrollStudentToCoursePayload", "The enrollment created, restored or updated"
)


@reports_business_errors(
    "errors",
    {
        UserNotFound: ("userId",),
        CourseNotFound: ("courseId",),
        InvalidEmail: ("email",),
        NameRequired: ("name",),
        PlansNotSupported: ("planId",),
        InvalidAccessEnd: ("endedAt",),
        AccessEndOutOfRange: ("endedAt",),
        EnrollmentTargetRequired: ("userId", "email"),
    },
)
def resolve_enroll_student_to_course(
    root,
    info: GraphQLResolveInfo,
    course_id: str,
    user_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    plan_id: str | None = None,
    ended_at: int | None = None,
) -> graphene.ObjectType:
    actor, scope = require_scope(info, Enroll.permission)
    if plan_id is not None:
        raise PlansNotSupported()
    if user_id is None and not (email or "").strip():
        raise EnrollmentTargetRequired()
    course = course_get(course_id)
    if not scope.covers(course.pk):
        raise CourseNotFound()
    user = learner_get(user_id) if user_id is not None else None
    enrollment = enrollment_enroll(
        course=course,
        user=user,
        email=email,
        name=name,
        ended_at=unix_instant(ended_at, error=InvalidAccessEnd, argument="endedAt"),
        by=Attribution(actor, SOURCE),
    )
    return EnrollStudentToCoursePayload(enrollment=load_membership(enrollment.pk, viewer=actor))


ENROLL_STUDENT_TO_COURSE = graphene.Field(
    EnrollStudentToCoursePayload,
    name="enrollStudentToCourse",
    description=(
        "The enrollStudentToCourse mutation allows you to enroll a student to a specified "
        "course, or update existing enrollment details. Needs the "
        f"{Enroll.permission} permission (globally, or through a course role in the course)."
    ),
    resolver=resolve_enroll_student_to_course,
    # In `args`: the argument called `name` would clash with the field's own `name`.
    args={
        "course_id": graphene.String(
            name="courseId",
            required=True,
            description="ID of the course to enroll the student into",
        ),
        "user_id": graphene.String(name="userId", description="ID of the student (User) to enroll"),
        "email": graphene.String(
            description=(
                "Email of the student. If user doesn't exist, a placeholder user will be created"
            )
        ),
        "name": graphene.String(
            description="Name of the student. Required when creating a new user"
        ),
        "plan_id": graphene.String(
            name="planId", description="ID of the curriculum plan to apply to this enrollment"
        ),
        "ended_at": graphene.Int(
            name="endedAt",
            description="Optional expiration date for the enrollment (Unix Timestamp)",
        ),
    },
)
