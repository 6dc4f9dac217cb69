"""Peer 1: graphene-django's DjangoFilterConnectionField, as its documentation teaches it.

A DjangoObjectType per model with `relay.Node`, `filter_fields` for the connection's filters, and
the type's `get_queryset` tuned with select_related (course, user) and the progress annotations,
so a page costs a constant number of queries. graphene's connection counts the rows and pages
with OFFSET.
"""

import graphene
from django.views.decorators.csrf import csrf_exempt
from graphene import relay
from graphene_django import DjangoObjectType
from graphene_django.filter import DjangoFilterConnectionField
from graphene_django.views import GraphQLView
from graphql_relay import from_global_id

from bench.peers.common import PEER_DOCUMENT, annotated, bounded, next_items, offset_cursor
from enrollments.models import Enrollment
from lms.models import Course, CourseItem, User

PATH = "/bench/peers/graphene/"

#: Both peers use graphql-core's default camelCase names for the same fields as ours.
DOCUMENT = PEER_DOCUMENT


class PeerCourse(DjangoObjectType):
    class Meta:
        model = Course
        fields = ("id", "slug", "title", "access_days", "pause_freezes_access")


class PeerUser(DjangoObjectType):
    name = graphene.String(required=True)  # lms.User.name: the full name, else the e-mail

    class Meta:
        model = User
        fields = ("id", "email", "first_name", "last_name")

    @staticmethod
    def resolve_name(root, info):
        return root.name


class PeerItem(DjangoObjectType):
    course_id = graphene.ID(required=True)

    class Meta:
        model = CourseItem
        fields = ("id", "title", "kind", "position")
        convert_choices_to_enum = False


class PeerMembership(DjangoObjectType):
    course_id = graphene.ID(required=True)
    user_id = graphene.ID(required=True)
    next_incomplete_item = graphene.Field(PeerItem)
    next_next_incomplete_item = graphene.Field(PeerItem)

    class Meta:
        model = Enrollment
        interfaces = (relay.Node,)
        fields = (
            "id",
            "course",
            "user",
            "course_status",
            "created_at",
            "updated_at",
            "start_at",
            "paused_at",
            "is_paused",
            "total_paused_duration",
        )
        filter_fields = {
            "course_id": ["exact"],
            "user_id": ["exact"],
            "course_status": ["exact"],
            "is_paused": ["exact"],
        }
        convert_choices_to_enum = False

    @classmethod
    def get_queryset(cls, queryset, info):
        return annotated(queryset)

    @staticmethod
    def resolve_next_incomplete_item(root, info):
        return next_items(root)[0]

    @staticmethod
    def resolve_next_next_incomplete_item(root, info):
        return next_items(root)[1]


class Query(graphene.ObjectType):
    memberships = DjangoFilterConnectionField(PeerMembership)


schema = graphene.Schema(query=Query)
view = bounded(csrf_exempt(GraphQLView.as_view(schema=schema, graphiql=False)))


def variables(*, offset: int | None, first: int) -> dict:
    return {"first": first, "after": None if offset is None else offset_cursor(offset)}


def rows(payload: dict) -> list[dict]:
    return [edge["node"] for edge in payload["data"]["memberships"]["edges"]]


def row_id(node: dict) -> str:
    """The enrollment id inside the peer's global relay id."""
    return from_global_id(node["id"]).id
