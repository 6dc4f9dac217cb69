"""OperationRunRow keyed by (run, part, enrollment): no id column, no second unique index.

Django does not migrate a table to a composite primary key in place: the table is made again.
Its rows are a run's bookkeeping, and no release shipped the table before this migration."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollments", "0014_events_and_webhooks"),
    ]

    operations = [
        migrations.DeleteModel(name="OperationRunRow"),
        migrations.CreateModel(
            name="OperationRunRow",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "run_id",
                        "part",
                        "enrollment_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("part", models.PositiveSmallIntegerField(default=0)),
                ("enrollment_id", models.UUIDField()),
                ("updated_at", models.DateTimeField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("pending", "pending"),
                            ("changed", "changed"),
                            ("skipped", "skipped"),
                            ("unchanged", "unchanged"),
                        ],
                        default="pending",
                        max_length=9,
                    ),
                ),
                ("skip_code", models.CharField(blank=True, default="", max_length=64)),
                (
                    "run",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rows",
                        to="enrollments.operationrun",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("outcome", "pending")),
                        fields=["run", "part", "enrollment_id"],
                        name="operationrunrow_pending_idx",
                    )
                ],
            },
        ),
    ]
