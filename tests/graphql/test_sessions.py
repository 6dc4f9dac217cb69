"""Browser sessions: CSRF stays on for signed-in sessions, bearer keys never borrow a session,
and GraphiQL is for signed-in staff only."""

import json

import pytest
from django.test import Client

from enrollments.models import AccessChange
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

QUERY = json.dumps({"query": "{ courseMemberships(first: 5) { total_count } }"})


def post(client: Client, body: str = QUERY, **extra) -> tuple[int, dict]:
    response = client.post("/graphql/", body, content_type="application/json", **extra)
    return response.status_code, response.json()


@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_a_signed_in_session_without_a_csrf_token_is_refused(csrf_client, viewer):
    csrf_client.force_login(viewer)
    status, body = post(csrf_client)
    assert status == 403
    assert error_codes(body) == ["CSRF_FAILED"]


def test_a_signed_in_session_with_the_csrf_token_is_served(csrf_client, viewer):
    csrf_client.force_login(viewer)
    csrf_client.get("/graphql/", HTTP_ACCEPT="application/json")  # sets the csrftoken cookie
    token = csrf_client.cookies["csrftoken"].value
    status, body = post(csrf_client, HTTP_X_CSRFTOKEN=token)
    assert status == 200
    assert body["data"]["courseMemberships"]["total_count"] == 0


def test_a_forged_cross_site_form_post_changes_nothing(csrf_client, manager, enrollment):
    # The classic attack: a form on another site posts a mutation with the victim's cookie.
    csrf_client.force_login(manager)
    response = csrf_client.post(
        "/graphql/",
        {
            "query": f'mutation {{ pauseCourseMembership(input: {{id: "{enrollment.pk}"}}) '
            "{ courseMembership { id } } }"
        },
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.is_paused is False


def test_anonymous_posts_need_no_csrf_token_and_get_unauthenticated(csrf_client):
    status, body = post(csrf_client)
    assert status == 200
    assert error_codes(body) == ["UNAUTHENTICATED"]


def test_a_bearer_key_needs_no_csrf_token_and_ignores_the_session(
    csrf_client, make_key, viewer, student, enrollment
):
    # Signed in as a student in the browser, but the request carries the viewer's key: it acts
    # as the viewer alone (sees everyone), and no CSRF token is needed.
    csrf_client.force_login(student)
    status, body = post(csrf_client, HTTP_AUTHORIZATION=f"Bearer {make_key(viewer)}")
    assert status == 200
    assert body["data"]["courseMemberships"]["total_count"] == 1


def test_a_bad_key_is_refused_even_with_a_valid_session(csrf_client, viewer):
    csrf_client.force_login(viewer)
    status, body = post(csrf_client, HTTP_AUTHORIZATION="Bearer abcdefgh.not-a-key")
    assert status == 401
    assert error_codes(body) == ["UNAUTHENTICATED"]


def test_a_session_acts_as_its_user(client, viewer, enrollment):
    client.force_login(viewer)
    status, body = post(client)
    assert body["data"]["courseMemberships"]["total_count"] == 1


def test_graphiql_is_served_to_signed_in_staff_only(client, viewer, student):
    def graphiql(c: Client):
        return c.get("/graphql/", HTTP_ACCEPT="text/html")

    anonymous = graphiql(client)
    assert anonymous.status_code == 400
    assert anonymous["Content-Type"] == "application/json"

    client.force_login(student)
    assert graphiql(client)["Content-Type"] == "application/json"

    client.force_login(viewer)
    page = graphiql(client)
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert b"graphiql" in page.content.lower()


def test_mutations_are_refused_over_get(client, manager, enrollment):
    client.force_login(manager)
    response = client.get(
        "/graphql/",
        {
            "query": f'mutation {{ pauseCourseMembership(input: {{id: "{enrollment.pk}"}}) '
            "{ courseMembership { id } } }"
        },
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    enrollment.refresh_from_db()
    assert enrollment.is_paused is False


def test_a_session_mutation_is_audited_with_the_signed_in_user(csrf_client, manager, enrollment):
    csrf_client.force_login(manager)
    csrf_client.get("/graphql/", HTTP_ACCEPT="application/json")
    document = json.dumps(
        {
            "query": f'mutation {{ pauseCourseMembership(input: {{id: "{enrollment.pk}"}}) '
            "{ courseMembership { is_paused } } }"
        }
    )
    status, body = post(
        csrf_client, document, HTTP_X_CSRFTOKEN=csrf_client.cookies["csrftoken"].value
    )
    assert status == 200
    assert body["data"]["pauseCourseMembership"]["courseMembership"] == {"is_paused": True}
    audit = AccessChange.objects.get(enrollment=enrollment)
    assert (audit.actor, audit.source) == (manager, AccessChange.Source.GRAPHQL)
