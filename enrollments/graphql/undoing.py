"""`undoAccessChangeBatch`: undo a batch of access changes through the API.

A thin adapter over the core's `Undo` (operations/undoing.py says what is restored and what
is skipped): it checks UNDO_BATCH, finds the batch's enrollments (an unknown or malformed id
is BATCH_NOT_FOUND in the payload's `errors`, field `batchId`), applies the undo with
source=graphql and reports what it did: the new undo batch's id (null when nothing was
undone: no audit row carries it), how many enrollments were restored and which were skipped
with their code and message (CHANGED_SINCE_BATCH, NOT_UNDOABLE). Skipped rows are part of a
success (`errors` empty): the other rows were undone.

A course manager (lms.CourseRole) undoes their courses' batches only, whole: a batch with any
enrollment outside the actor's scope for UNDO_BATCH is BATCH_NOT_FOUND, exactly as an unknown
batch (operations.undoing.batch_selection decides it).
"""

import graphene
from graphql import GraphQLResolveInfo

from enrollments.errors import BatchNotFound, BatchRunUnfinished
from enrollments.graphql.payload_errors import payload_errors_field, reports_business_errors
from enrollments.graphql.permissions import require_scope
from enrollments.models import AccessChange
from enrollments.operations import Undo, apply
from enrollments.operations.audit import Attribution
from enrollments.operations.undoing import batch_selection
from lms.identifiers import parse_uuid


class UndoSkippedEnrollment(graphene.ObjectType):
    """An enrollment of the batch that the undo left as it is, and why."""

    enrollment_id = graphene.ID(name="enrollmentId", required=True)
    code = graphene.String(required=True, description="Stable code of the reason")
    message = graphene.String(required=True, description="The reason in words")


class UndoAccessChangeBatchPayload(graphene.ObjectType):
    batch_id = graphene.ID(
        name="batchId",
        description="The batch id of the undo's own audit rows; null when nothing was undone",
    )
    undone_count = graphene.Int(
        name="undoneCount", description="Enrollments restored to their state before the batch"
    )
    skipped = graphene.List(
        graphene.NonNull(UndoSkippedEnrollment),
        description="Enrollments left as they are (changed since the batch, not undoable)",
    )
    errors = payload_errors_field()


@reports_business_errors("errors", {BatchNotFound: ("batchId",), BatchRunUnfinished: ("batchId",)})
def resolve_undo_access_change_batch(
    root, info: GraphQLResolveInfo, batch_id: str, reason: str | None = None
) -> UndoAccessChangeBatchPayload:
    actor, scope = require_scope(info, Undo.permission)
    parsed = parse_uuid(batch_id)
    if parsed is None:
        raise BatchNotFound()
    by = Attribution(actor, AccessChange.Source.GRAPHQL, reason or "")
    done = apply(Undo(parsed), batch_selection(parsed, scope=scope), by)
    return UndoAccessChangeBatchPayload(
        batch_id=done.batch_id if done.changes else None,
        undone_count=done.changed_count,
        skipped=[
            UndoSkippedEnrollment(
                enrollment_id=skip.enrollment_id, code=skip.error.code, message=skip.error.message
            )
            for skip in done.skips
        ],
    )


def undo_access_change_batch_field() -> graphene.Field:
    """The Mutation's field, made where the Mutation class lists it (graphene orders a type's
    fields by when they were made, so the schema keeps the class's order)."""
    return graphene.Field(
        UndoAccessChangeBatchPayload,
        name="undoAccessChangeBatch",
        description=(
            "Undoes a batch of access changes (the batchId its audit rows share): each "
            "enrollment goes back to its state before the batch, unless it changed since (then "
            "it is skipped). "
            f"The undo is a batch of its own. Needs the {Undo.permission} permission (globally, "
            "or through a course role in every course of the batch)."
        ),
        resolver=resolve_undo_access_change_batch,
        batch_id=graphene.ID(name="batchId", required=True, description="The batch to undo"),
        reason=graphene.String(description="Why the batch is undone (kept in the audit trail)"),
    )
