"""Property-based tests (hypothesis) over the GraphQL mutations, through HTTP with an API key of
staff holding every permission: any integers (0, negatives, the 32-bit bounds and past them,
values that overflow a date), any strings as ids (empty, not a UUID, SQL and HTML fragments,
very long, unicode, NUL bytes), arguments missing or extra, sent inline or as variables.

Whatever comes in: the answer is HTTP 200 or 400, never 500; every error carries a documented
code, never INTERNAL_SERVER_ERROR; on error nothing changes in the database and no audit row is
written; on success exactly one audit row per changed enrollment, with source graphql.

Each example runs in a savepoint rolled back afterwards, so every example starts from the same
enrollments (active, indefinite, paused, expired). Example counts stay modest: CI runs the suite
twice on two cores.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from enrollments.models import AccessChange, Enrollment
from tests.factories import CourseFactory, EnrollmentFactory
from tests.fuzzing import examples
from tests.graphql.conftest import grant

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=examples(80),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Codes the document itself may earn, whatever the operation (docs/api.md, "Error codes").
REQUEST_CODES = {
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_LARGE",
    "BAD_USER_INPUT",
}
#: Every write takes a reason, which the core checks (enrollments.operations.audit).
WRITE_CODES = REQUEST_CODES | {"INVALID_REASON"}
EXTEND_CODES = WRITE_CODES | {"NOT_ENROLLED", "INVALID_EXTENSION_PERIOD", "NO_END_DATE"}
PAUSE_CODES = WRITE_CODES | {"NOT_FOUND", "ALREADY_PAUSED"}
RESUME_CODES = WRITE_CODES | {"NOT_FOUND", "NOT_PAUSED"}

EDGE_INTEGERS = [
    0,
    1,
    -1,
    30,
    2**31 - 1,
    -(2**31),
    2**31,
    -(2**31) - 1,
    2**32,
    2**53 + 1,
    2**63,
    -(2**63) - 1,
    10**30,
    4_102_444_800,  # 2100-01-01: fits a 64-bit timestamp, not the API's 32-bit end
    253_402_300_800,  # year 10000: no datetime holds it
    2_932_897,  # days that overflow year 9999 from 2026
    1_000_000_000,  # 2001: in the past
]
NASTY_STRINGS = [
    "",
    " ",
    "0",
    "null",
    "00000000-0000-0000-0000-000000000000",
    "not-a-uuid",
    "'; DROP TABLE enrollments_enrollment; --",
    "' OR '1'='1",
    "<script>alert(1)</script>",
    "\x00",
    "a\x00b",
    "\ufeff",
    "é" * 50,
    "\U0001f600",
    "x" * 20_000,
    "{}",
    '"',
    "\\",
]

integers = st.one_of(
    st.sampled_from(EDGE_INTEGERS),
    st.integers(min_value=-400, max_value=400),
    st.integers(),
)
#: What a client may send where an Int is expected: mostly integers, sometimes another type.
int_arguments = st.one_of(
    *[integers] * 8, st.none(), st.booleans(), st.floats(), st.text(max_size=5)
)
texts = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=40))
reasons = st.one_of(st.none(), texts, st.just("r" * 1001))


@dataclass
class World:
    """The enrollments every example starts from; ids the strategies pick among."""

    enrollments: list[Enrollment]

    @property
    def user_ids(self) -> list[str]:
        return [str(e.user_id) for e in self.enrollments]

    @property
    def course_ids(self) -> list[str]:
        return [str(e.course_id) for e in self.enrollments]

    @property
    def ids(self) -> list[str]:
        return [str(e.pk) for e in self.enrollments]


@pytest.fixture
def world(clock, settings) -> World:
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}  # hundreds of mutations
    now = clock.current
    frozen = CourseFactory(pause_freezes_access=True)
    free = CourseFactory(pause_freezes_access=False)
    return World(
        [
            EnrollmentFactory(
                course=frozen, start_at=now - timedelta(days=10), ended_at=now + timedelta(30)
            ),
            EnrollmentFactory(course=frozen, start_at=now - timedelta(days=10), ended_at=None),
            EnrollmentFactory(
                course=free,
                start_at=now - timedelta(days=10),
                ended_at=now + timedelta(days=5),
                is_paused=True,
                paused_at=now - timedelta(days=2),
            ),
            EnrollmentFactory(
                course=free, start_at=now - timedelta(days=100), ended_at=now - timedelta(days=1)
            ),
        ]
    )


@pytest.fixture
def key(make_key, manager) -> str:
    grant(manager, "view", "extend", "pause")
    return make_key(manager)


def ids_for(pool: list[str]) -> st.SearchStrategy[Any]:
    """A real id, the same in capitals or braces, a random UUID, any string, or not a string."""
    real = st.sampled_from(pool)
    return st.one_of(
        *[real] * 6,
        real.map(str.upper),
        real.map(lambda value: "{" + value + "}"),
        st.uuids().map(str),
        texts,
        st.sampled_from([None, 0, -1, 2**31, 1.5, True]),
    )


def literal(value: Any) -> str:
    """`value` written inline in a GraphQL document (invalid ones make parse errors, as they
    would for a client)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def build(field: str, arguments: dict[str, Any], types: dict[str, str], inline: bool, selection):
    """The document and variables calling `field(arguments)`, inline or with variables (an
    argument the schema does not know gets the type String)."""
    if inline:
        args = ", ".join(f"{name}: {literal(value)}" for name, value in arguments.items())
        call = f"{field}({args})" if args else field
        return f"mutation {{ {call} {selection} }}", None
    declared = ", ".join(f"${name}: {types.get(name, 'String')}" for name in arguments)
    args = ", ".join(f"{name}: ${name}" for name in arguments)
    call = f"{field}({args})" if args else field
    head = f"mutation ({declared})" if declared else "mutation"
    return f"{head} {{ {call} {selection} }}", arguments


