"""The response-size limit fails closed when graphql-core's steps it relies on change
(enrollments/graphql/response_limit_check.py): the endpoint's view is not made, and
`manage.py check --deploy` reports enrollments.E103."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from graphql import ExecutionContext, GraphQLError

from config.urls import api_view
from enrollments.graphql import response_limit_check
from enrollments.graphql.execution import BoundedExecutionContext
from enrollments.graphql.response_limit_check import (
    STEPS,
    TOY_VALUES,
    check_response_limit,
    mismatch,
    require,
)
from tests.execution_steps import reshaped_step, reversing_lists
from tests.subprocesses import SECRET_KEY, manage_environment, run_python

#: gunicorn as the Procfile runs it (no preload: each worker imports config.wsgi), in a process
#: whose graphql-core has a step of 3.3's shape (changed before the workers are forked).
GUNICORN_ON_A_CHANGED_GRAPHQL_CORE = """
import sys
from graphql import ExecutionContext
from tests.execution_steps import reshaped_step
ExecutionContext.complete_list_value = reshaped_step
from gunicorn.app.wsgiapp import run
sys.argv = ["gunicorn", "config.wsgi", "--bind", "127.0.0.1:0", "--workers", "1"]
run()
"""


@pytest.fixture
def fresh_view(monkeypatch):
    """api_view made anew in the test (it is made once per process), and made again after it
    with graphql-core as it was, so that no later test makes it (and runs its check) halfway."""
    api_view.cache_clear()
    yield
    monkeypatch.undo()
    api_view.cache_clear()
    api_view()


def test_the_limit_holds_on_the_installed_graphql_core():
    assert mismatch() is None
    require()
    assert check_response_limit() == []


def test_the_toy_answer_fits_the_limit_exactly_and_is_refused_one_value_past_it():
    """The check's two bounds are the edge: the answer holds exactly TOY_VALUES values."""
    fitting = response_limit_check.toy_answer(TOY_VALUES)
    past = response_limit_check.toy_answer(TOY_VALUES - 1)
    assert fitting.errors is None
    assert fitting.data == {"boxes": response_limit_check.TOY_BOXES}
    assert past.data is None
    assert [error.extensions["code"] for error in past.errors] == ["QUERY_TOO_COSTLY"]


@pytest.mark.parametrize("step", list(STEPS))
def test_a_changed_step_is_a_mismatch_that_stops_the_endpoint_and_the_deploy_check(
    monkeypatch, fresh_view, step
):
    monkeypatch.setattr(ExecutionContext, step, reshaped_step)
    expected = (
        f"graphql-core's ExecutionContext.{step} takes ['self', 'args', "
        f"'incremental_data_record'], expected {STEPS[step]}"
    )
    assert mismatch() == expected
    with pytest.raises(ImproperlyConfigured, match="response-size limit cannot hold") as refused:
        api_view()
    assert expected in str(refused.value)
    assert "graphql-core>=3.2.6,<3.3.0" in str(refused.value)
    assert [error.id for error in check_response_limit()] == ["enrollments.E103"]
    with pytest.raises(SystemCheckError, match="enrollments.E103"):
        call_command("check", "--deploy", "--fail-level", "ERROR")


def test_a_missing_step_is_a_mismatch(monkeypatch):
    monkeypatch.delattr(ExecutionContext, "collect_subfields")
    assert mismatch() == "graphql-core's ExecutionContext has no collect_subfields"


def test_an_override_completing_otherwise_than_graphql_core_is_a_mismatch(monkeypatch):
    """The toy answer that fits the limit must be graphql-core's own: here the override's call
    of graphql-core's step no longer gives its answer back as it is."""
    monkeypatch.setattr(
        BoundedExecutionContext,
        "complete_list_value",
        reversing_lists(BoundedExecutionContext),
    )
    found = mismatch()
    assert found is not None and found.startswith("a toy document that fits the limit answers")


def test_graphql_core_catching_the_refusal_is_a_mismatch(monkeypatch):
    """Same parameters, another behaviour: a graphql-core whose execution reports whatever its
    fields raise, BaseExceptions included, never lets the refusal reach the override."""
    original = ExecutionContext.execute_operation

    def catching_everything(self, operation, root_value):
        try:
            return original(self, operation, root_value)
        except BaseException as error:  # noqa: BLE001 - what the test makes graphql-core do
            self.collected_errors.add(GraphQLError(f"caught {type(error).__name__}"), None)
            return None

    monkeypatch.setattr(ExecutionContext, "execute_operation", catching_everything)
    found = mismatch()
    assert found is not None
    assert found.startswith("a toy document one value past the limit answers")
    assert "caught ResponseTooLarge" in found


def test_lists_no_longer_counted_is_a_mismatch(monkeypatch):
    """Subfields collected otherwise (none): the boxes count one value each instead of two, so
    the answer one value past the limit is no longer refused."""

    def no_subfields(self, return_type, field_nodes):
        return {}

    monkeypatch.setattr(ExecutionContext, "collect_subfields", no_subfields)
    found = mismatch()
    assert found is not None
    assert found.startswith("a toy document one value past the limit answers")


def test_a_toy_that_raises_is_a_mismatch(monkeypatch):
    def broken(self, operation, root_value):
        raise TypeError("a new argument")

    monkeypatch.setattr(ExecutionContext, "execute_operation", broken)
    assert mismatch() == "a toy document raised TypeError: a new argument"


def test_requests_are_served_again_once_graphql_core_is_back(monkeypatch, fresh_view, client):
    monkeypatch.setattr(ExecutionContext, "complete_list_value", reshaped_step)
    with pytest.raises(ImproperlyConfigured):
        api_view()
    monkeypatch.undo()
    response = client.post(
        "/graphql/", {"query": "{ __typename }"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_gunicorn_does_not_start_on_a_changed_graphql_core(tmp_path):
    """The production server, DEBUG off: its worker fails to boot on the check, and gunicorn
    exits rather than serving (gunicorn's "worker failed to boot", exit status 3)."""
    env = manage_environment(
        {"SECRET_KEY": SECRET_KEY, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    )
    server = run_python("-c", GUNICORN_ON_A_CHANGED_GRAPHQL_CORE, env=env, timeout=60)
    assert server.returncode == 3, server.stderr
    assert "The GraphQL response-size limit cannot hold" in server.stderr
    assert "ExecutionContext.complete_list_value takes ['self', 'args'" in server.stderr
    assert "Worker failed to boot" in server.stderr
