"""With DEBUG on (the development default), graphene-django would add its DjangoDebugMiddleware,
which replaces the connection's cursor on the first GraphQL request and never puts it back: every
later query of the process then went through its SQL tracker, and a COPY was counted twice by
the query-count tests that ran after a GraphQL test. Found by running tests/hardening before
tests/commands on PostgreSQL; config/settings.py now sets GRAPHENE["MIDDLEWARE"] = []."""

import pytest
from django.db import connection
from graphene_django.settings import graphene_settings

pytestmark = pytest.mark.django_db


def test_no_graphene_middleware_whatever_debug_says():
    assert list(graphene_settings.MIDDLEWARE) == []


def test_a_graphql_request_leaves_the_connections_cursor_alone(api, make_key, viewer):
    cursor_method = connection.cursor
    body = api.post("{ courseMemberships(first: 1) { total_count } }", key=make_key(viewer))
    assert "errors" not in body
    # graphene-django's debug middleware would have replaced it by its SQL tracker.
    assert connection.cursor == cursor_method