def snapshot() -> tuple[list[dict], int]:
    return list(Enrollment.objects.order_by("pk").values()), AccessChange.objects.count()


def check_answer(api, document, variables, key, documented: set[str], manager) -> dict:
    """Sends one request in a savepoint rolled back afterwards and checks the properties."""
    with transaction.atomic():
        before_rows, before_audit = snapshot()
        body = api.post(document, variables, key=key)
        status = api.last_response.status_code
        after_rows, after_audit = snapshot()
        new_audit = list(
            AccessChange.objects.order_by("-created_at").values("source", "actor_id")[
                : max(0, after_audit - before_audit)
            ]
        )
        transaction.set_rollback(True)
    assert status in (200, 400), (status, body)
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
    assert set(codes) <= documented, (document, variables, body)
    if codes:
        assert (after_rows, after_audit) == (before_rows, before_audit), body
    else:
        changed = sum(a != b for a, b in zip(before_rows, after_rows, strict=True))
        assert after_audit - before_audit == changed, body
        assert changed <= 1
        assert all(row == {"source": "graphql", "actor_id": manager.pk} for row in new_audit)
    return body


EXTEND_TYPES = {
    "userId": "String!",
    "courseId": "String!",
    "extensionDays": "Int",
    "newEndedAt": "Int",
    "indefinite": "Boolean",
    "reason": "String",
}
EXTEND_SELECTION = "{ enrollment { id endedAt updatedAt } }"


@st.composite
def extend_arguments(draw, world: World) -> dict[str, Any]:
    candidates = {
        "userId": ids_for(world.user_ids),
        "courseId": ids_for(world.course_ids),
        "extensionDays": int_arguments,
        "newEndedAt": int_arguments,
        "indefinite": st.one_of(st.booleans(), st.booleans(), st.none(), st.integers(0, 1)),
        "reason": reasons,
        "bogus": st.integers(),  # an argument the schema does not have
    }
    # userId and courseId usually present (else every example is a validation error).
    presence = {"userId": 0.95, "courseId": 0.95, "bogus": 0.05}
    arguments = {}
    for name, strategy in candidates.items():
        if draw(st.floats(0, 1)) < presence.get(name, 0.5):
            arguments[name] = draw(strategy)
    return arguments


