"""Fewer indexes to maintain on every enrollment write (issue 15): of the eight on
enrollments_enrollment, three duplicated the leading column of another and served no query the
other does not (the query-plan tests in tests/bench say which query uses which index):

- the user foreign key's own index: enrollment_unique_user_course leads with user_id;
- the course foreign key's own index: enrollment_course_created_idx leads with course_id;
- enrollment_user_created_idx (user, created_at, id): a user's few memberships are found by
  enrollment_unique_user_course and sorted;

and on enrollments_itemcompletion the enrollment foreign key's own index, which
itemcompletion_unique_enrollment_item leads with. docs/benchmarks.md has the measurements.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrollments', '0003_stored_progress'),
        ('lms', '0002_courseitem_position_int32'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='enrollment',
            name='enrollment_user_created_idx',
        ),
        migrations.AlterField(
            model_name='enrollment',
            name='course',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to='lms.course'),
        ),
        migrations.AlterField(
            model_name='enrollment',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='itemcompletion',
            name='enrollment',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='completions', to='enrollments.enrollment'),
        ),
    ]
