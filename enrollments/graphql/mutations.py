"""Write operations: thin adapters over the operation core (enrollments.operations).

Each one checks the permission (held globally or through a course role in at least one
course: permissions.require_scope, else FORBIDDEN), parses its input, finds its target within
the actor's scope (outside it: the not-found answer of a target that does not exist), makes
one core call with `source=graphql` and the request's user as the actor (the key's user for API
keys), and returns the enrollment re-read with its progress. The core refuses what a course's
limits refuse its staff (EXTENSION_OVER_COURSE_LIMIT, REASON_REQUIRED: operations/limits.py).
The core writes nothing when it raises. Completing an item is no access operation: it calls
enrollments.progress.completing, under the same rules.

Business errors (DomainErrors) go where each API's clients look (payload_errors): into the
payload's `errors` (extendStudentCourseAccess, Teachify's convention) or `messages` (the
membership mutations, Healthie's), the object null; top-level through errors.format_error when
the document does not select that field. Each resolver says which argument each error blames.

Teachify's course-access mutations share their shape (student_course.py); enroll, expire,
remove and undo live in modules of their own, and this one lists them in `Mutation`.
"""

from collections.abc import Mapping
from typing import Any

import graphene
from graphql import GraphQLResolveInfo

from enrollments.errors import (
    CourseItemNotFound,
    ExtensionOverCourseLimit,
    InvalidExtensionPeriod,
    MembershipNotFound,
)
from enrollments.graphql.enrolling import ENROLL_STUDENT_TO_COURSE
from enrollments.graphql.expiring import EXPIRE_STUDENT_COURSE_ACCESS
from enrollments.graphql.loading import load_membership
from enrollments.graphql.payload_errors import payload_errors_field, reports_business_errors
from enrollments.graphql.permissions import request_user, require_scope
from enrollments.graphql.removing import REMOVE_STUDENT_FROM_COURSE
from enrollments.graphql.student_course import (
    SOURCE,
    apply_to_student,
    enrollment_payload,
    student_course_field,
    unix_instant,
)
from enrollments.graphql.types import CourseMembership
from enrollments.graphql.undoing import undo_access_change_batch_field
from enrollments.models import Enrollment
from enrollments.operations import Extend, Operation, Pause, Resume, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.progress.completing import enrollment_complete_item
from enrollments.selectors.by_id import course_item_get, enrollment_get, enrollment_get_for_student

ExtendStudentCourseAccessPayload = enrollment_payload(
    "ExtendStudentCourseAccessPayload", "The updated enrollment with extended access"
)


class MembershipPayload(graphene.ObjectType):
    course_membership = graphene.Field(
        CourseMembership, name="courseMembership", description="The membership after the change"
    )
    messages = payload_errors_field()


class PauseCourseMembershipPayload(MembershipPayload):
    pass


class ResumeCourseMembershipPayload(MembershipPayload):
    pass


class CompleteCourseItemPayload(MembershipPayload):
    pass


def _membership_input(name: str, verb: str) -> type[graphene.InputObjectType]:
    """The input of pause/resume: which membership, and why (the two differ only in name)."""
    return type(
        name,
        (graphene.InputObjectType,),
        {
            "id": graphene.ID(required=True, description=f"id of the membership to {verb}"),
            "reason": graphene.String(
                description=(
                    "Why (kept in the audit trail; required of a course's staff where the "
                    "course says so)"
                )
            ),
        },
    )


PauseCourseMembershipInput = _membership_input("PauseCourseMembershipInput", "pause")
ResumeCourseMembershipInput = _membership_input("ResumeCourseMembershipInput", "resume")


class CompleteCourseItemInput(graphene.InputObjectType):
    course_item_id = graphene.ID(required=True, description="id of the completed course item")


def extension_in_effect(arguments: Mapping[str, Any]) -> tuple[str, ...]:
    """The argument that set the new end, so the one a course's limit refuses (the mutation's
    precedence: `indefinite` over `newEndedAt` over `extensionDays`)."""
    if arguments.get("indefinite"):
        return ("indefinite",)
    return ("newEndedAt", "extensionDays")


@reports_business_errors(
    "errors",
    {
        InvalidExtensionPeriod: ("newEndedAt", "extensionDays"),
        ExtensionOverCourseLimit: extension_in_effect,
    },
)
def resolve_extend_student_course_access(
    root,
    info: GraphQLResolveInfo,
    user_id: str,
    course_id: str,
    extension_days: int | None = None,
    new_ended_at: int | None = None,
    indefinite: bool | None = None,
    reason: str | None = None,
    from_today: bool | None = None,
) -> graphene.ObjectType:
    actor, scope = require_scope(info, Extend.permission)
    # A newEndedAt no calendar can hold is an invalid extension period.
    until = unix_instant(new_ended_at, error=InvalidExtensionPeriod, argument="newEndedAt")
    operation = Extend(
        days=extension_days, until=until, indefinite=bool(indefinite), from_today=bool(from_today)
    )
    enrollment = apply_to_student(
        operation, actor, scope=scope, user_id=user_id, course_id=course_id, reason=reason
    )
    return ExtendStudentCourseAccessPayload(enrollment=enrollment)