def test_extend_student_course_access_with_any_arguments(api, key, manager, world):
    @HYPOTHESIS
    @given(data=st.data(), inline=st.booleans())
    @example(data=None, inline=False)
    def run(data, inline):
        if data is None:  # the contract's own example against the first enrollment
            arguments = {
                "userId": world.user_ids[0],
                "courseId": world.course_ids[0],
                "extensionDays": 30,
            }
        else:
            arguments = data.draw(extend_arguments(world))
        document, variables = build(
            "extendStudentCourseAccess", arguments, EXTEND_TYPES, inline, EXTEND_SELECTION
        )
        body = check_answer(api, document, variables, key, EXTEND_CODES, manager)
        if data is None:
            assert body["data"]["extendStudentCourseAccess"]["enrollment"]["id"] == world.ids[0]

    run()


def test_extend_with_pairs_that_exist_and_any_numbers(api, key, manager, world):
    """The same, with valid ids always, so that the numbers reach the rules and the core."""

    @HYPOTHESIS
    @given(
        index=st.integers(0, 3),
        days=st.one_of(st.none(), integers),
        until=st.one_of(st.none(), integers),
        indefinite=st.one_of(st.none(), st.booleans()),
        inline=st.booleans(),
        reason=reasons,
    )
    def run(index, days, until, indefinite, inline, reason):
        arguments = {"userId": world.user_ids[index], "courseId": world.course_ids[index]}
        for name, value in (
            ("extensionDays", days),
            ("newEndedAt", until),
            ("indefinite", indefinite),
            ("reason", reason),
        ):
            if value is not None:
                arguments[name] = value
        document, variables = build(
            "extendStudentCourseAccess", arguments, EXTEND_TYPES, inline, EXTEND_SELECTION
        )
        body = check_answer(api, document, variables, key, EXTEND_CODES, manager)
        if "errors" not in body:
            end = body["data"]["extendStudentCourseAccess"]["enrollment"]["endedAt"]
            assert end is None or 0 < end <= 2**31 - 1

    run()


MEMBERSHIP_SELECTION = "{ courseMembership { id is_paused total_paused_duration ended_at } }"


