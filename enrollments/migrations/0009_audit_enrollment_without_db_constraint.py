"""Audit rows reference their enrollment without a database constraint (issue 15): the operation
core writes each one under its enrollment's row lock and PROTECT is the ORM's; the deferred
check at commit cost about 0.6 s of a bulk extension of 100,000 rows (docs/benchmarks.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollments", "0008_covered_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesschange",
            name="enrollment",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="access_changes",
                to="enrollments.enrollment",
            ),
        ),
    ]
