"""The cheaper execution path (enrollments.graphql.execution, issue 15): documents parsed and
validated once per distinct text in bounded caches, one parse per request, no per-field
awaitable check, and the same answers as before, with the GraphQL short path on or off.

The short path itself (enrollments/fastpaths/graphql_short_path.py) is tested against
graphql-core on toy schemas in tests/fastpaths/test_graphql_short_path.py."""

import pytest
from graphql.execution import ExecutionContext

from enrollments import fastpaths
from enrollments.fastpaths import graphql_short_path
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


def test_the_request_executes_with_the_short_path_only_while_it_is_on(settings):
    """execution_context_class asks the fast-path home: FASTPATHS_DISABLED, read at run time,
    names graphql_short_path or `all`, and requests execute on graphql-core's own path."""
    short = graphql_short_path.with_short_path(execution.BoundedExecutionContext)
    settings.FASTPATHS_DISABLED = []
    assert execution.execution_context_class() is short
    for disabled in (["graphql_short_path"], ["all"], ["model_loading", "graphql_short_path"]):
        settings.FASTPATHS_DISABLED = disabled
        assert execution.execution_context_class() is execution.BoundedExecutionContext
    settings.FASTPATHS_DISABLED = ["model_loading"]
    assert execution.execution_context_class() is short


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


def test_a_page_answers_the_same_with_the_short_path_on_and_off(api, key, varied_memberships):
    """Every field of a page (every root_only resolver of the membership types included)
    answers the same whether the short path serves it or graphql-core does."""
    variables = {"first": 10}
    with fastpaths.switched([graphql_short_path.NAME], on=True):
        short = api.post(EVERY_MEMBERSHIP_FIELD, variables, key=key)
    assert "errors" not in short and len(short["data"]["courseMemberships"]["edges"]) == 6
    with fastpaths.switched([graphql_short_path.NAME], on=False):
        assert api.post(EVERY_MEMBERSHIP_FIELD, variables, key=key) == short
