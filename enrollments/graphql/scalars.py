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
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+01:00 is in year 0 in UTC, 9999-12-31T23:59:59-01:00 in year
        # 10000: the client's bad value, not the server's failure.
        raise ValueError(f"the date and time is out of range in UTC: {value!r}") from None


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
