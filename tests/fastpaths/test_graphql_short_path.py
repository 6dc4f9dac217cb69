"""Fast path `graphql_short_path` (enrollments/fastpaths/graphql_short_path.py): fields completed
without graphql-core's per-field machinery answer exactly as graphql-core does, on toy schemas
built to reach every branch (values it completes, values it hands to graphql-core, errors at
every depth), and every read runs once. Its signature check, and its switch.

The toy tests execute with the short path explicitly (SHORT), whatever the switch says, and
compare with graphql-core's own `execute`; the API-level tests run with the fast paths on and
off (the `fast_paths` fixture) or switch it themselves."""

import inspect
import logging
from types import SimpleNamespace

import graphene
import graphql
import pytest
from django.contrib.auth.models import Permission
from graphql import ExecutionContext, execute, parse
from graphql.pyutils import Undefined

from apikeys.models import APIKey
from config.urls import api_view
from enrollments import fastpaths
from enrollments.fastpaths import graphql_short_path
from enrollments.fastpaths.graphql_short_path import FAST_PATH, ShortPath, check
from enrollments.graphql import execution
from enrollments.graphql.resolving import never_awaitable, root_only
from tests.execution_steps import reshaped_step, reversing_lists
from tests.factories import StaffFactory
from tests.graphql.data import memberships

pytestmark = pytest.mark.django_db

#: The request's execution context with the short path, on or off the switch.
SHORT = graphql_short_path.with_short_path(execution.BoundedExecutionContext)


def _ours(schema, document, **options):
    return execute(
        schema,
        document,
        execution_context_class=SHORT,
        is_awaitable=never_awaitable,
        **options,
    )


def assert_same_answer(schema, query: str, **options) -> None:
    """The short path's answer is graphql-core's: data, errors, their messages and paths."""
    document = parse(query)
    ours = _ours(schema, document, **options)
    theirs = execute(schema, document, **options)
    assert ours.data == theirs.data
    assert [error.formatted for error in ours.errors or []] == [
        error.formatted for error in theirs.errors or []
    ]


# -- scalars ----------------------------------------------------------------------------------


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
    """The same data and the same errors as graphql-core's own execution, for values it
    serialises and for those it hands to graphql-core's completion."""
    assert_same_answer(graphene.Schema(query=ThingQuery).graphql_schema, query)


@pytest.fixture
def slow_fields(monkeypatch) -> list[str]:
    """The response keys graphql-core's execute_field ran for (spied on the SHORT class)."""
    slow: list[str] = []
    original = SHORT.execute_field

    def spy(self, parent_type, source, field_nodes, path):
        slow.append(path.key)
        return original(self, parent_type, source, field_nodes, path)

    monkeypatch.setattr(SHORT, "execute_field", spy)
    return slow


def test_the_short_path_serves_leaves_and_leaves_the_rest_to_graphql_core(slow_fields):
    """Default-resolved scalars are answered without graphql-core's execute_field, even those
    whose value graphql-core then reports (completed from the value read); fields with
    arguments or resolvers of their own go through it."""
    schema = graphene.Schema(query=ThingQuery).graphql_schema
    result = _ours(schema, parse("{ things { name size shout(loud: true) } }"))
    assert result.data["things"][0] == {"name": "a", "size": 1, "shout": "A"}
    # `things` (its own resolver), and `shout` (an argument) on every row that gets that far:
    # the last two rows end at their null / missing non-null name.
    assert slow_fields == ["things", "shout", "shout"]


def test_the_plan_cache_is_bounded_by_the_schema_not_by_documents():
    """However many distinct documents are sent, the short path keeps one plan per schema
    field (a plan per document node would keep every document alive)."""
    schema = graphene.Schema(query=ThingQuery).graphql_schema
    ShortPath.field_plans.clear()
    for n in range(50):
        _ours(schema, parse(f"{{ things {{ alias{n}: name size }} }}"))
    fields = schema.get_type("Thing").fields
    assert set(ShortPath.field_plans) <= {id(f) for f in fields.values()} | {
        id(f) for f in schema.query_type.fields.values()
    }


# -- objects and lists ------------------------------------------------------------------------


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
    @root_only
    def resolve_first_label(root, info):
        parts = root.get("parts") if isinstance(root, dict) else root.parts
        return parts[0]["label"] if parts else None

    @staticmethod
    @root_only
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
    @root_only
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
    assert_same_answer(schema, query, variable_values={"skip": True})


def test_a_resolver_not_marked_root_only_is_called_once_with_its_info():
    COUNTED_CALLS.clear()
    result = _ours(graphene.Schema(query=BoxQuery).graphql_schema, parse("{ boxes { counted } }"))
    assert result.data == {"boxes": [{"counted": "Box/None/BoxQuery"}] * 3}
    assert len(COUNTED_CALLS) == 3 and all(info.field_name == "counted" for info in COUNTED_CALLS)


