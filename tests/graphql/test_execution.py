"""The cheaper execution path (enrollments.graphql.execution, issue 15): documents parsed and
validated once per distinct text in bounded caches, one parse per request, no per-field
awaitable check, and the same answers as before."""

from types import SimpleNamespace

import graphene
import pytest
from graphql import execute, parse
from graphql.execution import ExecutionContext

from enrollments.graphql import execution
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

MEMBERSHIP_IDS = "{ courseMemberships(first: 5) { edges { node { id course_status } } } }"


@pytest.fixture(autouse=True)
def empty_caches():
    execution.clear_caches()
    yield
    execution.clear_caches()


@pytest.fixture
def key(make_key, viewer):
    return make_key(viewer)


@pytest.fixture
def counted(monkeypatch):
    """Counts graphql-core's parse and validate calls made through the execution module."""
    calls = {"parse": 0, "validate": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(execution, "parse", counting("parse", execution.parse))
    monkeypatch.setattr(execution, "validate", counting("validate", execution.validate))
    return calls


def test_a_request_parses_and_validates_its_document_once(api, key, enrollment, counted):
    body = api.post(MEMBERSHIP_IDS, key=key)
    assert body["data"]["courseMemberships"]["edges"][0]["node"]["id"] == str(enrollment.pk)
    assert counted == {"parse": 1, "validate": 1}
    again = api.post(MEMBERSHIP_IDS, key=key)
    assert again == body
    assert counted == {"parse": 1, "validate": 1}  # the second request used the caches


def test_the_caches_are_bounded(counted):
    size = execution.DOCUMENT_CACHE_SIZE
    assert execution.parsed.cache_info().maxsize == size
    for n in range(size + 25):
        execution.parsed(f"query Q{n} {{ __typename }}")
    assert execution.parsed.cache_info().currsize == size
    assert counted["parse"] == size + 25
    execution.parsed("query Q0 { __typename }")  # evicted long ago: parsed again
    assert counted["parse"] == size + 26


def test_the_validation_cache_is_bounded(api, key):
    size = execution.DOCUMENT_CACHE_SIZE
    for n in range(size + 10):
        assert api.post(f"query Q{n} {{ __typename }}", key=key) == {
            "data": {"__typename": "Query"}
        }
    info = execution._validation_errors.cache_info()
    assert (info.maxsize, info.currsize) == (size, size)


def test_syntax_and_validation_errors_are_answered_from_the_cache_alike(api, key, counted):
    for _ in range(2):
        assert error_codes(api.post("{ courseMemberships(", key=key)) == ["GRAPHQL_PARSE_FAILED"]
        body = api.post("{ courseMemberships { nope } }", key=key)
        assert "nope" in body["errors"][0]["message"]
    assert counted == {"parse": 2, "validate": 1}


def test_validation_follows_the_rules_of_the_caller(api, key):
    """Rules differ for anonymous callers (no introspection): the cache keys on them."""
    introspection = "{ __schema { queryType { name } } }"
    assert api.post(introspection, key=key)["data"]["__schema"]["queryType"]["name"] == "Query"
    assert error_codes(api.post(introspection)) == ["INTROSPECTION_DISABLED"]
    assert "errors" not in api.post(introspection, key=key)


def test_changed_limits_revalidate(api, key, settings):
    deep = "{ courseMemberships(first: 1) { edges { node { course { id } } } } }"
    assert "errors" not in api.post(deep, key=key)
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_DEPTH": 3}
    assert error_codes(api.post(deep, key=key)) == ["QUERY_TOO_DEEP"]


def test_no_resolved_value_is_checked_for_being_awaitable(api, key, enrollment, monkeypatch):
    """The synchronous path: graphql-core's per-field awaitable check is never called."""

    def refuse(_value):
        raise AssertionError("is_awaitable called")

    monkeypatch.setattr(ExecutionContext, "is_awaitable", staticmethod(refuse))
    body = api.post(MEMBERSHIP_IDS, key=key)
    assert body["data"]["courseMemberships"]["edges"][0]["node"]["course_status"] == ("not_started")


def test_mutations_still_roll_back_on_a_payload_error(api, make_key, manager, enrollment):
    """ATOMIC_MUTATIONS, kept by the new path: a refused extension changes nothing."""
    before = enrollment.ended_at
    body = api.post(
        f'mutation {{ extendStudentCourseAccess(userId: "{enrollment.user_id}", '
        f'courseId: "{enrollment.course_id}", extensionDays: -1) {{ enrollment {{ id }} }} }}',
        key=make_key(manager),
    )
    assert body.get("errors") or body["data"]["extendStudentCourseAccess"]
    enrollment.refresh_from_db()
    assert enrollment.ended_at == before


def test_a_get_request_cannot_run_a_mutation(client, make_key, manager):
    response = client.get(
        "/graphql/",
        {"query": "mutation { __typename }"},
        HTTP_AUTHORIZATION=f"Bearer {make_key(manager)}",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 405


class Color(graphene.Enum):
    RED = "red"
    BLUE = "blue"


class Thing(graphene.ObjectType):
    name = graphene.String(required=True)
    size = graphene.Int()
    color = Color()
    shout = graphene.String(loud=graphene.Boolean())

    @staticmethod
    def resolve_shout(root, info, loud=False):
        return root["name"].upper() if loud else root["name"]


class ThingQuery(graphene.ObjectType):
    things = graphene.List(Thing)

    @staticmethod
    def resolve_things(root, info):
        return [
            {"name": "a", "size": 1, "color": "red"},
            SimpleNamespace(name="b", size=2**40, color="blue"),  # Int overflow: an error
            {"name": None, "size": None, "color": None},  # null in a non-null field: an error
            {"size": "seven", "color": "green"},  # missing name, bad int, bad enum
        ]


@pytest.mark.parametrize(
    "query",
    [
        "{ things { name size color } }",
        "{ things { size color } }",
        "{ things { shout(loud: true) size } }",
        "{ things { ... on Thing { name } } }",
        "{ things { n: name again: name s: size __typename } }",
        "{ a: things { name } b: things { color } }",
    ],
)
def test_the_short_path_answers_as_graphql_core_does(query):
    """SyncExecutionContext gives the same data and the same errors as graphql-core's own
    execution, for values it serialises and for those it hands back to graphql-core."""
    schema = graphene.Schema(query=ThingQuery).graphql_schema
    document = parse(query)
    ours = execute(
        schema,
        document,
        execution_context_class=execution.SyncExecutionContext,
        is_awaitable=execution._never_awaitable,
    )
    theirs = execute(schema, document)
    assert ours.data == theirs.data
    assert [error.formatted for error in ours.errors or []] == [
        error.formatted for error in theirs.errors or []
    ]


def test_the_short_path_serves_leaves_and_leaves_the_rest_to_graphql_core(monkeypatch):
    """Default-resolved scalars are answered without graphql-core's execute_field; fields with
    arguments or resolvers of their own, and null values, go through it."""
    schema = graphene.Schema(query=ThingQuery).graphql_schema
    slow = []
    original = execution.SyncExecutionContext.execute_field

    def spy(self, parent_type, source, field_nodes, path):
        slow.append(path.key)
        return original(self, parent_type, source, field_nodes, path)

    monkeypatch.setattr(execution.SyncExecutionContext, "execute_field", spy)
    result = execute(
        schema,
        parse("{ things { name size shout(loud: true) } }"),
        execution_context_class=execution.SyncExecutionContext,
        is_awaitable=execution._never_awaitable,
    )
    assert result.data["things"][0] == {"name": "a", "size": 1, "shout": "A"}
    # `things` (its own resolver); per row: "a" only shout (an argument), "b" its
    # overflowing size and shout, the last two their null / missing name (a non-null error
    # that ends the row). No leaf that serialises took graphql-core's path.
    assert slow == ["things", "shout", "size", "shout", "name", "name"]


def test_the_plan_cache_is_bounded_by_the_schema_not_by_documents():
    """However many distinct documents are sent, the short path keeps one plan per schema
    field (a plan per document node would keep every document alive)."""
    schema = graphene.Schema(query=ThingQuery).graphql_schema
    execution.SyncExecutionContext._plans.clear()
    for n in range(50):
        execute(
            schema,
            parse(f"{{ things {{ alias{n}: name size }} }}"),
            execution_context_class=execution.SyncExecutionContext,
            is_awaitable=execution._never_awaitable,
        )
    fields = schema.get_type("Thing").fields
    assert set(execution.SyncExecutionContext._plans) <= {id(f) for f in fields.values()} | {
        id(f) for f in schema.query_type.fields.values()
    }


class Part(graphene.ObjectType):
    label = graphene.String(required=True)
    weight = graphene.Int()
    colour = graphene.String(default_value="grey")  # the default resolver's default


class Checked(graphene.ObjectType):
    """A type with an is_type_of check: graphql-core's path, which runs it."""

    label = graphene.String()

    @classmethod
    def is_type_of(cls, root, info):
        return root.get("ok", False)


#: The `info` each call of Box.counted received (a resolver not marked root_only).
COUNTED_CALLS: list = []


class Hue(graphene.Scalar):
    """A scalar whose serialize answers None for "none": graphql-core reports that."""

    @staticmethod
    def serialize(value):
        return None if value == "none" else value


class Box(graphene.ObjectType):
    name = graphene.String(required=True)
    part = graphene.Field(Part)
    required_part = graphene.Field(Part, required=True)
    parts = graphene.List(graphene.NonNull(Part))
    required_parts = graphene.List(graphene.NonNull(Part), required=True)
    loose_parts = graphene.List(Part)  # nullable items: graphql-core's path
    first_label = graphene.String()
    boom = graphene.String()
    checked = graphene.Field(Checked)
    counted = graphene.String()

    hue = Hue()

    @staticmethod
    def resolve_counted(root, info):
        """The type names along the field's response path (Box, the list item, Query)."""
        COUNTED_CALLS.append(info)
        names, path = [], info.path
        while path is not None:
            names.append(str(path.typename))
            path = path.prev
        return "/".join(names)

    @staticmethod
    @execution.root_only
    def resolve_first_label(root, info):
        parts = root.get("parts") if isinstance(root, dict) else root.parts
        return parts[0]["label"] if parts else None

    @staticmethod
    @execution.root_only
    def resolve_boom(root, info):
        if root.get("boom") == "raise":
            raise ValueError("boom")
        return root.get("boom")


def _part(label="p", weight=1):
    return {"label": label, "weight": weight}


class BoxQuery(graphene.ObjectType):
    boxes = graphene.List(graphene.NonNull(Box), required=True)
    nullable_boxes = graphene.List(Box)

    @staticmethod
    @execution.root_only
    def resolve_boxes(root, info):
        return BOXES

    @staticmethod
    def resolve_nullable_boxes(root, info):
        return [*BOXES, None]


BOXES = [
    {
        "name": "fine",
        "part": _part(),
        "required_part": SimpleNamespace(label="r", weight=3),  # read by attribute
        "checked": {"ok": True, "label": "yes"},
        "hue": "red",
        "parts": [_part("a"), _part("b", 2**40)],  # an Int overflow inside a list item
        "required_parts": (_part("c"),),
        "loose_parts": [None, _part("d")],
    },
    {
        "name": "nulls",
        "part": None,
        "checked": {"label": "no"},  # fails is_type_of
        "hue": "none",  # serialises to None
        "required_part": {"label": None},  # a non-null error two levels down
        "parts": [None],  # a null item in a list of non-null items
        "required_parts": [],
        "loose_parts": None,
        "boom": "raise",
    },
    {
        "name": "odd",
        "part": ValueError("returned, not raised"),
        "required_part": _part(),
        "parts": "not a list",
        "required_parts": [{"weight": "heavy"}],  # a missing non-null label, a bad int
        "boom": "quiet",
    },
]


@pytest.mark.parametrize(
    "query",
    [
        "{ boxes { name part { label weight } } }",
        "{ boxes { name requiredPart { label } } }",
        "{ boxes { parts { label weight } } }",
        "{ boxes { requiredParts { label weight } } }",
        "{ boxes { looseParts { label } } }",
        "{ boxes { firstLabel boom } }",
        "{ boxes { part { colour } requiredPart { colour } requiredParts { colour } } }",
        "{ boxes { checked { label } } }",
        "{ boxes { counted hue } }",
        "{ boxes { name ... on Box { part { __typename label } } } }",
        "{ nullableBoxes { name requiredPart { label } parts { weight } } }",
        "{ a: boxes { p: part { l: label } } b: boxes { part { weight } } }",
        "query($skip: Boolean!) { boxes { part { label @skip(if: $skip) weight } } }",
    ],
)
def test_the_short_path_completes_objects_and_lists_as_graphql_core_does(query):
    """Objects and lists of non-null objects completed on the short path give the same data and
    the same errors, at the same paths, as graphql-core: a null in a non-null field nulls the
    nearest nullable parent, an item's error its list, an odd value (a returned exception,
    a string for a list, a null item) is graphql-core's to report."""
    schema = graphene.Schema(query=BoxQuery).graphql_schema
    document = parse(query)
    variables = {"skip": True}
    ours = execute(
        schema,
        document,
        variable_values=variables,
        execution_context_class=execution.SyncExecutionContext,
        is_awaitable=execution._never_awaitable,
    )
    theirs = execute(schema, document, variable_values=variables)
    assert ours.data == theirs.data
    assert [error.formatted for error in ours.errors or []] == [
        error.formatted for error in theirs.errors or []
    ]


def test_a_resolver_not_marked_root_only_is_called_once_with_its_info():
    COUNTED_CALLS.clear()
    result = execute(
        graphene.Schema(query=BoxQuery).graphql_schema,
        parse("{ boxes { counted } }"),
        execution_context_class=execution.SyncExecutionContext,
        is_awaitable=execution._never_awaitable,
    )
    assert result.data == {"boxes": [{"counted": "Box/None/BoxQuery"}] * 3}
    assert len(COUNTED_CALLS) == 3 and all(info.field_name == "counted" for info in COUNTED_CALLS)


def test_plans_are_made_once_per_field_and_looked_up_once_per_selection(monkeypatch):
    """A schema field's plan is made once per process; a selection's fields are looked up
    once per request, not once per row."""
    schema = graphene.Schema(query=BoxQuery).graphql_schema
    execution.SyncExecutionContext._plans.clear()
    made, looked_up = [], []
    real_plan, real_plan_of = execution._plan, execution.SyncExecutionContext._plan_of
    monkeypatch.setattr(execution, "_plan", lambda field: made.append(field) or real_plan(field))

    def counting_plan_of(self, parent_type, node):
        looked_up.append(node.name.value)
        return real_plan_of(self, parent_type, node)

    monkeypatch.setattr(execution.SyncExecutionContext, "_plan_of", counting_plan_of)
    for _ in range(2):
        result = execute(
            schema,
            parse("{ boxes { name part { label } } }"),
            execution_context_class=execution.SyncExecutionContext,
            is_awaitable=execution._never_awaitable,
        )
        assert len(result.data["boxes"]) == 3
    assert len(made) == 4  # boxes, name, part, label: the first request only
    assert sorted(looked_up) == sorted(["boxes", "name", "part", "label"] * 2)


def _recording_middleware(seen):
    def middleware(next_, root, info, **args):
        seen.append(info.field_name)
        return next_(root, info, **args)

    return middleware


@pytest.mark.parametrize("never_awaitable", [True, False])
def test_with_middleware_or_awaitable_checks_every_field_takes_graphql_cores_path(
    never_awaitable,
):
    """The short path steps aside when middleware is installed (it must see every field) or
    results may be awaitable: the same data, errors and middleware calls as graphql-core."""
    schema = graphene.Schema(query=BoxQuery).graphql_schema
    document = parse("{ boxes { name part { label colour } requiredParts { weight } } }")
    ours_seen, theirs_seen = [], []
    options = {"is_awaitable": execution._never_awaitable} if never_awaitable else {}
    ours = execute(
        schema,
        document,
        middleware=[_recording_middleware(ours_seen)],
        execution_context_class=execution.SyncExecutionContext,
        **options,
    )
    theirs = execute(schema, document, middleware=[_recording_middleware(theirs_seen)])
    assert ours.data == theirs.data
    assert [e.formatted for e in ours.errors or []] == [e.formatted for e in theirs.errors or []]
    assert ours_seen == theirs_seen and "label" in ours_seen


def test_a_root_only_resolver_is_called_without_info(monkeypatch):
    """The short path calls a root_only resolver as resolver(parent, None): a resolver that
    reads info must not be marked (the page test below runs every marked resolver)."""
    seen = []

    class Probe(graphene.ObjectType):
        value = graphene.String()

        @staticmethod
        @execution.root_only
        def resolve_value(root, info):
            seen.append(info)
            return "v"

    class ProbeQuery(graphene.ObjectType):
        probe = graphene.Field(Probe, required=True)

        @staticmethod
        def resolve_probe(root, info):
            return {}

    result = execute(
        graphene.Schema(query=ProbeQuery).graphql_schema,
        parse("{ probe { value } }"),
        execution_context_class=execution.SyncExecutionContext,
        is_awaitable=execution._never_awaitable,
    )
    assert result.data == {"probe": {"value": "v"}} and seen == [None]


EVERY_MEMBERSHIP_FIELD = """
query($first: Int) {
  courseMemberships(first: $first) {
    __typename
    total_count
    edges {
      cursor
      node {
        __typename id cursor course_id user_id course_status created_at updated_at start_at
        ended_at paused_at is_paused total_paused_duration access_state has_access
        completion_rate
        course { id slug title name description access_days pause_freezes_access }
        user { id email name full_name first_name last_name }
        next_incomplete_item {
          id course_id course_name title name kind item_type position created_at updated_at
          description course { id slug }
        }
        next_next_incomplete_item { id title position }
      }
    }
    nodes { id course_status next_incomplete_item { id } }
    page_info { has_next_page has_previous_page start_cursor end_cursor }
  }
}
"""


@pytest.fixture
def varied_memberships(clock):
    """Memberships in every state a page shows: not started, in progress, completed (no next
    items), paused, indefinite."""
    from tests.graphql.data import memberships

    rows = [
        *memberships(2, items=3, completed=0),
        *memberships(2, items=3, completed=1),
        *memberships(1, items=2, completed=2),
        *memberships(1, items=0),
    ]
    rows[1].__class__.objects.filter(pk=rows[1].pk).update(
        is_paused=True, paused_at=clock.current, ended_at=None
    )
    return rows


def test_a_page_answers_the_same_on_the_short_path_and_off_it(
    api, key, varied_memberships, monkeypatch
):
    """Every field of a page (every root_only resolver of the membership types included)
    answers the same whether the short path serves it or graphql-core does."""
    variables = {"first": 10}
    short = api.post(EVERY_MEMBERSHIP_FIELD, variables, key=key)
    assert "errors" not in short and len(short["data"]["courseMemberships"]["edges"]) == 6
    monkeypatch.setattr(execution.SyncExecutionContext, "_short", lambda *args: execution._SLOW)
    assert api.post(EVERY_MEMBERSHIP_FIELD, variables, key=key) == short


def test_a_page_takes_graphql_core_path_only_for_its_root_field(
    api, key, varied_memberships, monkeypatch
):
    """The benchmark's page (every contract field) runs graphql-core's execute_field once: for
    courseMemberships, whose resolver reads arguments and the request."""
    from bench.documents import MEMBERSHIP_PAGE

    slow = []
    original = execution.SyncExecutionContext.execute_field

    def spy(self, parent_type, source, field_nodes, path):
        slow.append(f"{parent_type.name}.{field_nodes[0].name.value}")
        return original(self, parent_type, source, field_nodes, path)

    monkeypatch.setattr(execution.SyncExecutionContext, "execute_field", spy)
    body = api.post(MEMBERSHIP_PAGE, {"first": 10}, key=key)
    assert len(body["data"]["courseMemberships"]["edges"]) == 6
    assert slow == ["Query.courseMemberships"]
