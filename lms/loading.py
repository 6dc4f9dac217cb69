"""Model instances loaded from the database without running `Model.__init__`.

Django builds every row it reads through `Model.from_db`, which calls `Model.__init__` with one
positional value per column (and a placeholder per deferred one). `__init__` is written for
instances made in code: it walks every field, handles keyword arguments and defaults and sends
the `pre_init` / `post_init` signals, about 10 microseconds an instance. A page of 100
memberships loads some 500 instances (memberships, their courses and learners, next items):
that was 2 ms of the page, and the bulk of the gap between the ORM and `values()`
(docs/benchmarks.md).

`from_db` is the hook Django documents for customising how a row becomes an instance. Here it
sets the loaded columns as attributes and the instance state, which is what `__init__` leaves
behind for a row (a deferred column is simply absent, so reading it loads it, as with `only()`).
The one difference: `pre_init` and `post_init` are not sent for loaded rows. Nothing in this
project listens to them for these models; a model that needs them must not use this mixin.
"""

from collections.abc import Sequence

from django.db.models.base import ModelState


class LoadedWithoutInit:
    """Mixin for models read in large numbers: `from_db` without `Model.__init__`."""

    __slots__ = ()

    @classmethod
    def from_db(cls, db: str | None, field_names: Sequence[str], values: Sequence[object]):
        instance = cls.__new__(cls)
        instance.__dict__.update(zip(field_names, values, strict=True))
        state = ModelState()
        state.adding = False
        state.db = db
        instance._state = state
        return instance