def test_plans_are_made_once_per_field_and_looked_up_once_per_selection(monkeypatch):
    """A schema field's plan is made once per process; a selection's fields are looked up
    once per request, not once per row."""
    schema = graphene.Schema(query=BoxQuery).graphql_schema
    ShortPath.field_plans.clear()
    made, looked_up = [], []
    real_plan, real_plan_of = graphql_short_path.plan_field, SHORT.field_plan_of
    monkeypatch.setattr(
        graphql_short_path, "plan_field", lambda field: made.append(field) or real_plan(field)
    )

    def counting_field_plan_of(self, parent_type, node):
        looked_up.append(node.name.value)
        return real_plan_of(self, parent_type, node)

    monkeypatch.setattr(SHORT, "field_plan_of", counting_field_plan_of)
    for _ in range(2):
        result = _ours(schema, parse("{ boxes { name part { label } } }"))
        assert len(result.data["boxes"]) == 3
    assert len(made) == 4  # boxes, name, part, label: the first request only
    assert sorted(looked_up) == sorted(["boxes", "name", "part", "label"] * 2)


def _recording_middleware(seen):
    def middleware(next_, root, info, **args):
        seen.append(info.field_name)
        return next_(root, info, **args)

    return middleware


@pytest.mark.parametrize("never_awaitable_check", [True, False])
def test_with_middleware_or_awaitable_checks_every_field_takes_graphql_cores_path(
    never_awaitable_check,
):
    """The short path steps aside when middleware is installed (it must see every field) or
    results may be awaitable: the same data, errors and middleware calls as graphql-core."""
    schema = graphene.Schema(query=BoxQuery).graphql_schema
    document = parse("{ boxes { name part { label colour } requiredParts { weight } } }")
    ours_seen, theirs_seen = [], []
    options = {"is_awaitable": never_awaitable} if never_awaitable_check else {}
    ours = execute(
        schema,
        document,
        middleware=[_recording_middleware(ours_seen)],
        execution_context_class=SHORT,
        **options,
    )
    theirs = execute(schema, document, middleware=[_recording_middleware(theirs_seen)])
    assert ours.data == theirs.data
    assert [e.formatted for e in ours.errors or []] == [e.formatted for e in theirs.errors or []]
    assert ours_seen == theirs_seen and "label" in ours_seen


def test_a_root_only_resolver_is_called_without_info():
    """The short path calls a root_only resolver as resolver(parent, None): a resolver that
    reads info must not be marked (the page test below runs every marked resolver)."""
    seen = []

    class Probe(graphene.ObjectType):
        value = graphene.String()

        @staticmethod
        @root_only
        def resolve_value(root, info):
            seen.append(info)
            return "v"

    class ProbeQuery(graphene.ObjectType):
        probe = graphene.Field(Probe, required=True)

        @staticmethod
        def resolve_probe(root, info):
            return {}

    result = _ours(graphene.Schema(query=ProbeQuery).graphql_schema, parse("{ probe { value } }"))
    assert result.data == {"probe": {"value": "v"}} and seen == [None]


# -- the two divergences the short path had (issue 22) -----------------------------------------


class Leaf(graphene.ObjectType):
    label = graphene.String()


#: Each read of a Shelf field, by field name (the reads-run-once tests).
READS: list[str] = []


def _counted(name, value_of):
    @root_only
    def resolve(root, info):
        READS.append(name)
        return value_of(root)

    return staticmethod(resolve)


def _raise(message):
    raise ValueError(message)


class Shelf(graphene.ObjectType):
    leaves = graphene.List(graphene.NonNull(Leaf))
    required_leaves = graphene.List(graphene.NonNull(Leaf), required=True)
    leaf = graphene.Field(Leaf)
    required_leaf = graphene.Field(Leaf, required=True)
    loud = graphene.String()
    required_loud = graphene.String(required=True)
    size = graphene.Int()
    hue = Hue()

    resolve_loud = _counted("loud", lambda root: _raise("loud"))
    resolve_required_loud = _counted("required_loud", lambda root: _raise("required loud"))
    resolve_leaf = _counted("leaf", lambda root: root["leaf"])
    resolve_required_leaf = _counted("required_leaf", lambda root: root["leaf"])
    resolve_size = _counted("size", lambda root: root["size"])
    resolve_hue = _counted("hue", lambda root: root["hue"])


class ShelfQuery(graphene.ObjectType):
    shelves = graphene.List(graphene.NonNull(Shelf), required=True)

    @staticmethod
    def resolve_shelves(root, info):
        return SHELVES


