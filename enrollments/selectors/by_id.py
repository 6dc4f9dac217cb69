"""Look-ups by the ids the API's arguments carry: one row, or the domain error the contract
names for an unknown id (a malformed id is unknown too, never a database error)."""

from enrollments.errors import (
    CourseItemNotFound,
    CourseNotFound,
    MembershipNotFound,
    NotEnrolled,
    UserNotFound,
)
from enrollments.models import Enrollment
from lms.identifiers import parse_uuid
from lms.models import Course, CourseItem, User


def enrollment_get_for_student(*, user_id: object, course_id: object) -> Enrollment:
    """The enrollment of that user in that course. Unknown or malformed ids: NotEnrolled."""
    user_uuid, course_uuid = parse_uuid(user_id), parse_uuid(course_id)
    if user_uuid is None or course_uuid is None:
        raise NotEnrolled("malformed user or course id")
    try:
        return Enrollment.objects.select_related("course", "user").get(
            user_id=user_uuid, course_id=course_uuid
        )
    except Enrollment.DoesNotExist:
        raise NotEnrolled() from None


def enrollment_get(*, enrollment_id: object) -> Enrollment:
    """The enrollment with that id. Unknown or malformed id: MembershipNotFound."""
    pk = parse_uuid(enrollment_id)
    if pk is None:
        raise MembershipNotFound("malformed id")
    try:
        return Enrollment.objects.select_related("course", "user").get(pk=pk)
    except Enrollment.DoesNotExist:
        raise MembershipNotFound() from None


def course_item_get(*, course_item_id: object) -> CourseItem:
    """The course item with that id. Unknown or malformed id: CourseItemNotFound."""
    pk = parse_uuid(course_item_id)
    if pk is None:
        raise CourseItemNotFound("malformed id")
    try:
        return CourseItem.objects.get(pk=pk)
    except CourseItem.DoesNotExist:
        raise CourseItemNotFound() from None


def learner_get(user_id: object) -> User:
    """The user with that id (the API's userId). Raises UserNotFound, malformed ids alike."""
    pk = parse_uuid(user_id)
    user = User.objects.filter(pk=pk).first() if pk is not None else None
    if user is None:
        raise UserNotFound()
    return user


def course_get(value: str) -> Course:
    """The course with that id (a malformed or unknown id: CourseNotFound)."""
    pk = parse_uuid(value)
    course = Course.objects.filter(pk=pk).first() if pk is not None else None
    if course is None:
        raise CourseNotFound()
    return course
