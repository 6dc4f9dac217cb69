"""The benchmark's peers (bench.peers) serve the same page as the API: same rows in the same
order, the same progress and next items, and a deep page by their offset cursor."""

import json

import pytest

from apikeys.models import APIKey
from bench import peers
from bench.documents import MEMBERSHIP_PAGE
from tests.factories import CourseFactory, StaffFactory
from tests.graphql.conftest import grant
from tests.graphql.data import memberships

pytestmark = pytest.mark.django_db

PEERS = sorted(peers.available())


@pytest.fixture(autouse=True)
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"


@pytest.fixture
def rows():
    return memberships(12, items=5, completed=2) + memberships(
        6, course=CourseFactory(), items=3, completed=3
    )


@pytest.fixture
def key():
    viewer = StaffFactory()
    grant(viewer, "view")
    return APIKey.objects.create_key(user=viewer)[1]


def ours(client, key, after=None):
    response = client.post(
        "/graphql/",
        json.dumps({"query": MEMBERSHIP_PAGE, "variables": {"first": 10, "after": after}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    return [edge["node"] for edge in response.json()["data"]["courseMemberships"]["edges"]]


def theirs(client, name, *, offset=None):
    module = peers.available()[name]
    response = client.post(
        module.PATH,
        json.dumps(
            {"query": module.DOCUMENT, "variables": module.variables(offset=offset, first=10)}
        ),
        content_type="application/json",
    )
    payload = response.json()
    assert response.status_code == 200 and not payload.get("errors"), payload
    return module, module.rows(payload)


def test_graphene_is_always_there():
    assert "graphene" in PEERS


@pytest.mark.parametrize("name", PEERS)
def test_a_peer_serves_the_same_page(client, key, rows, name):
    expected = ours(client, key)
    module, got = theirs(client, name)
    assert [module.row_id(node) for node in got] == [node["id"] for node in expected]
    for mine, peer in zip(expected, got, strict=True):
        assert peer["courseStatus"] == mine["course_status"]
        assert peer["course"]["slug"] == mine["course"]["slug"]
        assert peer["user"]["email"] == mine["user"]["email"]
        for key in ("next_incomplete_item", "next_next_incomplete_item"):
            camel = (
                "nextIncompleteItem" if key == "next_incomplete_item" else "nextNextIncompleteItem"
            )
            assert (peer[camel] or {}).get("position") == (mine[key] or {}).get("position")


@pytest.mark.parametrize("name", PEERS)
def test_a_peer_deep_page_starts_after_its_offset(client, key, rows, name):
    first_page = ours(client, key)
    expected = ours(client, key, after=first_page[4]["cursor"])
    module, got = theirs(client, name, offset=4)
    assert [module.row_id(node) for node in got] == [node["id"] for node in expected]
