"""A migration operation of our own: many of Django's `AlterField` applied as one.

Why: Django renders the project's models again after every `AlterField` (the changed model, and
with a relation every model related to it). The migrations that gave every field its translated
name (enrollments 0020, lms 0010, apikeys 0003: 175 fields) re-rendered the enrollment models
175 times: in-process, a `migrate` of a new SQLite database took 6.8 s, 3.2 s of them in
enrollments 0020 alone; with these operations 3.5 s, 0.2 s in 0020 (docs/benchmarks.md, "The
ninth session's machine"). Every test database, the demo's, the documentation tests' and each
deployment's first `migrate` pay it.

`AlterFields` applies each field's change exactly as Django's `AlterField` does (its own
`state_forwards`, `database_forwards` and `database_backwards`, in order), but renders the
models once, when the next operation reads them, instead of once per field: it drops the
rendered models (ProjectState's `apps`, a `cached_property`, deleted the documented way) before
the changes. The database work is the fields' own: none for a name or help text (Django's schema
editor skips such changes), the real ALTER for anything else. At most one field of a group may
change the database: each field's change is made between the states before and after the whole
group, and on SQLite altering a column rebuilds the table from the state before the group, which
would undo a change made to another of its columns just before. A second one raises ValueError
when the migration's states are computed (`migrate`, `makemigrations --check`): it is written as
an AlterField of its own. Writing a migration: `operations = [..., *alter_fields_at_once([...])]`,
or `AlterFields([...])` around the `AlterField`s of one migration.
"""

from collections.abc import Iterable

from django.db import migrations
from django.db.migrations.operations.base import Operation
from django.db.models import Field


class AlterFields(Operation):
    """Several `migrations.AlterField`, with the models rendered once after all of them."""

    reversible = True

    def __init__(self, operations: list[migrations.AlterField]) -> None:
        if not all(isinstance(op, migrations.AlterField) for op in operations):
            raise TypeError("AlterFields holds AlterField operations only")
        self.operations = list(operations)

    def deconstruct(self):
        return self.__class__.__qualname__, [self.operations], {}

    def state_forwards(self, app_label, state) -> None:
        # Rendered models are rebuilt from the model states when next read; while they are not
        # there, AlterField changes the states alone (ProjectState.reload_model renders nothing).
        if "apps" in state.__dict__:
            del state.apps
        changing = []
        for operation in self.operations:
            before = state.models[app_label, operation.model_name_lower].fields[operation.name]
            if changes_database(before, operation.field):
                changing.append(f"{operation.model_name}.{operation.name}")
            operation.state_forwards(app_label, state)
        if len(changing) > 1:
            raise ValueError(
                f"AlterFields: {len(changing)} of its fields change the database "
                f"({', '.join(changing)}); at most one may (lms/migration_operations.py): write "
                "the others as AlterFields of their own"
            )

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for operation in self.operations:
            operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for operation in reversed(self.operations):
            operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Alter {len(self.operations)} fields at once"

    @property
    def migration_name_fragment(self) -> str:
        return "alter_fields"

    def references_model(self, name, app_label) -> bool:
        return any(op.references_model(name, app_label) for op in self.operations)

    def references_field(self, model_name, name, app_label) -> bool:
        return any(op.references_field(model_name, name, app_label) for op in self.operations)


def changes_database(old: Field, new: Field) -> bool:
    """Whether altering `old` into `new` can change the database: a difference in anything but
    the attributes Django's schema editors leave the database alone for (`Field.non_db_attrs`:
    names, help texts, choices, validators...). `non_db_attrs` has no underscore but no page of
    Django's documentation either: should it go, this raises AttributeError at `migrate`, loudly,
    rather than let a second schema change through."""

    def kept(field: Field) -> tuple:
        _name, path, args, kwargs = field.deconstruct()
        return path, args, {k: v for k, v in kwargs.items() if k not in field.non_db_attrs}

    return kept(old) != kept(new)


def alter_fields_at_once(operations: Iterable[Operation]) -> list[Operation]:
    """`operations` with each run of consecutive AlterField wrapped in one AlterFields."""
    result: list[Operation] = []
    run: list[migrations.AlterField] = []
    for operation in operations:
        if isinstance(operation, migrations.AlterField):
            run.append(operation)
            continue
        if run:
            result.append(AlterFields(run))
            run = []
        result.append(operation)
    if run:
        result.append(AlterFields(run))
    return result
