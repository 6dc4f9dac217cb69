"""Loads demo data that shows every documented feature, so that the docs' examples run verbatim.

- four courses with items; 131 enrollments (the README's number: tests/test_readme.py), more
  than one admin page (50 a page), so that "Select all N" appears;
- learners in every access state and course status, in every course, among them some whose
  access ends within the next 7 days (access_report --ending-within 7, notify_expiring) and some
  whose access ended in the last 30 days (access_report --ended-within 30);
- the people the docs name: ann@ and bob@example.com (learners in python-basics and
  sql-for-everyone), lead@example.com (staff who may extend, pause and resume: the docs'
  --actor), admin@example.com (the superuser, with the printed demo password),
  instructor@example.com (staff of one course only, within its limits: docs/admin.md "Set up
  an instructor"), and the contract's example learner, course and enrollment
  (student@example.com, course-slug).

Dates are relative to now, so the demo stays current. Idempotent: ids are derived from stable
names (uuid5), existing rows are left as they are, so running it twice changes nothing.

It creates a superuser with a published password: with DEBUG off (a production database, most
likely) it refuses unless --force is given.
"""

import os
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments import clock
from enrollments.models import AccessChange, AccessEvent, Enrollment
from enrollments.operations import Extend, Pause, Remove, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling_learners import enrollment_create
from enrollments.permissions import CUSTOM, VIEW_ACCESS_CHANGE, VIEW_ENROLLMENT
from enrollments.progress.completing import enrollment_complete_item
from lms.command_options import TranslatedCommand
from lms.models import Course, CourseItem, CourseRole, User

NAMESPACE = uuid.UUID("5b0c6a43-4a7e-4d8a-9a44-0c3f1d2e7a10")

#: The contract's examples (../shared/spec, 003) use these ids.
EXAMPLE_USER_ID = uuid.UUID("387b0c87-0f85-44cc-833e-7306c1b5d3e6")
EXAMPLE_COURSE_ID = uuid.UUID("9a1216f7-36de-4c50-8094-2ebfb7d3c383")
EXAMPLE_ENROLLMENT_ID = uuid.UUID("619ad939-8591-40ad-9364-cf3825a9bf70")
EXAMPLE_CREATED_AT = datetime.fromtimestamp(1672531200, tz=UTC)

STAFF_EMAIL = "admin@example.com"
DEFAULT_STAFF_PASSWORD = "demo-admin-password"  # noqa: S105 - demo only, printed on purpose
#: Staff who may change access (every lifecycle operation) but is no superuser (the docs'
#: --actor).
LEAD_EMAIL = "lead@example.com"
LEAD_PERMISSIONS = [
    permission.codename for permission in (VIEW_ENROLLMENT, VIEW_ACCESS_CHANGE, *CUSTOM)
]
#: A course's staff member (a course role, no global permission): they see and change only
#: INSTRUCTOR_COURSE's learners, at most INSTRUCTOR_MAX_DAYS days a change, with a reason.
INSTRUCTOR_EMAIL = "instructor@example.com"
INSTRUCTOR_COURSE = "python-basics"
INSTRUCTOR_MAX_DAYS = 30
#: The lifecycle's examples (README "Trying the lifecycle"), one learner per situation:
#: carol@ was extended by 365 days instead of 65 (correct it with "End access / set end"),
#: dan@'s access ended 20 days ago (extend from today), erin@ was removed from the course
#: (enroll her again: the same enrollment comes back), and fay@, gus@ and hal@ got 300 days
#: instead of 30 in one bulk extension in course-slug (undo that batch, DEMO_MISTAKEN_BATCH_ID).
OVER_EXTENDED_EMAIL = "carol@example.com"
EXPIRED_EMAIL = "dan@example.com"
REMOVED_EMAIL = "erin@example.com"
MISTAKEN_BATCH_EMAILS = ("fay@example.com", "gus@example.com", "hal@example.com")
DEMO_MISTAKEN_BATCH_ID = uuid.UUID("b47c4e55-0d3a-4c9e-9f63-2c1a7e5d8f01")
#: The learners the docs' examples name: (e-mail, first name, last name, [(course slug, state)]).
NAMED_LEARNERS = [
    (
        "ann@example.com",
        "Ann",
        "Example",
        [("python-basics", "active"), ("sql-for-everyone", "active")],
    ),
    (
        "bob@example.com",
        "Bob",
        "Example",
        [("python-basics", "active"), ("sql-for-everyone", "ending_soon")],
    ),
]

COURSES = [
    # (id, slug, title, access_days, pause_freezes_access, item count)
    (EXAMPLE_COURSE_ID, "course-slug", "Example Course", 365, True, 4),
    (None, "python-basics", "Python Basics", 90, True, 6),
    (None, "django-in-depth", "Django in Depth", 180, False, 8),
    (None, "sql-for-everyone", "SQL for Everyone", None, True, 5),
]

