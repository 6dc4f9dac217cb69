"""Rows inserted by the hundred thousand in the caller's transaction: COPY on PostgreSQL,
`bulk_create` elsewhere. What the core writes per change (audit rows, events) goes through
here.

On PostgreSQL COPY takes a third of the time of `bulk_create`, whose per-field preparation in
Python costs more than the database's own work (docs/benchmarks.md, measurement 4), in COPY's
binary format: psycopg's text format formats every value in Python, six times slower for the
audit rows (20,000 rows: 300 ms against 50). Either way no signal is sent and the rows are
final as given.
"""

import time
from collections.abc import Iterable, Mapping, Sequence

from django.db import connections, models, router
from psycopg.types.json import Jsonb

from lms.batching import BATCH_SIZE


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Mapping[str, object] | Sequence[object]],
) -> None:
    """Inserts `rows` of `model`, each a tuple of `columns` (attribute names) in that order or
    a mapping by attribute name; columns left out take their database default (an id
    sequence)."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            (model(**_as_mapping(columns, row)) for row in rows), batch_size=BATCH_SIZE
        )
        return
    by_name = {field.attname: field for field in model._meta.concrete_fields}
    fields = [by_name[name] for name in columns]
    names = list(columns)
    json = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    quoted = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"COPY {table} ({quoted}) FROM STDIN (FORMAT BINARY)"
    started = time.monotonic()
    # wrap_database_errors: the driver's errors of the COPY (on psycopg's own cursor) reach the
    # caller as Django's, as every other statement's do.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.set_types(_column_types(connection, fields))
        for row in rows:
            # Choices members are str (or int) first: psycopg dumps them as their value.
            values = row if type(row) is tuple else [row[name] for name in names]
            if json:
                values = list(values)
                for i in json:
                    values[i] = Jsonb(values[i])
            copy.write_row(values)
    if connection.queries_logged:
        # Django logs only what runs through its cursor's execute(): record the COPY as the
        # one statement it is, so query counts (tests, debug tools) still show the write.
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def _as_mapping(columns: Sequence[str], row: Mapping[str, object] | Sequence[object]):
    return dict(zip(columns, row, strict=True)) if type(row) is tuple else row


def _column_types(connection, fields) -> list[str]:
    """The PostgreSQL type of each column, as psycopg names it ("varchar(32)" -> "varchar",
    "timestamp with time zone" -> "timestamptz"): binary COPY sends each value in its
    column's exact binary format (an int4 column takes 4 bytes, not 8)."""
    return [
        connection.connection.adapters.types[f.db_type(connection).split("(")[0]].name
        for f in fields
    ]