SHELVES = [
    {
        "leaves": [{"label": "a"}, ValueError("an item")],
        "required_leaves": (ValueError("a required item"),),
        "leaf": ValueError("returned, not raised"),
        "size": 2**40,
        "hue": "none",
    },
    {
        "leaves": [{"label": "b"}, Undefined],
        "required_leaves": [{"label": "c"}, Undefined],
        "leaf": Undefined,
        "size": "seven",
        "hue": "red",
    },
    {
        "leaves": [{"label": "d"}],
        "required_leaves": [{"label": "e"}],
        "leaf": None,
        "size": 3,
        "hue": "blue",
    },
]


@pytest.mark.parametrize(
    "query",
    [
        "{ shelves { leaves { label } } }",
        "{ shelves { requiredLeaves { label } } }",
        "{ shelves { leaves { label } requiredLeaves { label } size } }",
    ],
)
def test_a_list_item_that_is_an_exception_or_undefined_is_reported_as_graphql_core_does(query):
    """Divergence 1: an item that is an exception (or graphql-core's Undefined) is an error at
    the item's path that nulls its list, not an object of nulls with the error swallowed."""
    schema = graphene.Schema(query=ShelfQuery).graphql_schema
    assert_same_answer(schema, query)
    assert _ours(schema, parse(query)).errors


def test_the_reported_item_errors_are_at_their_items():
    schema = graphene.Schema(query=ShelfQuery).graphql_schema
    result = _ours(schema, parse("{ shelves { leaves { label } } }"))
    assert result.data == {
        "shelves": [{"leaves": None}, {"leaves": None}, {"leaves": [{"label": "d"}]}]
    }
    assert [(error.message, error.path) for error in result.errors] == [
        ("an item", ["shelves", 0, "leaves", 1]),
        ("Undefined", ["shelves", 1, "leaves", 1]),
    ]


@pytest.mark.parametrize(
    ("field", "selection", "reads"),
    [
        ("loud", "loud", 3),  # raises: null and an error, each shelf
        ("required_loud", "requiredLoud", 1),  # raises: the first error nulls every shelf
        ("leaf", "leaf { label }", 3),  # an exception, Undefined, None
        ("required_leaf", "requiredLeaf { label }", 1),  # the first, an exception, ends it
        ("size", "size", 3),  # an Int overflow, a string, an int
        ("hue", "hue", 3),  # serialises to None, then to values
    ],
)
def test_every_read_runs_once_whatever_it_answers(field, selection, reads):
    """Divergence 2: a read runs once per parent, as graphql-core runs the resolver once,
    even when it raises or answers what graphql-core must report (an exception, Undefined,
    None for a non-null field, a value that does not serialise): the short path completes
    the value it read, it never reads again."""
    schema = graphene.Schema(query=ShelfQuery).graphql_schema
    document = parse(f"{{ shelves {{ {selection} }} }}")
    READS.clear()
    ours = _ours(schema, document)
    ours_reads = list(READS)
    READS.clear()
    theirs = execute(schema, document)
    assert ours_reads == READS == [field] * reads
    assert ours.data == theirs.data
    assert ours.errors
    assert [e.formatted for e in ours.errors] == [e.formatted for e in theirs.errors]


# -- the page ---------------------------------------------------------------------------------


@pytest.fixture
def page_key():
    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_enrollment"))
    _api_key, raw_key = APIKey.objects.create_key(user=viewer)
    return raw_key


def test_a_page_takes_graphql_cores_path_only_for_its_root_field(client, page_key, monkeypatch):
    """With the short path on, the benchmark's page (every contract field) runs graphql-core's
    execute_field once: for courseMemberships, whose resolver reads arguments and the request.
    Off, graphql-core's execute_field runs for every field."""
    from bench.documents import MEMBERSHIP_PAGE

    memberships(3, items=3, completed=1)
    api_view()  # made first, as the web server does: its check's toy document is not the page
    slow = []
    original = ExecutionContext.execute_field

    def spy(self, parent_type, source, field_nodes, path):
        slow.append(f"{parent_type.name}.{field_nodes[0].name.value}")
        return original(self, parent_type, source, field_nodes, path)

    monkeypatch.setattr(ExecutionContext, "execute_field", spy)

    def page() -> dict:
        response = client.post(
            "/graphql/",
            {"query": MEMBERSHIP_PAGE, "variables": {"first": 10}},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {page_key}",
        )
        return response.json()

    with fastpaths.switched([FAST_PATH.name], on=True):
        short = page()
    assert len(short["data"]["courseMemberships"]["edges"]) == 3
    assert slow == ["Query.courseMemberships"]
    slow.clear()
    with fastpaths.switched([FAST_PATH.name], on=False):
        assert page() == short
    assert slow.count("Query.courseMemberships") == 1 and len(slow) > 100


# -- the check and the switch -----------------------------------------------------------------


def test_the_check_passes_on_the_installed_graphql_core():
    assert check() is None
    assert FAST_PATH.checked and FAST_PATH.mismatch is None


