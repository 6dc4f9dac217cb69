"""Every index costs every write (issue 15): no table of the app keeps an index that another
index of the same table already covers, i.e. whose columns lead that other index's columns
(PostgreSQL serves the look-ups of the shorter one from the longer). Unique indexes stay: they
are constraints, not only access paths. An index with another operator class (Django's
`_like` indexes for LIKE on text) serves other look-ups, so it counts as other columns.
Partial and expression indexes are left out: they serve their own predicate or expression."""

import pytest
from django.db import connection

from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db]

APP_TABLES = ("enrollments_%", "lms_%", "apikeys_%")
#: The user model's many-to-many tables come from Django's PermissionsMixin, which shapes them.
DJANGO_JOIN_TABLES = ("lms_user_groups", "lms_user_user_permissions")

INDEXES = """
SELECT t.relname, i.relname, x.indisunique,
       array_agg(a.attname::text
                 || CASE WHEN o.opt & 1 = 1 THEN ' desc' ELSE '' END
                 || CASE WHEN c.opcdefault THEN '' ELSE ' ' || c.opcname END
                 ORDER BY k.position)
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, position) ON true
JOIN LATERAL unnest(x.indoption) WITH ORDINALITY AS o(opt, position) ON o.position = k.position
JOIN LATERAL unnest(x.indclass) WITH ORDINALITY AS q(opclass, position) ON q.position = k.position
JOIN pg_opclass c ON c.oid = q.opclass
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE t.relname LIKE ANY(%s) AND NOT t.relname = ANY(%s)
  AND x.indpred IS NULL AND x.indexprs IS NULL
GROUP BY t.relname, i.relname, x.indisunique
"""


def _indexes() -> list[tuple[str, str, bool, list[str]]]:
    with connection.cursor() as cursor:
        cursor.execute(INDEXES, [list(APP_TABLES), list(DJANGO_JOIN_TABLES)])
        return cursor.fetchall()


def test_no_index_is_covered_by_another_of_its_table():
    indexes = _indexes()
    assert any(table == "enrollments_accesschange" for table, *_ in indexes)
    covered = [
        (table, name, other)
        for table, name, unique, columns in indexes
        if not unique
        for other_table, other, _, other_columns in indexes
        if other_table == table
        and other != name
        and other_columns[: len(columns)] == columns
        and (len(other_columns) > len(columns) or other < name)
    ]
    assert covered == []


def test_the_audit_table_keeps_the_indexes_its_reads_need():
    """An enrollment's history (enrollment, newest first), an undo's batch, and the actor
    (SET_NULL when a user is deleted), besides the primary key."""
    audit = {
        name: columns
        for table, name, _, columns in _indexes()
        if table == "enrollments_accesschange"
    }
    assert sorted(audit.values()) == [
        ["actor_id"],
        ["batch_id"],
        ["enrollment_id", "created_at desc"],
        ["id"],
    ]
