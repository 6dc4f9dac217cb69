"""Fast path `model_loading`: model instances loaded from the database without running
`Model.__init__`.

Django builds every row it reads through `Model.from_db`, which calls `Model.__init__` with one
positional value per column (and a placeholder per deferred one). `__init__` is written for
instances made in code: it walks every field, handles keyword arguments and defaults and sends
the `pre_init` / `post_init` signals, about 10 microseconds an instance. A page of 100
memberships loaded some 500 instances (memberships, their courses and learners, next items):
that was 2 ms of the page, and the bulk of the gap between the ORM and `values()`
(docs/benchmarks.md). The API's page now reads plain rows (enrollments/graphql/loading.py) on
public API, so this fast path no longer serves it; other reads of many instances remain.

`from_db` is the hook Django documents for customising how a row becomes an instance. Here it
sets the loaded columns as attributes and the instance state, which is what `__init__` leaves
behind for a row (a deferred column is simply absent, so reading it loads it, as with `only()`).
The one difference: `pre_init` and `post_init` are not sent for loaded rows. Nothing in this
project listens to them for these models; a model that needs them must not use this mixin.

The private API: what `__init__` leaves behind is Django's business (`ModelState` from
`django.db.models.base`, not exported; which attributes an instance carries). The check (at
app-ready, no database needed) loads a row of every model using the mixin both ways (this
`from_db` and Django's own) and compares the instances' attributes and states; `from_db`'s
signature must be `(db, field_names, values)`. Off (the setting, or a failed check), `from_db`
is Django's own.
"""

import inspect
from collections.abc import Sequence

from django.apps import apps
from django.db import models
from django.db.models.base import ModelState

from enrollments import fastpaths


class LoadedWithoutInit:
    """Mixin for models read in large numbers: `from_db` without `Model.__init__` while the
    fast path is on, Django's own `from_db` otherwise."""

    __slots__ = ()

    @classmethod
    def from_db(cls, db: str | None, field_names: Sequence[str], values: Sequence[object]):
        if not FAST_PATH.enabled:
            return super().from_db(db, field_names, values)
        return load_without_init(cls, db, field_names, values)


def load_without_init(model, db: str | None, field_names: Sequence[str], values: Sequence[object]):
    """An instance of `model` for a loaded row: its columns and the state `__init__` leaves."""
    instance = model.__new__(model)
    instance.__dict__.update(zip(field_names, values, strict=True))
    state = ModelState()
    state.adding = False
    state.db = db
    instance._state = state
    return instance


def check() -> str | None:
    """None when `from_db` has the expected signature and, for every model with the mixin, an
    instance loaded both ways carries the same attributes and state; else what differs."""
    parameters = list(inspect.signature(models.Model.from_db).parameters)
    if parameters != ["db", "field_names", "values"]:
        return f"Model.from_db takes {parameters}, expected ['db', 'field_names', 'values']"
    for model in apps.get_models():
        if not issubclass(model, LoadedWithoutInit):
            continue
        fields = model._meta.concrete_fields
        names = [field.attname for field in fields]
        # One distinct object per column: __init__ stores what it is given, unconverted.
        values = [object() for _field in fields]
        ours = load_without_init(model, "default", names, values)
        theirs = models.Model.from_db.__func__(model, "default", names, values)
        ours_state = vars(ours.__dict__.pop("_state"))
        theirs_state = vars(theirs.__dict__.pop("_state"))
        # The related-object cache is made on first use (ModelState's descriptor): empty, it
        # is the same state as absent.
        if theirs_state.get("fields_cache") == {}:
            del theirs_state["fields_cache"]
        if vars(ours) != vars(theirs):
            differing = sorted(set(vars(theirs)) ^ set(vars(ours))) or "values"
            return f"{model.__name__} loaded by Django differs (attributes: {differing})"
        if ours_state.keys() != theirs_state.keys() or any(
            ours_state[name] != theirs_state[name] for name in ("adding", "db")
        ):
            return f"Django's ModelState carries {sorted(theirs_state)}, not {sorted(ours_state)}"
    return None


FAST_PATH = fastpaths.register(
    "model_loading",
    summary="rows loaded without Model.__init__ (Django's ModelState)",
    check=check,
)
