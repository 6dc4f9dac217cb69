"""Schemathesis checks of the API fuzz run (.ci/fuzz_api.py loads this file as its hooks).

Every response must be:

- `no_5xx`: no HTTP status 500 or above (schemathesis's own not_a_server_error also counts a
  GraphQL error with a path, such as NOT_FOUND or FORBIDDEN, as a server error: this API
  answers business errors that way, as its contract says, so that check is not used);
- `graphql_json`: a GraphQL JSON body (`application/json`, or the negotiated
  `application/graphql-response+json`; an object with `data` and/or a
  non-empty `errors` list, each error with a message and an `extensions.code`);
- `no_internal_server_error`: no error coded INTERNAL_SERVER_ERROR (a bug behind a 200);
- `no_write_on_error`: the enrollments, their audit trail and item completions unchanged,
  unless the document is a mutation one of whose fields succeeded (its payload not null, with
  no business error in its `errors` / `messages`). Queries never write; a refused or failing
  mutation writes nothing.

The run is sequential (one worker), so the database state before and after each call belongs to
that call alone. The state is one md5 over the three tables, read through psycopg from
FUZZ_DATABASE_URL (the throwaway database the server uses).

Random ids name nothing, so every mutation would end in NOT_FOUND: before each call, two
documents in three have their id arguments replaced by the ids of one real enrollment (its
user, course and one of the course's items), chosen by a random generator seeded with the
document, so that the run reaches the business rules and stays reproducible.
"""

import json
import os
import random

import psycopg
import schemathesis
from graphql import GraphQLSyntaxError, OperationType, parse, print_ast
from graphql.language import ArgumentNode, ObjectFieldNode, StringValueNode, Visitor, visit

_STATE_SQL = """
SELECT md5(
  coalesce((SELECT string_agg(e::text, '|' ORDER BY e.id) FROM enrollments_enrollment e), '')
  || coalesce((SELECT count(*)::text || max(a.id::text) FROM enrollments_accesschange a), '')
  || coalesce((SELECT string_agg(c::text, '|' ORDER BY c.id) FROM enrollments_itemcompletion c), '')
)
"""
_ROWS_SQL = """
SELECT e.id::text, e.user_id::text, e.course_id::text,
       (SELECT i.id::text FROM lms_courseitem i WHERE i.course_id = e.course_id LIMIT 1)
FROM enrollments_enrollment e ORDER BY e.id
"""
#: Which id of the chosen enrollment each id argument gets (index into a _ROWS_SQL row).
_ID_ARGUMENTS = {
    "id": 0,
    "userId": 1,
    "user_id": 1,
    "courseId": 2,
    "course_id": 2,
    "course_item_id": 3,
}
_connection = None
_rows: list[tuple[str, ...]] = []
_before: dict[int, str] = {}


def _state() -> str:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["FUZZ_DATABASE_URL"], autocommit=True)
    return _connection.execute(_STATE_SQL).fetchone()[0]


def _with_real_ids(document: str) -> str:
    global _rows
    chooser = random.Random(document)  # noqa: S311 - reproducible choice, not security
    if chooser.random() < 1 / 3:
        return document
    if not _rows:
        _state()
        _rows = _connection.execute(_ROWS_SQL).fetchall()
    row = chooser.choice(_rows)
    try:
        tree = parse(document)
    except GraphQLSyntaxError:
        return document

    class RealIds(Visitor):
        def enter(self, node, *_args):
            if isinstance(node, ArgumentNode | ObjectFieldNode) and isinstance(
                node.value, StringValueNode
            ):
                index = _ID_ARGUMENTS.get(node.name.value)
                if index is not None and row[index] is not None:
                    return node.__class__(name=node.name, value=StringValueNode(value=row[index]))
            return None

    return print_ast(visit(tree, RealIds()))


def _document(case) -> str | None:
    body = case.body
    if isinstance(body, dict):
        body = body.get("query")
    return body if isinstance(body, str) else None


def _is_mutation(document: str | None) -> bool:
    if document is None:
        return False
    try:
        parsed = parse(document)
    except GraphQLSyntaxError:
        return False
    return any(
        getattr(definition, "operation", None) is OperationType.MUTATION
        for definition in parsed.definitions
    )


def _json(response):
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _succeeded(payload) -> bool:
    """Whether a mutation field's payload is a success: not null, and no business error in its
    `errors` / `messages` list (where this API puts them when the document selects them)."""
    if not isinstance(payload, dict):
        return False
    return not (payload.get("errors") or payload.get("messages"))


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, str):
        case.body = _with_real_ids(case.body)
    _before[id(case)] = _state()


@schemathesis.check
def no_5xx(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")


@schemathesis.check
def graphql_json(ctx, response, case):
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not content_type.startswith(("application/json", "application/graphql-response+json")):
        raise AssertionError(f"not JSON: {response.status_code} {content_type!r}")
    body = _json(response)
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        raise AssertionError(f"not a GraphQL response: {response.content[:200]!r}")
    errors = body.get("errors", [])
    if "errors" in body and (not isinstance(errors, list) or not errors):
        raise AssertionError("`errors` must be a non-empty list")
    for error in errors:
        if not isinstance(error.get("message"), str) or "code" not in (
            error.get("extensions") or {}
        ):
            raise AssertionError(f"an error without message or extensions.code: {error}")


@schemathesis.check
def no_internal_server_error(ctx, response, case):
    body = _json(response)
    errors = body.get("errors", []) if isinstance(body, dict) else []
    for error in errors if isinstance(errors, list) else []:
        if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR":
            raise AssertionError(f"INTERNAL_SERVER_ERROR: {error}")


@schemathesis.check
def no_write_on_error(ctx, response, case):
    before = _before.pop(id(case), None)
    if before is None:
        return
    body = _json(response)
    data = body.get("data") if isinstance(body, dict) else None
    succeeded = isinstance(data, dict) and any(map(_succeeded, data.values()))
    if _is_mutation(_document(case)) and succeeded:
        return  # a mutation that did something may write
    if _state() != before:
        raise AssertionError("the database changed, but nothing succeeded")