@st.composite
def membership_input(draw, world: World) -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments of pause/resume: usually `input: {id, reason?}`, sometimes without id,
    with an unknown field, null, or no input at all."""
    shape = draw(
        st.sampled_from(["id", "id", "id", "id+reason", "empty", "extra", "null", "none", "bogus"])
    )
    ident = draw(ids_for(world.ids))
    if shape == "none":
        return {}, {}
    if shape == "null":
        return {"input": None}, {}
    if shape == "bogus":
        return {"input": {"id": ident}, "bogus": draw(st.integers())}, {}
    value: dict[str, Any] = {}
    if shape != "empty":
        value["id"] = ident
    if shape == "id+reason":
        value["reason"] = draw(reasons)
    if shape == "extra":
        value["unknown"] = draw(texts)
    return {"input": value}, {}


def _membership_property(api, key, manager, world, field, input_type, documented):
    @HYPOTHESIS
    @given(data=st.data(), inline=st.booleans())
    def run(data, inline):
        arguments, _ = data.draw(membership_input(world))
        types = {"input": f"{input_type}!"}
        document, variables = build(field, arguments, types, inline, MEMBERSHIP_SELECTION)
        body = check_answer(api, document, variables, key, documented, manager)
        if "errors" not in body:
            membership = body["data"][field]["courseMembership"]
            assert membership["is_paused"] is (field == "pauseCourseMembership")
            assert 0 <= membership["total_paused_duration"] <= 2**31 - 1

    run()


def test_pause_course_membership_with_any_input(api, key, manager, world):
    _membership_property(
        api, key, manager, world, "pauseCourseMembership", "PauseCourseMembershipInput", PAUSE_CODES
    )


def test_resume_course_membership_with_any_input(api, key, manager, world):
    _membership_property(
        api,
        key,
        manager,
        world,
        "resumeCourseMembership",
        "ResumeCourseMembershipInput",
        RESUME_CODES,
    )


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def test_any_json_body_is_answered_without_a_server_error(api, key, manager, world):
    """The HTTP body itself: any JSON as query, variables and operationName. Found a bug: a
    non-string `query` (`{"query": 5}`) was a server error; it is now BAD_REQUEST."""

    @HYPOTHESIS
    @given(
        query=st.one_of(json_values, st.just("{ __typename }"), st.just("mutation { x }")),
        variables=json_values,
        operation_name=json_values,
    )
    @example(query=5, variables=None, operation_name=None)
    @example(query=["{ __typename }"], variables=None, operation_name=None)
    @example(query={"a": 1}, variables=None, operation_name=None)
    @example(query="{ __typename }", variables=[1], operation_name=5)
    def run(query, variables, operation_name):
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        with transaction.atomic():
            before = snapshot()
            response = api.client.post(
                "/graphql/",
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {key}",
            )
            assert snapshot() == before
            transaction.set_rollback(True)
        assert response.status_code in (200, 400), response.content
        codes = {e["extensions"]["code"] for e in response.json().get("errors", [])}
        assert "INTERNAL_SERVER_ERROR" not in codes

    run()


def test_a_huge_variable_is_refused_cleanly(api, key, world):
    """Variables are not bounded by the document length: Django's upload limit (2.5 MB) is."""
    before = snapshot()
    body = api.post(
        "mutation ($id: ID!) { pauseCourseMembership(input: {id: $id}) { __typename } }",
        {"id": "x" * 3_000_000},
        key=key,
    )
    assert api.last_response.status_code == 400
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]
    assert snapshot() == before


@pytest.mark.parametrize("reason", ["a\x00b", "a\ud800b", "\udcff"])
@pytest.mark.parametrize("field", ["extend", "pause", "resume"])
def test_a_nul_character_or_a_lone_surrogate_in_a_reason_is_invalid_reason(
    api, key, world, field, reason
):
    """Found by the properties above on PostgreSQL, whose text columns cannot hold NUL: it was
    an INTERNAL_SERVER_ERROR; it is now the core's INVALID_REASON, like a reason too long.
    A lone surrogate (JSON `"\\ud800"`, issue 14 finding 3) was an INTERNAL_SERVER_ERROR on
    both databases; the one text rule (lms.text) refuses it the same way."""
    active, _, paused, _ = world.enrollments
    if field == "extend":
        document, variables = build(
            "extendStudentCourseAccess",
            {
                "userId": str(active.user_id),
                "courseId": str(active.course_id),
                "extensionDays": 1,
                "reason": reason,
            },
            EXTEND_TYPES,
            False,
            EXTEND_SELECTION,
        )
    else:
        target = active if field == "pause" else paused
        name = f"{field}CourseMembership"
        input_type = f"{field.capitalize()}CourseMembershipInput!"
        document, variables = build(
            name,
            {"input": {"id": str(target.pk), "reason": reason}},
            {"input": input_type},
            False,
            MEMBERSHIP_SELECTION,
        )
    before = snapshot()
    body = api.post(document, variables, key=key)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_REASON"]
    assert body["errors"][0]["message"] == (
        "A reason is at most 1000 characters of valid text and contains no NUL character"
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"query": "{ __typename }", "variables": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}",
    ],
    ids=["arrays", "objects"],
)
@pytest.mark.parametrize("authenticated", [True, False])
def test_a_json_body_nested_too_deeply_is_bad_request(api, key, body, authenticated):
    """Found while probing request bodies: JSON nested 50,000 deep (200 KB) made json.loads
    raise RecursionError, an HTTP 500, for anonymous clients too."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if authenticated else {}
    response = api.client.post("/graphql/", body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"message": "The JSON body is nested too deeply.", "extensions": {"code": "BAD_REQUEST"}}
    ]
