"""An audit trail for the `auditLog` tests (test_audit_log.py, test_audit_log_doors.py): two
courses' access changes, one a minute, with actors, reasons and no actor."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Permission

from enrollments.models import AccessChange
from tests.factories import (
    AccessChangeFactory,
    CourseFactory,
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def view_trail(user) -> None:
    """Django's `view_accesschange`: the audit trail, every course."""
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="enrollments", codename="view_accesschange")
    )


class Trail:
    """Two courses' records: course A has Ann's membership (enrolled, extended by Sam with a
    reason, paused by the system, resumed, removed by Sam) and Bob's (extended); course B has
    Cy's (extended by Sam). One record a minute from T0, in that order."""

    def __init__(self) -> None:
        self.sam = StaffFactory(email="sam@example.com", first_name="Sam", last_name="Ng")
        self.course_a, self.course_b = CourseFactory(), CourseFactory()
        self.ann = EnrollmentFactory(
            course=self.course_a,
            user=UserFactory(email="ann@e.com", first_name="Ann", last_name="Lee"),
        )
        self.bob = EnrollmentFactory(
            course=self.course_a,
            user=UserFactory(email="bob@e.com", first_name="Bob", last_name="Lee"),
        )
        self.cy = EnrollmentFactory(
            course=self.course_b,
            user=UserFactory(email="cy@e.com", first_name="Cy", last_name="Lee"),
        )
        end = T0 + timedelta(days=30)
        Action = AccessChange.Action
        specs = [
            (self.ann, Action.ENROLL, None, {"new_ended_at": end}),
            (
                self.ann,
                Action.EXTEND,
                self.sam,
                {"old_ended_at": end, "new_ended_at": end + timedelta(days=7), "reason": "ok'd"},
            ),
            (self.ann, Action.PAUSE, None, {"old_is_paused": False, "new_is_paused": True}),
            (self.ann, Action.RESUME, None, {"old_is_paused": True, "new_is_paused": False}),
            (self.bob, Action.EXTEND, None, {"old_ended_at": end, "new_ended_at": end}),
            (self.ann, Action.REMOVE, self.sam, {"reason": "left"}),
            (self.cy, Action.EXTEND, self.sam, {"reason": "B's reason"}),
        ]
        self.rows = [
            AccessChangeFactory(
                enrollment=enrollment,
                action=action,
                actor=actor,
                created_at=T0 + timedelta(minutes=minute),
                **fields,
            )
            for minute, (enrollment, action, actor, fields) in enumerate(specs)
        ]

    def ids(self, *indexes: int) -> list[str]:
        """The records' ids, newest first (the log's order)."""
        return [str(self.rows[i].pk) for i in sorted(indexes, reverse=True)]
