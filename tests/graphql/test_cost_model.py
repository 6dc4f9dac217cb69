"""The cost model prices what a document can return (issue 21, finding 1): each field's own cost
times the most items every list around it can hold (page sizes, fetch_all's cap, a course's
items), summed over the answer's shape as graphql-core collects it (fragments, aliases,
`@skip` / `@include`, variables); the answer itself is bounded; the rate limiter counts
mutations with the same walk."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from graphql import (
    get_named_type,
    get_nullable_type,
    is_list_type,
    is_object_type,
    parse,
)
from graphql.execution.collect_fields import collect_fields, collect_sub_fields

from apikeys import ratelimit
from apikeys.ratelimit import Kind, operation_cost
from config.schema import schema
from enrollments.graphql import document_walk
from enrollments.graphql.cost import LIST_BOUNDS, price
from enrollments.graphql.document_walk import DocumentWalk
from enrollments.graphql.limits import limits
from enrollments.models import Enrollment
from lms.admin import CourseItemInline
from lms.models import Course
from tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory, UserFactory
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

DATA_TABLES = ("enrollments_", "lms_course")

#: The audit's document (issue 21): three levels of a course's items under one membership.
NESTED_LISTS = """{ courseMembership(id: "%s") { course { course_items { course { course_items {
  course { course_items { id name title description } } } } } } } }"""


@pytest.fixture
def learner_membership() -> Enrollment:
    """A learner in a course of 3 items (the learner sees only their own memberships)."""
    course = CourseFactory()
    for position in (1, 2, 3):
        CourseItemFactory(course=course, position=position)
    return EnrollmentFactory(course=course, user=UserFactory())


@pytest.fixture
def learner_key(make_key, api, learner_membership) -> str:
    raw = make_key(learner_membership.user)
    api.post("{ __typename }", key=raw)  # the key's first use is recorded (one UPDATE)
    return raw


@pytest.fixture
def viewer_key(make_key, api, viewer) -> str:
    raw = make_key(viewer)
    api.post("{ __typename }", key=raw)
    return raw


def refused(body: dict) -> dict:
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
    return error


def test_the_nested_list_document_from_a_learners_key_is_refused_before_any_data_query(
    api, learner_key, learner_membership
):
    document = NESTED_LISTS % learner_membership.pk
    # The default connection's queries; a read through any other alias would fail the test
    # (pytest-django refuses aliases a test did not ask for).
    with CaptureQueriesContext(connection) as queries:
        body = api.post(document, key=learner_key)
    # 1,000 values for the membership's read, 250 for its course's items' read; then each
    # level of course_items multiplies by 100 (MAX_COURSE_ITEMS), each item an object of
    # 8 values more (COST_OBJECT_VALUES): 12,183,060 values.
    assert refused(body) == {
        "message": "The query costs 12184; the limit is 100",
        "extensions": {"code": "QUERY_TOO_COSTLY", "cost": 12184, "limit": 100},
    }
    statements = [query["sql"] for query in queries.captured_queries]
    assert [sql for sql in statements if any(t in sql for t in DATA_TABLES)] == []
    assert len(statements) <= 2  # the key's look-up and its permissions


def test_two_levels_of_a_courses_items_fit_and_answer(api, learner_key, learner_membership):
    document = (
        f'{{ courseMembership(id: "{learner_membership.pk}") {{ course {{ course_items {{'
        " course { course_items { id } } } } } }"
    )
    # 11,452 values as in test_a_courses_items_are_priced_as_one_read, and 10,201 objects
    # (course, 100 items, their course, 10,000 items) of 8 values more: 93,060 values, 94
    # points: the heaviest nesting of a course's items the budget admits.
    assert price(parse(document), limits(), schema=schema.graphql_schema).points == 94
    body = api.post(document, key=learner_key)
    assert "errors" not in body, body
    items = body["data"]["courseMembership"]["course"]["course_items"]
    assert [len(item["course"]["course_items"]) for item in items] == [3, 3, 3]


def test_each_object_of_the_answer_costs_its_weight_more(settings):
    document = '{ courseMembership(id: "x") { course { course_items { id } } } }'
    weight = settings.GRAPHQL_LIMITS["COST_OBJECT_VALUES"]
    with_weight = price(parse(document), limits(), schema=schema.graphql_schema).values
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "COST_OBJECT_VALUES": 0}
    without = price(parse(document), limits(), schema=schema.graphql_schema).values
    # The course and its 100 items are objects (the membership is its root read's price);
    # the ids are not.
    assert weight > 0
    assert with_weight - without == weight * (1 + 100)


ITEMS_PER_ROW = """course { course_items { id name title description created_at updated_at
  course_id course_name item_type position kind } }"""


def page(arguments: str) -> str:
    return f"{{ courseMemberships{arguments} {{ nodes {{ {ITEMS_PER_ROW} }} }} }}"


@pytest.mark.parametrize(
    ("arguments", "cost"),
    [
        # 1,000 for the read + 2 (the connection, nodes) + rows x (course, course_items and its
        # read of 250 + 100 items x 11 fields = 1,352).
        ("(first: 100)", 137),  # 136,202 values
        ("(last: 90)", 123),
        ("(first: 70)", 96),
        ("", 29),  # the default page of 20
        ("(first: 0)", 2),
        ("(fetch_all: true)", 1363),  # 10,000 + 2 + 1,000 x 1,352
    ],
)
@pytest.mark.usefixtures("without_object_weight")
def test_a_pages_size_multiplies_the_lists_under_it(api, viewer_key, arguments, cost):
    document = page(arguments)
    assert price(parse(document), limits(), schema=schema.graphql_schema).points == cost
    body = api.post(document, key=viewer_key)
    if cost > 100:
        assert refused(body)["extensions"]["cost"] == cost
    else:
        assert "errors" not in body, body


@pytest.mark.usefixtures("without_object_weight")
def test_variables_are_priced_with_their_values(api, viewer_key):
    document = (
        f"query ($n: Int) {{ courseMemberships(first: $n) {{ nodes {{ {ITEMS_PER_ROW} }} }} }}"
    )
    # Without the variables, `first` is priced at its most, 100: 137 points.
    assert price(parse(document), limits(), schema=schema.graphql_schema).points == 137
    assert "errors" not in api.post(document, {"n": 10}, key=viewer_key)
    assert "errors" not in api.post(document, {"n": None}, key=viewer_key)  # 20
    assert "errors" not in api.post(document, key=viewer_key)
    assert refused(api.post(document, {"n": 100}, key=viewer_key))["extensions"]["cost"] == 137
    # A variable that does not coerce is execution's error, priced at nothing more.
    body = api.post(document, {"n": "many"}, key=viewer_key)
    assert error_codes(body) != ["QUERY_TOO_COSTLY"]
    assert "errors" in body


@pytest.mark.parametrize(
    ("directive", "variables", "admitted"),
    [
        ("@skip(if: true)", None, True),
        ("@skip(if: false)", None, False),
        ("@include(if: false)", None, True),
        ("@include(if: true)", None, False),
        ("@skip(if: $v)", {"v": True}, True),
        ("@skip(if: $v)", {"v": False}, False),
        ("@include(if: $v)", {"v": False}, True),
        ("@include(if: $v)", {"v": True}, False),
        ("@include(if: $d)", None, True),  # $d defaults to false
    ],
)
@pytest.mark.usefixtures("without_object_weight")
def test_skip_and_include_are_honoured(api, viewer_key, directive, variables, admitted):
    """The heavy half (`first: 100`, 137 points) is left out when the directive says so, on an
    inline fragment, a field and a fragment spread alike."""
    heavy = f"courseMemberships(first: 100) {{ nodes {{ {ITEMS_PER_ROW} }} }}"
    declared = "query"
    if "$v" in directive:
        declared = "query ($v: Boolean = true)"
    if "$d" in directive:
        declared = "query ($d: Boolean = false)"
    for document in (
        f"{declared} {{ ... {directive} {{ {heavy} }} }}",
        f"{declared} {{ a: {heavy.replace('{', directive + ' {', 1)} }}",
        f"{declared} {{ ...Heavy {directive} }} fragment Heavy on Query {{ {heavy} }}",
    ):
        body = api.post(document, variables, key=viewer_key)
        if admitted:
            assert "errors" not in body, (document, body)
        else:
            assert refused(body)["extensions"]["cost"] == 137, document


@pytest.mark.usefixtures("without_object_weight")
def test_aliases_and_fragments_are_priced_wherever_they_land(api, viewer_key):
    half = f"courseMemberships(first: 45) {{ nodes {{ {ITEMS_PER_ROW} }} }}"  # 62 points
    assert "errors" not in api.post(f"{{ a: {half} }}", key=viewer_key)
    # Two aliases: two reads, two answers.
    assert (
        refused(api.post(f"{{ a: {half} b: {half} }}", key=viewer_key))["extensions"]["cost"] == 124
    )
    # A named fragment spread under two aliases costs twice; spread twice into one selection,
    # graphql-core executes it once, and it costs once.
    fragment = (
        f"fragment Rows on CourseMembershipPaginationConnection {{ nodes {{ {ITEMS_PER_ROW} }} }}"
    )
    twice = (
        "{ a: courseMemberships(first: 45) { ...Rows }"
        f" b: courseMemberships(first: 45) {{ ...Rows }} }} {fragment}"
    )
    assert refused(api.post(twice, key=viewer_key))["extensions"]["cost"] == 124
    once = f"{{ courseMemberships(first: 45) {{ ...Rows ...Rows }} }} {fragment}"
    assert "errors" not in api.post(once, key=viewer_key)
    # Fields merged under one key are executed once: `a` twice is `a` once.
    merged = f"{{ a: {half} a: {half} }}"
    assert price(parse(merged), limits(), schema=schema.graphql_schema).points == 62


def test_every_list_field_of_the_schema_has_a_bound():
    """A new list field must say how many items it can hold (cost.LIST_BOUNDS)."""
    graphql_schema = schema.graphql_schema
    lists = {
        (type_.name, name)
        for type_ in graphql_schema.type_map.values()
        if is_object_type(type_) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if is_list_type(get_nullable_type(field.type))
    }
    assert lists == set(LIST_BOUNDS)


# -- the answer's own bound (execution.ResponseTooLarge) ----------------------------------------


@pytest.fixture
def big_course_membership(viewer) -> Enrollment:
    """A course holding 30 items (more than the settings below say a course may hold: a
    command or a migration can add items the admin would refuse)."""
    course = CourseFactory()
    for position in range(1, 31):
        CourseItemFactory(course=course, position=position)
    return EnrollmentFactory(course=course)


def test_an_answer_over_the_size_limit_is_refused_not_built(
    api, viewer_key, settings, big_course_membership
):
    settings.GRAPHQL_LIMITS = {
        **settings.GRAPHQL_LIMITS,
        "MAX_COURSE_ITEMS": 2,  # the model believes 2 x 2 items
        "MAX_RESPONSE_VALUES": 500,
    }
    document = (
        f'{{ courseMembership(id: "{big_course_membership.pk}") {{ id course {{ course_items {{'
        " id course { course_items { id title } } } } } }"
    )
    body = api.post(document, key=viewer_key)
    # 30 items x 2 fields + 30 x 30 items x 2 fields: past 500 at the 8th inner list.
    assert body == {
        "errors": [
            {
                "message": "The answer would hold more than 500 values; ask for fewer items "
                "or fields",
                "extensions": {"code": "QUERY_TOO_COSTLY", "values_limit": 500},
            }
        ]
    }
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_RESPONSE_VALUES": 60 + 1800}
    body = api.post(document, key=viewer_key)
    assert "errors" not in body
    assert len(body["data"]["courseMembership"]["course"]["course_items"]) == 30


def test_the_answer_bound_counts_graphql_cores_path_too(api, viewer_key, settings):
    """Introspection lists complete through graphql-core's complete_list_value."""
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_RESPONSE_VALUES": 20}
    body = api.post("{ __schema { types { name kind } } }", key=viewer_key)
    assert refused(body)["extensions"] == {"code": "QUERY_TOO_COSTLY", "values_limit": 20}


