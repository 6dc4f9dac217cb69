"""The contract's custom scalars: `ISO8601DateTime` and `Cursor`."""

from datetime import UTC, datetime

import graphene
from graphql import StringValueNode, Undefined


def _parse_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date and time: {value!r}") from None
    else:
        raise ValueError("an ISO 8601 date and time string is expected")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"the date and time has no UTC offset: {value!r}")
    return parsed.astimezone(UTC)


class ISO8601DateTime(graphene.Scalar):
    """An ISO 8601 date and time with its UTC offset, e.g. 2026-01-01T00:00:00+00:00. Output is
    always in UTC; input without an offset is refused."""

    @staticmethod
    def serialize(value: datetime) -> str:
        if value.tzinfo is None:
            raise ValueError("naive datetime")  # never stored: USE_TZ is on
        return value.astimezone(UTC).isoformat()

    @staticmethod
    def parse_value(value: object) -> datetime:
        return _parse_datetime(value)

    @staticmethod
    def parse_literal(node, _variables=None):
        if isinstance(node, StringValueNode):
            try:
                return _parse_datetime(node.value)
            except ValueError:
                return Undefined
        return Undefined


class Cursor(graphene.Scalar):
    """An opaque pagination cursor. Pass a cursor back as `after` (or `before`) to continue from
    that row; do not build or parse one."""

    @staticmethod
    def serialize(value: str) -> str:
        return str(value)

    @staticmethod
    def parse_value(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError("a cursor is a string")
        return value

    @staticmethod
    def parse_literal(node, _variables=None):
        if isinstance(node, StringValueNode):
            return node.value
        return Undefined
