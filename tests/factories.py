"""factory-boy factories for every model."""

from datetime import timedelta

import factory
from django.utils import timezone

from enrollments import clock
from enrollments.models import AccessChange, Enrollment, ItemCompletion
from enrollments.progress.counts import enrollments_recount_progress
from lms.models import Course, CourseItem, CourseRole, User


def recount(*enrollments: Enrollment) -> None:
    """Recounts the stored progress of enrollments whose completions a test wrote directly, and
    refreshes the objects."""
    enrollments_recount_progress(
        queryset=Enrollment.objects.filter(pk__in=[e.pk for e in enrollments])
    )
    for enrollment in enrollments:
        enrollment.refresh_from_db(fields=["items_completed", "course_status"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"learner{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def _save_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True


class OperatorFactory(StaffFactory):
    """A staff member allowed every operation in every course (a superuser): the actor of
    tests about what the core writes, now that the core keeps to its actor's scope."""

    email = factory.Sequence(lambda n: f"operator{n}@example.com")
    is_superuser = True


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    access_days = 90
    pause_freezes_access = True


class CourseItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseItem

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Item {n}")
    kind = CourseItem.Kind.LESSON
    position = factory.Sequence(lambda n: n + 1)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    """An enrollment written directly (no audit row): for arranging state in tests. Code under
    test enrolls through operations.enrolling_learners.enrollment_create."""

    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    # Ten days before the one clock (a test's frozen `clock` when it has one): a row made in a
    # frozen test started before its "now", as a row made in real time does.
    start_at = factory.LazyFunction(lambda: clock.now() - timedelta(days=10))
    ended_at = factory.LazyAttribute(lambda o: o.start_at + timedelta(days=90))


class ItemCompletionFactory(factory.django.DjangoModelFactory):
    """A completion written directly (whatever the enrollment's access), with the enrollment's
    stored progress recounted as a completion would keep it."""

    class Meta:
        model = ItemCompletion

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        completion = super()._create(model_class, *args, **kwargs)
        recount(completion.enrollment)
        return completion

    enrollment = factory.SubFactory(EnrollmentFactory)
    item = factory.SubFactory(
        CourseItemFactory, course=factory.SelfAttribute("..enrollment.course")
    )
    completed_at = factory.LazyFunction(timezone.now)


class AccessChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessChange

    enrollment = factory.SubFactory(EnrollmentFactory)
    action = AccessChange.Action.EXTEND
    source = AccessChange.Source.SYSTEM
    created_at = factory.LazyFunction(timezone.now)


class CourseRoleFactory(factory.django.DjangoModelFactory):
    """A user's role in a course (staff by default: the limited one)."""

    class Meta:
        model = CourseRole

    user = factory.SubFactory(StaffFactory)
    course = factory.SubFactory(CourseFactory)
    role = CourseRole.Role.STAFF