def test_a_mutations_answer_is_never_refused_for_its_size(
    api, make_key, manager, settings, big_course_membership
):
    """Its change is committed before its payload is built: refusing the answer would invite a
    retry that applies it twice."""
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_RESPONSE_VALUES": 1}
    body = api.post(
        "mutation ($id: ID!) { pauseCourseMembership(input: {id: $id}) { courseMembership {"
        " is_paused course { course_items { id } } } messages { code } } }",
        {"id": str(big_course_membership.pk)},
        key=make_key(manager),
    )
    payload = body["data"]["pauseCourseMembership"]
    assert payload["courseMembership"]["is_paused"] is True
    assert len(payload["courseMembership"]["course"]["course_items"]) == 30
    big_course_membership.refresh_from_db()
    assert big_course_membership.is_paused


# -- the walk: as graphql-core collects, shared by the rate limiter ------------------------------

COLLECTED = [
    "{ a: courseMemberships { total_count } a: courseMemberships { nodes { id } } b: __typename }",
    "{ ...F ...F ... on Query { c: __typename } } fragment F on Query { courseMembership { id } }",
    "query ($s: Boolean!) { x: __typename @skip(if: $s) y: __typename @include(if: $s) }",
    "query ($s: Boolean = false) { ... @include(if: $s) { a: __typename } b: __typename }",
    "{ courseMemberships { ...P ... on PageInfo { has_next_page } } }"
    " fragment P on CourseMembershipPaginationConnection { page_info { end_cursor } nodes { id } }",
]