def _change_membership(info: GraphQLResolveInfo, input, operation: Operation) -> Enrollment:  # noqa: A002
    """Applies `operation` (pause or resume) to the membership `input["id"]`; the membership
    after it. A membership outside the actor's scope is NOT_FOUND, as one that does not
    exist."""
    actor, scope = require_scope(info, operation.permission)
    enrollment = enrollment_get(enrollment_id=input["id"])
    if not scope.covers(enrollment.course_id):
        raise MembershipNotFound()
    apply_to_one(operation, enrollment, Attribution(actor, SOURCE, input.get("reason") or ""))
    return load_membership(enrollment.pk, viewer=actor)


@reports_business_errors("messages", {MembershipNotFound: ("id",)})
def resolve_pause(root, info: GraphQLResolveInfo, input) -> PauseCourseMembershipPayload:  # noqa: A002
    return PauseCourseMembershipPayload(course_membership=_change_membership(info, input, Pause()))


@reports_business_errors("messages", {MembershipNotFound: ("id",)})
def resolve_resume(root, info: GraphQLResolveInfo, input) -> ResumeCourseMembershipPayload:  # noqa: A002
    return ResumeCourseMembershipPayload(
        course_membership=_change_membership(info, input, Resume())
    )


@reports_business_errors("messages", {CourseItemNotFound: ("course_item_id",)})
def resolve_complete_item(root, info: GraphQLResolveInfo, input) -> CompleteCourseItemPayload:  # noqa: A002
    """Completes an item in the signed-in user's own enrollment in the item's course."""
    student = request_user(info)
    item = course_item_get(course_item_id=input["course_item_id"])
    enrollment = enrollment_get_for_student(user_id=student.pk, course_id=item.course_id)
    enrollment_complete_item(enrollment=enrollment, item=item)
    return CompleteCourseItemPayload(
        course_membership=load_membership(enrollment.pk, viewer=student)
    )


class Mutation(graphene.ObjectType):
    extend_student_course_access = student_course_field(
        ExtendStudentCourseAccessPayload,
        name="extendStudentCourseAccess",
        description=(
            "The extendStudentCourseAccess mutation allows you to extend a student’s access to "
            "a course by updating the ended_at date. This is useful when you want to grant "
            "additional time for course completion."
        ),
        resolver=resolve_extend_student_course_access,
        user_id="ID of the student (User) whose access should be extended",
        course_id="ID of the course to extend access for",
        extension_days=graphene.Int(
            name="extensionDays",
            description="Number of days to extend the access from the current ended_at date",
        ),
        new_ended_at=graphene.Int(
            name="newEndedAt",
            description=(
                "New expiration date (Unix Timestamp). Takes precedence over extension_days if "
                "both are provided"
            ),
        ),
        indefinite=graphene.Boolean(
            description=(
                "If true, removes the access end date, granting unlimited access. Takes "
                "precedence over all other time parameters"
            ),
        ),
        reason=graphene.String(
            description=(
                "Why access is extended (kept in the audit trail; required of a course's staff "
                "where the course says so)"
            )
        ),
        from_today=graphene.Boolean(
            name="fromToday",
            description=(
                "If true, extensionDays count from now when access has already ended (from the "
                "later of the current ended_at date and now). Default false: from the current "
                "ended_at date, as documented above"
            ),
        ),
    )
    pause_course_membership = graphene.Field(
        PauseCourseMembershipPayload,
        name="pauseCourseMembership",
        description=(
            f"Pauses a membership now. Needs the {Pause.permission} permission (globally, or "
            "through a course role in the membership's course)."
        ),
        resolver=resolve_pause,
        input=PauseCourseMembershipInput(required=True),
    )
    resume_course_membership = graphene.Field(
        ResumeCourseMembershipPayload,
        name="resumeCourseMembership",
        description=(
            "Resumes a paused membership now; the paused time is added to its end of access when "
            f"the course freezes access during pauses. Needs {Resume.permission} (globally, or "
            "through a course role in the membership's course)."
        ),
        resolver=resolve_resume,
        input=ResumeCourseMembershipInput(required=True),
    )
    remove_student_from_course = REMOVE_STUDENT_FROM_COURSE
    expire_student_course_access = EXPIRE_STUDENT_COURSE_ACCESS
    enroll_student_to_course = ENROLL_STUDENT_TO_COURSE
    undo_access_change_batch = undo_access_change_batch_field()
    complete_course_item = graphene.Field(
        CompleteCourseItemPayload,
        name="completeCourseItem",
        description=(
            "Marks a course item completed in the signed-in user's own membership of its course "
            "(idempotent). The membership must give access now."
        ),
        resolver=resolve_complete_item,
        input=CompleteCourseItemInput(required=True),
    )
