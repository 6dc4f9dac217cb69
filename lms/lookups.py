"""`pk__any_of=ids`: a primary-key list as one array parameter on PostgreSQL.

`pk__in=ids` binds one parameter per id: Django prepares each (a tenth of a 3,000-row bulk
extension's time, docs/benchmarks.md) and PostgreSQL parses a statement thousands of
parameters long. `= ANY(%s)` sends the list as one array. Elsewhere (SQLite) it is `IN` as
usual, within the callers' chunk size (lms.batching), under SQLite's parameter limit.

A list of UUIDs for a `uuid` column (every enrollment id list of the core) is sent as the text
of the array, `{hex,hex,...}`, which PostgreSQL parses itself: psycopg's list dumper quotes
each element in Python and Django prepares each first, 6.3 ms for 2,000 ids against 0.6 ms
for the text (docs/benchmarks.md, issue 23: two such lists per chunk of a run).
"""

import uuid

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, Lookup
from django.db.models.lookups import In


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet  # as `IN ()`: nothing matches, and no query is run
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        if field.db_type(connection) == "uuid" and all(type(v) is uuid.UUID for v in self.rhs):
            # Hex digits only: nothing in the text needs quoting or escaping.
            text = "{" + ",".join([value.hex for value in self.rhs]) + "}"
            return f"{lhs} = ANY(%s::uuid[])", (*lhs_params, text)
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        array_type = f"{field.db_type(connection)}[]"
        return f"{lhs} = ANY(%s::{array_type})", (*lhs_params, values)
