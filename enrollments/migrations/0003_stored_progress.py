"""Progress stored on the enrollment (issue 15): `items_completed` and `course_status`, backfilled
from the completions in one set-based UPDATE, then the index that serves the course_status
filter, its counts and the admin's filter (built after the backfill, once)."""

from django.db import migrations, models
from django.db.models import Case, CharField, Count, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, GreaterThanOrEqual


def _count(queryset, group_field):
    return Coalesce(
        Subquery(
            queryset.order_by().values(group_field).annotate(n=Count("*")).values("n")[:1],
            output_field=models.IntegerField(),
        ),
        0,
    )


def backfill(apps, schema_editor):
    """What progress.counts.enrollments_recount_progress does, with the historical
    models (a migration must not import the app's code, which moves on)."""
    Enrollment = apps.get_model("enrollments", "Enrollment")
    ItemCompletion = apps.get_model("enrollments", "ItemCompletion")
    CourseItem = apps.get_model("lms", "CourseItem")
    completed = _count(ItemCompletion.objects.filter(enrollment_id=OuterRef("pk")), "enrollment_id")
    total = _count(CourseItem.objects.filter(course_id=OuterRef("course_id")), "course_id")
    Enrollment.objects.update(
        items_completed=completed,
        course_status=Case(
            When(Exact(completed, 0), then=Value("not_started")),
            When(GreaterThanOrEqual(completed, total), then=Value("completed")),
            default=Value("in_progress"),
            output_field=CharField(),
        ),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("enrollments", "0002_initial"),
        ("lms", "0002_courseitem_position_int32"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollment",
            name="items_completed",
            field=models.PositiveIntegerField(
                default=0,
                editable=False,
                help_text="Completed items (stored count of the completions).",
            ),
        ),
        migrations.AddField(
            model_name="enrollment",
            name="course_status",
            field=models.CharField(
                choices=[
                    ("not_started", "not_started"),
                    ("in_progress", "in_progress"),
                    ("completed", "completed"),
                ],
                default="not_started",
                editable=False,
                help_text="progress.course_status of items_completed and the course's items, stored.",
                max_length=16,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="enrollment",
            index=models.Index(fields=["course_status"], name="enrollment_course_status_idx"),
        ),
    ]
