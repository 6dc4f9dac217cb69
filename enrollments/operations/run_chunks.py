"""A run's selection written down in chunks (`OperationRunChunk`): the ids of a chunk's
enrollments in key order and the `updated_at` each had, packed into two byte strings.

Why packed: a "select all" writes down up to every enrollment. One row per enrollment cost a
million primary-key entries to write (14.6 s at 1,000,000) and a million outcome UPDATEs to
apply (11.35x the bare UPDATE; issue 23). A chunk a row is 500 rows at a million, and one
UPDATE per chunk when it is done. On PostgreSQL a filter's chunks are built by the database in
one `INSERT ... SELECT` (`uuid_send`, `int8send`: the same bytes as below), so the rows never
travel to Python; elsewhere, and for named ids, the selection is streamed once in key order.
Ids are 16 bytes (`UUID.bytes`), stamps 8-byte big-endian integers (`int8send`'s order).

Nothing outside this module unpacks `ids` or `stamps` but through `rows_of`: runs.py asks
for a chunk's rows, the erasure which runs hold an enrollment (`runs_holding`).
"""

import struct
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from enrollments.models import Enrollment, OperationRun, OperationRunChunk
from lms.batching import chunked

#: The stamp of an enrollment that did not exist (or was outside the actor's scope) when the
#: selection was written down: it compares equal to the same enrollment still missing.
MISSING = -(2**63)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
#: Chunk rows per INSERT while the selection streams.
ROWS_PER_INSERT = 20
#: Rows fetched at a time while the selection streams.
FETCH_SIZE = 2000


def stamp_of(updated_at: datetime | None) -> int:
    """`updated_at` as the integer a chunk keeps (microseconds since the epoch)."""
    if updated_at is None:
        return MISSING
    return (updated_at - EPOCH) // MICROSECOND


@dataclass(frozen=True, slots=True)
class ChunkRows:
    """A chunk's enrollments in key order and the stamp each had when written down."""

    ids: list[uuid.UUID]
    stamps: list[int]

    def updated_at(self) -> dict[uuid.UUID, datetime | None]:
        """Each enrollment's `updated_at` when written down (None: it was not found)."""
        return {
            pk: None if stamp == MISSING else EPOCH + stamp * MICROSECOND
            for pk, stamp in zip(self.ids, self.stamps, strict=True)
        }


def rows_of(chunk: OperationRunChunk) -> ChunkRows:
    ids_bytes, stamps_bytes = bytes(chunk.ids), bytes(chunk.stamps)
    ids = [uuid.UUID(bytes=ids_bytes[i : i + 16]) for i in range(0, len(ids_bytes), 16)]
    stamps = list(struct.unpack(f">{len(ids)}q", stamps_bytes))
    return ChunkRows(ids, stamps)


def _chunk(run: OperationRun, seq: int, part: int, rows: Sequence[tuple[uuid.UUID, int]]):
    return OperationRunChunk(
        run=run,
        seq=seq,
        part=part,
        size=len(rows),
        ids=b"".join(pk.bytes for pk, _stamp in rows),
        stamps=struct.pack(f">{len(rows)}q", *(stamp for _pk, stamp in rows)),
    )


def write(
    run: OperationRun,
    part: int,
    rows: Iterable[tuple[uuid.UUID, datetime | None]],
    *,
    size: int,
    first_seq: int,
) -> tuple[int, int]:
    """Writes `rows` ((id, updated_at) in key order) down as chunks of `size` numbered from
    `first_seq`; returns (rows written, the next free sequence number)."""
    seq, total = first_seq, 0
    stamped = ((pk, stamp_of(updated_at)) for pk, updated_at in rows)
    for chunks in chunked(chunked(stamped, size), ROWS_PER_INSERT):
        OperationRunChunk.objects.bulk_create(
            _chunk(run, seq + index, part, rows) for index, rows in enumerate(chunks)
        )
        seq += len(chunks)
        total += sum(len(rows) for rows in chunks)
    return total, seq


