"""Audit rows reference their enrollment with a database constraint again (issue 22, item 2).

Migration 0009 dropped it to save its checks at commit (about 0.6-0.9 s of a bulk extension of
100,000 rows): the invariant "every audit row names an existing enrollment" was then only the
core's convention and the ORM's PROTECT. It is the database's again, as Django creates it on
PostgreSQL: DEFERRABLE INITIALLY DEFERRED, checked at commit, like the actor's (docs/benchmarks.md
has the measurement: deferred and immediate cost the same).

Adding it checks every existing audit row. Should any name an enrollment that no longer exists
(only possible through SQL outside the app while the constraint was gone), the migration stops
with PostgreSQL's foreign-key error; list them with
`SELECT id, enrollment_id FROM enrollments_accesschange a WHERE NOT EXISTS (SELECT 1 FROM
enrollments_enrollment e WHERE e.id = a.enrollment_id)`.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollments", "0009_audit_enrollment_without_db_constraint"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesschange",
            name="enrollment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="access_changes",
                to="enrollments.enrollment",
            ),
        ),
    ]
