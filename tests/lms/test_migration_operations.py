"""lms/migration_operations.py: AlterFields is Django's AlterField, many at once."""

import importlib

import pytest
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ModelState, ProjectState

from lms.migration_operations import AlterFields, alter_fields_at_once, changes_database

#: The migrations that name every field, with their AlterField count.
NAMING_MIGRATIONS = [
    ("enrollments", "0020_verbose_names", 123),
    ("lms", "0010_verbose_names", 36),
    ("apikeys", "0003_verbose_names", 16),
]


def one_by_one(operations):
    for operation in operations:
        if isinstance(operation, AlterFields):
            yield from operation.operations
        else:
            yield operation


@pytest.mark.parametrize(("app_label", "name", "fields"), NAMING_MIGRATIONS)
def test_a_naming_migration_leaves_the_state_django_s_alter_field_leaves(app_label, name, fields):
    migration = importlib.import_module(f"{app_label}.migrations.{name}").Migration
    wrapped = [op for op in migration.operations if isinstance(op, AlterFields)]
    assert [len(op.operations) for op in wrapped] == [fields]

    before = MigrationLoader(None, ignore_no_migrations=True).project_state(
        (app_label, name), at_end=False
    )
    at_once, django_s = before.clone(), before.clone()
    # Rendered, as the migration executor has them (Django's one by one need not be: rendering
    # changes no model state, only what re-rendering after each field costs).
    at_once.apps  # noqa: B018
    for operation in migration.operations:
        operation.state_forwards(app_label, at_once)
        if isinstance(operation, AlterFields):
            # Not rendered again field by field: rendered once, when next read (below).
            assert "apps" not in at_once.__dict__
    for operation in one_by_one(migration.operations):
        operation.state_forwards(app_label, django_s)

    assert at_once.models == django_s.models
    # The models rendered after the changes carry them.
    for alter in wrapped[0].operations:
        model = at_once.apps.get_model(app_label, alter.model_name)
        assert model._meta.get_field(alter.name).verbose_name == alter.field.verbose_name


def toy_state(*fields: tuple[str, models.Field]) -> ProjectState:
    state = ProjectState()
    state.add_model(
        ModelState("toys", "Thing", [("id", models.AutoField(primary_key=True)), *fields])
    )
    return state


class RecordingEditor:
    """A schema editor that records what it is asked to alter."""

    class connection:  # noqa: N801 - read as schema_editor.connection.alias
        alias = "default"

    def __init__(self) -> None:
        self.altered: list[tuple[str, int, int]] = []

    def alter_field(self, model, old_field, new_field, strict=False) -> None:
        self.altered.append((new_field.name, old_field.max_length, new_field.max_length))


def test_each_field_s_database_change_is_made_forwards_and_backwards(settings):
    """Every field is handed to the schema editor, the one that changes the database (a
    length) as the one that does not (a name, which Django's editors then skip)."""
    settings.DATABASE_ROUTERS = []
    before = toy_state(
        ("name", models.CharField(max_length=10)), ("code", models.CharField(max_length=3))
    )
    operation = AlterFields(
        [
            migrations.AlterField("thing", "name", models.CharField(max_length=20)),
            migrations.AlterField(
                "thing", "code", models.CharField(max_length=3, verbose_name="code")
            ),
        ]
    )
    after = before.clone()
    operation.state_forwards("toys", after)
    assert after.models["toys", "thing"].fields["name"].max_length == 20
    assert after.models["toys", "thing"].fields["code"].verbose_name == "code"

    forwards = RecordingEditor()
    operation.database_forwards("toys", forwards, before, after)
    assert forwards.altered == [("name", 10, 20), ("code", 3, 3)]
    backwards = RecordingEditor()
    operation.database_backwards("toys", backwards, after, before)
    assert backwards.altered == [("code", 3, 3), ("name", 20, 10)]


def test_a_second_field_that_changes_the_database_is_refused():
    """Each change is made against the group's first and last states: on SQLite the second
    column's rebuild of the table would undo the first's. Names and help texts do not count."""
    operation = AlterFields(
        [
            migrations.AlterField("thing", "name", models.CharField(max_length=20)),
            migrations.AlterField("thing", "label", models.CharField(max_length=5, help_text="h")),
            migrations.AlterField("thing", "code", models.CharField(max_length=3, null=True)),
        ]
    )
    state = toy_state(
        ("name", models.CharField(max_length=10)),
        ("label", models.CharField(max_length=5)),
        ("code", models.CharField(max_length=3)),
    )
    with pytest.raises(
        ValueError, match=r"2 of its fields change the database \(thing.name, thing.code\)"
    ):
        operation.state_forwards("toys", state)


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        (models.CharField(max_length=3), models.CharField(max_length=3, verbose_name="v"), False),
        (
            models.CharField(max_length=3),
            models.CharField(max_length=3, choices=[("a", "A")]),
            False,
        ),
        (models.CharField(max_length=3), models.CharField(max_length=4), True),
        (models.CharField(max_length=3), models.CharField(max_length=3, null=True), True),
        (models.CharField(max_length=3), models.TextField(), True),
    ],
)
def test_what_counts_as_a_change_of_the_database(old, new, changes):
    assert changes_database(old, new) is changes


def test_runs_of_alter_field_are_wrapped_in_order():
    first = migrations.AlterField("thing", "a", models.IntegerField())
    second = migrations.AlterField("thing", "b", models.IntegerField())
    options = migrations.AlterModelOptions("thing", {"ordering": ["a"]})
    third = migrations.AlterField("thing", "c", models.IntegerField())

    result = alter_fields_at_once([options, first, second, options, third])

    assert [type(op) for op in result] == [
        migrations.AlterModelOptions,
        AlterFields,
        migrations.AlterModelOptions,
        AlterFields,
    ]
    assert result[1].operations == [first, second]
    assert result[3].operations == [third]


def test_only_alter_field_operations_can_be_wrapped():
    with pytest.raises(TypeError, match="AlterField operations only"):
        AlterFields([migrations.AlterModelOptions("thing", {})])
