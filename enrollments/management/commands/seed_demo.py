"""Loads demo data: courses with items and about 50 learners in every access state.

Idempotent: ids are derived from stable names (uuid5), existing rows are left as they are, so
running it twice changes nothing. It includes the contract's example learner and course, so the
README's GraphQL examples run verbatim against the demo.
"""

import os
import uuid
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction

from enrollments import clock
from enrollments.models import AccessChange, Enrollment
from enrollments.services import (
    enrollment_complete_item,
    enrollment_create,
    enrollment_extend_access,
    enrollment_pause,
)
from lms.models import Course, CourseItem, User

NAMESPACE = uuid.UUID("5b0c6a43-4a7e-4d8a-9a44-0c3f1d2e7a10")

#: The contract's examples (../shared/spec, 003) use these ids.
EXAMPLE_USER_ID = uuid.UUID("387b0c87-0f85-44cc-833e-7306c1b5d3e6")
EXAMPLE_COURSE_ID = uuid.UUID("9a1216f7-36de-4c50-8094-2ebfb7d3c383")
EXAMPLE_ENROLLMENT_ID = uuid.UUID("619ad939-8591-40ad-9364-cf3825a9bf70")
EXAMPLE_CREATED_AT = datetime.fromtimestamp(1672531200, tz=UTC)

STAFF_EMAIL = "admin@example.com"
DEFAULT_STAFF_PASSWORD = "demo-admin-password"  # noqa: S105 - demo only, printed on purpose

COURSES = [
    # (id, slug, title, access_days, pause_freezes_access, item count)
    (EXAMPLE_COURSE_ID, "course-slug", "Example Course", 365, True, 4),
    (None, "python-basics", "Python Basics", 90, True, 6),
    (None, "django-in-depth", "Django in Depth", 180, False, 8),
    (None, "sql-for-everyone", "SQL for Everyone", None, True, 5),
]

#: Learners' names: learner n is FIRST_NAMES[n % 10] LAST_NAMES[n // 10 % 10], so the demo has
#: first and last names to show in the admin, the access report and the API's `first_name`,
#: `last_name` and `full_name`.
FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Radia",
    "Tim",
)
LAST_NAMES = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Berners-Lee",
)

STATES = ["active", "expired", "indefinite", "not_started", "paused", "completed", "in_progress"]


def stable_id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


class Command(BaseCommand):
    help = "Load demo courses, items and ~50 learners in every access state (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--learners", type=int, default=49, help="learners besides the example one"
        )

    @transaction.atomic
    def handle(self, *args, learners: int, **options):
        staff = self._staff()
        courses = [self._course(*spec) for spec in COURSES]
        self._example_enrollment(courses[0])
        for n in range(learners):
            user = self._user(
                stable_id(f"learner-{n}"),
                f"learner{n}@example.com",
                FIRST_NAMES[n % len(FIRST_NAMES)],
                LAST_NAMES[n // len(FIRST_NAMES) % len(LAST_NAMES)],
            )
            course = courses[1 + n % (len(courses) - 1)]
            self._enroll_in_state(user, course, STATES[n % len(STATES)])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Course.objects.count()} courses, "
                f"{Enrollment.objects.count()} enrollments.\n"
                f"Staff login: {staff.email} / {self._staff_password()}  "
                "(the admin is at /admin/)"
            )
        )

    def _staff_password(self) -> str:
        return os.environ.get("DEMO_ADMIN_PASSWORD", DEFAULT_STAFF_PASSWORD)

    def _staff(self) -> User:
        staff = User.objects.filter(email__iexact=STAFF_EMAIL).first()
        if staff is None:
            staff = User.objects.create_superuser(
                STAFF_EMAIL, self._staff_password(), first_name="Demo", last_name="Admin"
            )
        return staff

    def _user(self, pk: uuid.UUID, email: str, first_name: str, last_name: str) -> User:
        user, created = User.objects.get_or_create(
            pk=pk, defaults={"email": email, "first_name": first_name, "last_name": last_name}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def _course(self, pk, slug, title, access_days, freezes, item_count) -> Course:
        course, created = Course.objects.get_or_create(
            slug=slug,
            defaults={
                "id": pk or stable_id(f"course-{slug}"),
                "title": title,
                "description": f"Demo course: {title}.",
                "access_days": access_days,
                "pause_freezes_access": freezes,
            },
        )
        if created:
            CourseItem.objects.bulk_create(
                CourseItem(
                    id=stable_id(f"{slug}-item-{p}"),
                    course=course,
                    title=f"{title}: part {p}",
                    kind=CourseItem.Kind.QUIZ if p % 3 == 0 else CourseItem.Kind.LESSON,
                    position=p,
                )
                for p in range(1, item_count + 1)
            )
        return course

    def _example_enrollment(self, course: Course) -> None:
        """The contract's sample: half the items done, an end date, created 2023-01-01."""
        user = self._user(EXAMPLE_USER_ID, "student@example.com", "Example", "Student")
        if Enrollment.objects.filter(user=user, course=course).exists():
            return
        enrollment = enrollment_create(user=user, course=course, reason="demo data")
        Enrollment.objects.filter(pk=enrollment.pk).update(
            id=EXAMPLE_ENROLLMENT_ID, created_at=EXAMPLE_CREATED_AT
        )
        AccessChange.objects.filter(enrollment_id=enrollment.pk).update(
            enrollment_id=EXAMPLE_ENROLLMENT_ID
        )
        enrollment = Enrollment.objects.get(pk=EXAMPLE_ENROLLMENT_ID)
        for item in course.items.order_by("position")[:2]:
            enrollment_complete_item(enrollment=enrollment, item=item)

    def _enroll_in_state(self, user: User, course: Course, state: str) -> None:
        if Enrollment.objects.filter(user=user, course=course).exists():
            return
        now = clock.now()
        start = {
            "expired": now - timedelta(days=(course.access_days or 90) + 30),
            "not_started": now + timedelta(days=7),
        }.get(state, now - timedelta(days=5))
        enrollment = enrollment_create(user=user, course=course, start_at=start, reason="demo data")
        if state == "expired" and enrollment.ended_at is None:
            Enrollment.objects.filter(pk=enrollment.pk).update(ended_at=now - timedelta(days=30))
        elif state == "indefinite" and enrollment.ended_at is not None:
            enrollment_extend_access(
                enrollment=enrollment,
                indefinite=True,
                actor=None,
                source=AccessChange.Source.SYSTEM,
                reason="demo data",
            )
        elif state == "paused":
            enrollment_pause(
                enrollment=enrollment,
                actor=None,
                source=AccessChange.Source.SYSTEM,
                reason="demo data",
            )
        elif state in ("completed", "in_progress"):
            items = list(course.items.order_by("position"))
            done = items if state == "completed" else items[: len(items) // 2]
            for item in done:
                enrollment_complete_item(enrollment=enrollment, item=item)