@pytest.mark.parametrize("document", COLLECTED)
@pytest.mark.parametrize("variables", [{"s": True}, {"s": False}])
def test_the_walk_collects_fields_as_graphql_core_does(document, variables):
    graphql_schema = schema.graphql_schema
    ast = parse(document)
    walk = DocumentWalk(ast, schema=graphql_schema, variables=variables)
    operation = walk.operations()[0]
    ours = walk.root_fields(operation)
    theirs = collect_fields(
        graphql_schema,
        walk.fragments,
        variables,
        graphql_schema.query_type,
        operation.selection_set,
    )
    assert ours == theirs
    for nodes in theirs.values():
        field = graphql_schema.query_type.fields.get(nodes[0].name.value)
        if field is None or not is_object_type(get_named_type(field.type)):
            continue
        child = get_named_type(field.type)
        assert walk.collect(child, nodes) == collect_sub_fields(
            graphql_schema, walk.fragments, variables, child, nodes
        )


def test_without_variables_a_condition_on_a_variable_includes_its_field():
    walk = DocumentWalk(parse(COLLECTED[2]), schema=schema.graphql_schema)
    assert list(walk.root_fields(walk.operations()[0])) == ["x", "y"]
    assert walk.read_unknown


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("mutation { a: x @skip(if: true) b: x c: x }", 2),
        ("mutation { a: x @include(if: false) }", 1),  # at least one
        ("mutation ($v: Boolean!) { a: x @skip(if: $v) b: x }", 2),  # unknown: counted
        ("mutation { a a }", 1),  # one key: executed once
        ("mutation { ...F ...F } fragment F on Mutation { a b }", 2),
    ],
)
def test_the_rate_limiter_counts_mutations_with_the_shared_walk(document, expected, monkeypatch):
    walked = []
    root_fields = DocumentWalk.root_fields

    def spy(self, operation):
        walked.append(operation)
        return root_fields(self, operation)

    monkeypatch.setattr(document_walk.DocumentWalk, "root_fields", spy)
    assert operation_cost(parse(document), None) == (Kind.MUTATION, expected)
    assert len(walked) == 1
    assert ratelimit.DocumentWalk is DocumentWalk


