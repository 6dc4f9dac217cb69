"""Peer 2: strawberry-graphql-django's relay connection with its query optimizer.

`strawberry_django.type` per model, a `relay.Node` membership type, a DjangoListConnection
field whose resolver returns the annotated queryset, and the DjangoOptimizerExtension, which
adds select_related and only() from the query's selection. Its connection pages with OFFSET
cursors too. Needs the `bench` extra (strawberry-graphql-django).
"""

from collections.abc import Iterable

import strawberry
import strawberry_django
from django.views.decorators.csrf import csrf_exempt
from strawberry import relay
from strawberry.django.views import GraphQLView
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.relay import DjangoListConnection

from bench.peers.common import PEER_DOCUMENT, annotated, bounded, next_items, offset_cursor
from enrollments.models import Enrollment
from lms.models import Course, CourseItem, User

PATH = "/bench/peers/strawberry/"

DOCUMENT = PEER_DOCUMENT


@strawberry_django.type(Course)
class PeerCourse:
    id: strawberry.auto
    slug: strawberry.auto
    title: strawberry.auto
    access_days: strawberry.auto
    pause_freezes_access: strawberry.auto


@strawberry_django.type(User)
class PeerUser:
    id: strawberry.auto
    email: strawberry.auto

    @strawberry_django.field(only=["first_name", "last_name", "email"])
    def name(self) -> str:
        return self.name  # lms.User.name: the full name, else the e-mail


@strawberry.type
class PeerItem:
    id: strawberry.ID
    course_id: strawberry.ID
    title: str
    kind: str
    position: int

    @classmethod
    def of(cls, item: CourseItem | None) -> "PeerItem | None":
        if item is None:
            return None
        return cls(
            id=strawberry.ID(str(item.pk)),
            course_id=strawberry.ID(str(item.course_id)),
            title=item.title,
            kind=item.kind,
            position=item.position,
        )


@strawberry_django.type(Enrollment)
class PeerMembership(relay.Node):
    course_status: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto
    start_at: strawberry.auto
    paused_at: strawberry.auto
    is_paused: strawberry.auto
    total_paused_duration: strawberry.auto
    course: PeerCourse
    user: PeerUser

    @strawberry_django.field(only=["course_id"])
    def course_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.course_id))

    @strawberry_django.field(only=["user_id"])
    def user_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.user_id))

    @strawberry_django.field
    def next_incomplete_item(self) -> PeerItem | None:
        return PeerItem.of(next_items(self)[0])

    @strawberry_django.field
    def next_next_incomplete_item(self) -> PeerItem | None:
        return PeerItem.of(next_items(self)[1])


@strawberry.type
class Query:
    @strawberry_django.connection(DjangoListConnection[PeerMembership])
    def memberships(self) -> Iterable[Enrollment]:
        return annotated(Enrollment.objects.all())


schema = strawberry.Schema(query=Query, extensions=[DjangoOptimizerExtension])
view = bounded(csrf_exempt(GraphQLView.as_view(schema=schema)))


def variables(*, offset: int | None, first: int) -> dict:
    return {"first": first, "after": None if offset is None else offset_cursor(offset)}


def rows(payload: dict) -> list[dict]:
    return [edge["node"] for edge in payload["data"]["memberships"]["edges"]]


def row_id(node: dict) -> str:
    """The enrollment id inside the peer's global relay id."""
    return relay.GlobalID.from_id(node["id"]).node_id