def write_filter(
    run: OperationRun, part: int, queryset: QuerySet[Enrollment], *, size: int, first_seq: int
) -> tuple[int, int]:
    """`write` of a filter's rows (reading one table: the caller sees to it): on PostgreSQL
    the database numbers, packs and inserts the chunks itself; elsewhere they are streamed.

    On PostgreSQL the chunks follow the table's physical order (`ctid` when written down; ids
    in key order within each chunk, which is the order the core locks them in). Ids are
    random, so a chunk in key order has its 2,000 rows on about 2,000 pages spread over the
    whole table, and a "select all" dirtied every page once per chunk; in physical order a
    chunk's rows share a few dozen neighbouring pages, as the bare UPDATE's scan does (an
    EXPLAIN of one chunk's UPDATE: 9,000 pages dirtied in key order, 4,100 in physical order,
    the rest being the indexes'). A row that moved since is still found by its id."""
    alias = router.db_for_write(OperationRunChunk)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return write(run, part, rows_by_filter(queryset, size=size), size=size, first_seq=first_seq)
    table_name = connection.ops.quote_name(Enrollment._meta.db_table)
    ctid = RawSQL(f"{table_name}.ctid", ())  # noqa: S611 -- a quoted table name, no value
    picked = queryset.order_by().values_list("id", "updated_at", ctid)
    select_sql, params = picked.query.sql_with_params()
    table = connection.ops.quote_name(OperationRunChunk._meta.db_table)
    # A quoted table name and the ORM's own SQL; every value is a parameter. Microseconds by
    # EXTRACT (numeric, exact on PostgreSQL 14 and later, Django 5.2's oldest).
    sql = (
        f"INSERT INTO {table} (run_id, seq, part, size, ids, stamps, done, changed, skipped, "  # noqa: S608
        "unchanged, skips) "
        "SELECT %s, %s + n, %s, count(*), string_agg(uuid_send(id), ''::bytea ORDER BY id), "
        "string_agg(int8send(stamp), ''::bytea ORDER BY id), false, 0, 0, 0, '[]'::jsonb "
        "FROM (SELECT picked.id, "
        "COALESCE((EXTRACT(EPOCH FROM picked.updated_at) * 1000000)::bigint, %s) AS stamp, "
        "(row_number() OVER (ORDER BY picked.ctid) - 1) / %s AS n "
        f"FROM ({select_sql}) picked (id, updated_at, ctid)) numbered GROUP BY n "
        "RETURNING size"
    )
    run_id = OperationRunChunk._meta.get_field("run").target_field.get_db_prep_value(
        run.pk, connection
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run_id, first_seq, part, MISSING, size, *params])
        sizes = [row[0] for row in cursor.fetchall()]
    return sum(sizes), first_seq + len(sizes)


def rows_by_filter(
    queryset: QuerySet[Enrollment], *, size: int
) -> Iterator[tuple[uuid.UUID, datetime | None]]:
    """The filter's (id, updated_at) in key order, streamed (a server-side cursor on
    PostgreSQL): a million rows never sit in memory at once. Fetched FETCH_SIZE at a time
    whatever the chunk's size (a command's `--batch-size` may be any number)."""
    rows = queryset.order_by("pk").values_list("pk", "updated_at")
    return rows.iterator(chunk_size=min(size, FETCH_SIZE))


def rows_named(
    ids: Sequence[uuid.UUID], in_scope: QuerySet[Enrollment]
) -> Iterator[tuple[uuid.UUID, datetime | None]]:
    """Named ids in key order with their `updated_at` (None: not found, or out of scope; the
    core reports those NOT_FOUND when their chunk is applied)."""
    for some in chunked(sorted(ids), 1000):
        found = dict(in_scope.filter(pk__any_of=some).values_list("pk", "updated_at"))
        yield from ((pk, found.get(pk)) for pk in some)


def runs_holding(runs: QuerySet[OperationRun], enrollment_ids: Iterable[uuid.UUID]) -> set:
    """The ids of `runs` whose chunks not done yet hold one of `enrollment_ids` (the erasure's
    question; a scan of the packed ids, rare and bounded by the unfinished runs)."""
    wanted = {pk.bytes for pk in enrollment_ids}
    if not wanted:
        return set()
    holding = set()
    chunks = OperationRunChunk.objects.filter(run__in=runs, done=False).values_list("run_id", "ids")
    for run_id, ids in chunks.iterator(chunk_size=50):
        if run_id in holding:
            continue
        packed = bytes(ids)
        if any(packed[i : i + 16] in wanted for i in range(0, len(packed), 16)):
            holding.add(run_id)
    return holding
