"""Cutting long sequences into batches: bulk statements and bulk look-ups stay set-based
without growing past SQLite's bound-parameter limit or holding everything at once."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

#: Rows per UPDATE / INSERT / look-up statement.
BATCH_SIZE = 2000


def chunked(items: Iterable[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    """Consecutive lists of at most `size` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