# -- the bound on a course's items ---------------------------------------------------------------


def test_the_course_admin_refuses_more_items_than_a_course_may_hold(settings, admin_user):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_COURSE_ITEMS": 2}
    request = RequestFactory().get("/")
    request.user = admin_user
    inline = CourseItemInline(Course, admin.site)
    course = CourseFactory()
    formset_class = inline.get_formset(request, course)

    def formset(count: int):
        data = {
            "items-TOTAL_FORMS": str(count),
            "items-INITIAL_FORMS": "0",
            **{f"items-{n}-position": str(n + 1) for n in range(count)},
            **{f"items-{n}-title": f"Item {n}" for n in range(count)},
            **{f"items-{n}-kind": "lesson" for n in range(count)},
        }
        return formset_class(data, instance=course, prefix="items")

    assert formset(2).is_valid()
    three = formset(3)
    assert not three.is_valid()
    assert "at most 2" in " ".join(three.non_form_errors())


@pytest.mark.parametrize(
    ("selection", "values"),
    [
        # The membership's read (1,000), its course (1), the items' read (250) and the list
        # (1), then 100 items of their course (1), its items (1, read already) and 100 ids.
        ("course { course_items { course { course_items { id } } } }", 1000 + 1 + 251 + 10_200),
        # An item's neighbours read its course's items once, however deep they go.
        ("next_incomplete_item { next_item { prev_item { id } } }", 1000 + 1 + 251 + 1 + 1),
        ("next_incomplete_item { id } course { id }", 1000 + 2 + 2),
    ],
)
@pytest.mark.usefixtures("without_object_weight")
def test_a_courses_items_are_priced_as_one_read(selection, values):
    document = f'{{ courseMembership(id: "x") {{ {selection} }} }}'
    assert price(parse(document), limits(), schema=schema.graphql_schema).values == values
