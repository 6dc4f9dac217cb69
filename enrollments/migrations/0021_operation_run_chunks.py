"""A run's selection written down as chunks (OperationRunChunk) instead of a row per enrollment
(OperationRunRow): runs.py and run_chunks.py say why.

Runs already written down are carried over: each run's rows become chunks of 2,000 in the
order the old code took them (part, then key). Pending rows make chunks not done; the rows that
were applied make done chunks with their skipped rows, so a job page still lists them (the
run's own counters are unchanged)."""

import struct
from datetime import UTC, datetime, timedelta

import django.db.models.deletion
from django.db import migrations, models

MISSING = -(2**63)  # run_chunks.MISSING
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHUNK = 2000


def _stamp(updated_at):
    return MISSING if updated_at is None else (updated_at - EPOCH) // timedelta(microseconds=1)


def rows_to_chunks(apps, schema_editor):
    Row = apps.get_model("enrollments", "OperationRunRow")
    Chunk = apps.get_model("enrollments", "OperationRunChunk")
    for run_id in Row.objects.values_list("run_id", flat=True).distinct().order_by("run_id"):
        rows = (
            Row.objects.filter(run_id=run_id)
            .order_by("part", "enrollment_id")
            .values_list("part", "enrollment_id", "updated_at", "outcome", "skip_code")
        )
        groups: dict[tuple[int, bool], list] = {}
        for part, pk, updated_at, outcome, code in rows.iterator(chunk_size=CHUNK):
            groups.setdefault((part, outcome == "pending"), []).append((pk, updated_at, code))
        seq, chunks = 0, []
        for (part, pending), members in sorted(
            groups.items(), key=lambda kv: (not kv[0][1], kv[0][0])
        ):
            for start in range(0, len(members), CHUNK):
                some = members[start : start + CHUNK]
                skips = [[str(pk), code] for pk, _at, code in some if code]
                chunks.append(
                    Chunk(
                        run_id=run_id,
                        seq=seq,
                        part=part,
                        size=len(some),
                        ids=b"".join(pk.bytes for pk, _at, _code in some),
                        stamps=struct.pack(f">{len(some)}q", *(_stamp(at) for _pk, at, _c in some)),
                        done=not pending,
                        skipped=len(skips),
                        skips=skips,
                    )
                )
                seq += 1
        Chunk.objects.bulk_create(chunks, batch_size=50)


class Migration(migrations.Migration):
    dependencies = [
        ("enrollments", "0020_verbose_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="OperationRunChunk",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "run_id",
                        "seq",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("seq", models.PositiveIntegerField(verbose_name="sequence")),
                ("part", models.PositiveSmallIntegerField(default=0, verbose_name="part")),
                ("size", models.PositiveIntegerField(verbose_name="size")),
                ("ids", models.BinaryField(verbose_name="ids")),
                ("stamps", models.BinaryField(verbose_name="stamps")),
                ("done", models.BooleanField(default=False, verbose_name="done")),
                ("changed", models.PositiveIntegerField(default=0, verbose_name="changed")),
                ("skipped", models.PositiveIntegerField(default=0, verbose_name="skipped")),
                ("unchanged", models.PositiveIntegerField(default=0, verbose_name="unchanged")),
                ("skips", models.JSONField(blank=True, default=list, verbose_name="skips")),
                (
                    "run",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chunks",
                        to="enrollments.operationrun",
                        verbose_name="run",
                    ),
                ),
            ],
            options={
                "verbose_name": "operation run chunk",
                "verbose_name_plural": "operation run chunks",
            },
        ),
        migrations.RunPython(rows_to_chunks, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="OperationRunRow",
        ),
        migrations.AddIndex(
            model_name="operationrunchunk",
            index=models.Index(
                condition=models.Q(("done", False)),
                fields=["run", "seq"],
                name="operationrunchunk_pending_idx",
            ),
        ),
    ]