@pytest.fixture
def restored():
    """Puts the fast path's check result and state back as they were."""
    saved = (FAST_PATH.mismatch, FAST_PATH.checked, FAST_PATH.enabled)
    yield
    FAST_PATH.mismatch, FAST_PATH.checked, enabled = saved
    FAST_PATH.set_enabled(enabled)


def _rechecked(caplog) -> str:
    with caplog.at_level(logging.WARNING, logger="enrollments.fastpaths"):
        FAST_PATH.checked = False
        fastpaths.setup()
    return caplog.text


@pytest.mark.parametrize("method", list(graphql_short_path.EXECUTION_CONTEXT_PARAMETERS))
def test_a_changed_signature_switches_the_short_path_off_with_a_warning(
    restored, monkeypatch, caplog, method
):
    monkeypatch.setattr(ExecutionContext, method, reshaped_step)
    logged = _rechecked(caplog)
    assert (
        f"fast path 'graphql_short_path' switched off: graphql-core's ExecutionContext.{method} "
        f"takes ['self', 'args', 'incremental_data_record']" in logged
    )
    assert not FAST_PATH.enabled
    assert execution.execution_context_class() is execution.BoundedExecutionContext


def test_a_changed_function_signature_is_a_mismatch(monkeypatch):
    def located_error(original_error, nodes=None, path=None, extensions=None):
        raise AssertionError("not called")

    monkeypatch.setattr(
        graphql_short_path,
        "FUNCTION_PARAMETERS",
        {
            "graphql.located_error": (located_error, ["original_error", "nodes", "path"]),
        },
    )
    assert check() == (
        "graphql.located_error takes ['original_error', 'nodes', 'path', 'extensions'], "
        "expected ['original_error', 'nodes', 'path']"
    )


@pytest.mark.parametrize(("major", "minor", "micro"), [(3, 3, 0), (3, 2, 5), (4, 0, 0)])
def test_a_graphql_core_outside_the_range_is_a_mismatch(monkeypatch, major, minor, micro):
    monkeypatch.setattr(
        graphql, "version_info", SimpleNamespace(major=major, minor=minor, micro=micro)
    )
    monkeypatch.setattr(graphql, "version", f"{major}.{minor}.{micro}")
    assert check() == (
        f"graphql-core {major}.{minor}.{micro} is outside the supported range >=3.2.6,<3.3.0"
    )


def test_graphql_core_completing_lists_otherwise_is_a_mismatch(monkeypatch):
    """Same signatures, another behaviour (graphql-core answering a list otherwise than the
    short path does): the check's toy document differs, and says how."""
    monkeypatch.setattr(ExecutionContext, "complete_list_value", reversing_lists(ExecutionContext))
    found = check()
    assert found is not None and found.startswith("a toy document answers ExecutionResult(")


def test_the_supported_range_is_the_one_pyproject_names():
    from pathlib import Path

    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"graphql-core>=3.2.6,<3.3"' in pyproject


def test_requests_work_on_graphql_cores_path_after_a_failed_check(
    restored, monkeypatch, caplog, client, page_key
):
    monkeypatch.setattr(ExecutionContext, "execute_fields", reshaped_step)
    assert "switched off" in _rechecked(caplog)
    monkeypatch.undo()  # graphql-core back as it was; the fast path stays off until rechecked
    rows = memberships(2, items=2, completed=1)
    response = client.post(
        "/graphql/",
        {"query": "{ courseMemberships(first: 5) { edges { node { id course { id } } } } }"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {page_key}",
    )
    assert response.status_code == 200
    edges = response.json()["data"]["courseMemberships"]["edges"]
    assert sorted(edge["node"]["id"] for edge in edges) == sorted(str(row.pk) for row in rows)
    assert not FAST_PATH.enabled


@pytest.mark.parametrize(
    "disabled", ["graphql_short_path", "all", "model_loading,graphql_short_path"]
)
def test_fastpaths_disabled_turns_it_off_at_run_time(settings, disabled):
    settings.FASTPATHS_DISABLED = disabled.split(",")
    assert not FAST_PATH.enabled
    assert execution.execution_context_class() is execution.BoundedExecutionContext
    settings.FASTPATHS_DISABLED = []
    assert FAST_PATH.enabled
    assert execution.execution_context_class() is SHORT


def test_the_override_takes_what_the_check_expects_of_graphql_core():
    """ShortPath.execute_fields overrides graphql-core's with the parameters the check pins,
    and is mixed in before the request's own context (which counts the lists it completes)."""
    assert SHORT.__mro__[1:3] == (ShortPath, execution.BoundedExecutionContext)
    assert (
        list(inspect.signature(ShortPath.execute_fields).parameters)
        == graphql_short_path.EXECUTION_CONTEXT_PARAMETERS["execute_fields"]
    )