#: Learners' names: learner n is FIRST_NAMES[n % 12] LAST_NAMES[n // 12 % 10] (120 different
#: names for the 120 learners of the default), so the demo has
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
    "Margaret",
    "John",
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

STATES = [
    "active",
    "expired",
    "indefinite",
    "not_started",
    "paused",
    "completed",
    "in_progress",
    "ending_soon",  # access ends within the next 7 days
    "ended_recently",  # access ended within the last 30 days
]


def stable_id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Load demo courses, items, staff and ~125 learners in every access state (idempotent). "
        "Refused with DEBUG off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--learners", type=int, default=120, help=gettext("numbered learners (default 120)")
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=gettext(
                "load the demo even with DEBUG off (it creates a superuser with a known password)"
            ),
        )

    @transaction.atomic
    def handle(self, *args, learners: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                gettext(
                    "DEBUG is off, so this looks like a production database: seed_demo would "
                    "create the superuser %(email)s with a published password. Use --force to "
                    "load the demo data anyway."
                )
                % {"email": STAFF_EMAIL}
            )
        staff = self._staff()
        self._lead()
        courses = [self._course(*spec) for spec in COURSES]
        by_slug = {course.slug: course for course in courses}
        self._example_enrollment(courses[0])
        for email, first_name, last_name, enrollments in NAMED_LEARNERS:
            user = self._user(stable_id(email), email, first_name, last_name)
            for slug, state in enrollments:
                self._enroll_in_state(user, by_slug[slug], state, offset=len(email))
        others = courses[1:]
        for n in range(learners):
            user = self._user(
                stable_id(f"learner-{n}"),
                f"learner{n}@example.com",
                FIRST_NAMES[n % len(FIRST_NAMES)],
                LAST_NAMES[n // len(FIRST_NAMES) % len(LAST_NAMES)],
            )
            # Every state in every course: the course cycles fastest, the state after it.
            course = others[n % len(others)]
            state = STATES[(n // len(others)) % len(STATES)]
            self._enroll_in_state(user, course, state, offset=n)
        self._lifecycle_examples(staff, by_slug)
        self._instructor(staff, by_slug[INSTRUCTOR_COURSE])
        enrollments = Enrollment.objects.count()
        lines = (
            ngettext(
                "Demo data ready: %(courses)d courses, %(enrollments)d enrollments.",
                "Demo data ready: %(courses)d courses, %(enrollments)d enrollments.",
                enrollments,
            )
            % {"courses": Course.objects.count(), "enrollments": enrollments},
            gettext("Staff login: %(email)s / %(password)s  (the admin is at /admin/)")
            % {"email": staff.email, "password": self._staff_password()},
            gettext("Team lead (changes access; no superuser): %(email)s, same password")
            % {"email": LEAD_EMAIL},
            gettext("Instructor (staff of %(course)s only): %(email)s, same password")
            % {"course": INSTRUCTOR_COURSE, "email": INSTRUCTOR_EMAIL},
        )
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def _lifecycle_examples(self, staff: User, by_slug: dict[str, Course]) -> None:
        """One learner for each lifecycle operation to try (see OVER_EXTENDED_EMAIL), each
        brought into its situation through the core, so the audit trail shows how."""
        python, django_course = by_slug["python-basics"], by_slug["django-in-depth"]
        # The mistaken batch is in the example course, which no command example of the docs
        # changes: undoing it works whenever the docs' examples run.
        example_course = by_slug["course-slug"]
        by = Attribution(staff, AccessChange.Source.ADMIN, "demo data")
        carol = self._named(OVER_EXTENDED_EMAIL, "Carol")
        if not Enrollment.objects.filter(user=carol, course=python).exists():
            enrollment = enrollment_create(
                user=carol, course=python, start_at=clock.now() - timedelta(days=5)
            )
            mistake = Attribution(staff, AccessChange.Source.ADMIN, "365 days instead of 65")
            apply(Extend(days=365), Selection.named([enrollment.pk]), mistake)
        dan = self._named(EXPIRED_EMAIL, "Dan")
        self._enroll_in_state(dan, django_course, "ended_recently", offset=17)
        erin = self._named(REMOVED_EMAIL, "Erin")
        if not Enrollment.objects.filter(user=erin, course=python).exists():
            enrollment = enrollment_create(
                user=erin, course=python, start_at=clock.now() - timedelta(days=20)
            )
            enrollment_complete_item(enrollment=enrollment, item=python.items.first())
            apply(Remove(), Selection.named([enrollment.pk]), by)
        batch = [self._named(email, email.split("@")[0].title()) for email in MISTAKEN_BATCH_EMAILS]
        if not AccessChange.objects.filter(batch_id=DEMO_MISTAKEN_BATCH_ID).exists():
            ids = [
                enrollment_create(user=user, course=example_course).pk
                for user in batch
                if not Enrollment.objects.filter(user=user, course=example_course).exists()
            ]
            mistake = Attribution(
                staff, AccessChange.Source.ADMIN, "300 days instead of 30", DEMO_MISTAKEN_BATCH_ID
            )
            apply(
                Extend(days=300),
                Selection.by_filter(Enrollment.objects.filter(pk__in=ids)),
                mistake,
            )

    def _named(self, email: str, first_name: str) -> User:
        return self._user(stable_id(email), email, first_name, "Example")

    def _staff_password(self) -> str:
        return os.environ.get("DEMO_ADMIN_PASSWORD", DEFAULT_STAFF_PASSWORD)

    def _staff(self) -> User:
        staff = User.objects.filter(email__iexact=STAFF_EMAIL).first()
        if staff is None:
            staff = User.objects.create_superuser(
                STAFF_EMAIL, self._staff_password(), first_name="Demo", last_name="Admin"
            )
        return staff

    def _lead(self) -> User:
        lead = User.objects.filter(email__iexact=LEAD_EMAIL).first()
        if lead is None:
            lead = User.objects.create_user(
                LEAD_EMAIL,
                self._staff_password(),
                first_name="Team",
                last_name="Lead",
                is_staff=True,
            )
            lead.user_permissions.set(
                Permission.objects.filter(
                    content_type__app_label="enrollments", codename__in=LEAD_PERMISSIONS
                )
            )
        return lead

    def _instructor(self, staff: User, course: Course) -> User:
        """Staff (may log in to the admin) with no permission of their own: the staff role in
        `course`, whose staff may add at most INSTRUCTOR_MAX_DAYS days a change and must give
        a reason. Granted by the demo superuser. Enrolls nobody: the demo's counts stay."""
        instructor = User.objects.filter(email__iexact=INSTRUCTOR_EMAIL).first()
        if instructor is None:
            instructor = User.objects.create_user(
                INSTRUCTOR_EMAIL,
                self._staff_password(),
                first_name="Ivy",
                last_name="Instructor",
                is_staff=True,
            )
            Course.objects.filter(pk=course.pk).update(
                staff_max_extension_days=INSTRUCTOR_MAX_DAYS, staff_reason_required=True
            )
            CourseRole.objects.create(
                user=instructor, course=course, role=CourseRole.Role.STAFF, granted_by=staff
            )
        return instructor

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
        for history in (AccessChange, AccessEvent):
            history.objects.filter(enrollment_id=enrollment.pk).update(
                enrollment_id=EXAMPLE_ENROLLMENT_ID
            )
        enrollment = Enrollment.objects.get(pk=EXAMPLE_ENROLLMENT_ID)
        for item in course.items.order_by("position")[:2]:
            enrollment_complete_item(enrollment=enrollment, item=item)

    def _enroll_in_state(self, user: User, course: Course, state: str, offset: int = 0) -> None:
        """Enrolls `user` so that the enrollment is in `state` now. `offset` spreads the dates
        (ends 1-6 days ahead when ending soon, 3-22 days ago when ended recently)."""
        if Enrollment.objects.filter(user=user, course=course).exists():
            return
        now = clock.now()
        days = course.access_days or 90
        soon = timedelta(days=1 + offset % 6, hours=offset % 24)
        lately = timedelta(days=3 + offset % 20)
        start = {
            "expired": now - timedelta(days=days + 45),
            "not_started": now + timedelta(days=7),
            "ending_soon": now - timedelta(days=days) + soon,
            "ended_recently": now - timedelta(days=days) - lately,
        }.get(state, now - timedelta(days=5))
        enrollment = enrollment_create(user=user, course=course, start_at=start, reason="demo data")
        if enrollment.ended_at is None and state in ("expired", "ended_recently", "ending_soon"):
            # A course without a default length: give the enrollment its end directly.
            end = {"expired": now - timedelta(days=45), "ended_recently": now - lately}
            Enrollment.objects.filter(pk=enrollment.pk).update(
                start_at=now - timedelta(days=60), ended_at=end.get(state, now + soon)
            )
        elif state == "indefinite" and enrollment.ended_at is not None:
            by = Attribution(None, AccessChange.Source.SYSTEM, "demo data")
            apply_to_one(Extend(indefinite=True), enrollment, by)
        elif state == "paused":
            apply_to_one(
                Pause(), enrollment, Attribution(None, AccessChange.Source.SYSTEM, "demo data")
            )
        elif state in ("completed", "in_progress"):
            items = list(course.items.order_by("position"))
            done = items if state == "completed" else items[: len(items) // 2]
            for item in done:
                enrollment_complete_item(enrollment=enrollment, item=item)
