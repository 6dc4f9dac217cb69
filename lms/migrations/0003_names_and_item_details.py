"""Users get a first and a last name (the APIs' clients read `first_name`, `last_name`,
`full_name`); the old single `name` is split into them at its first space, so no name is lost
(both fields hold as much as `name` did). Course items get a description and their creation and
update times (existing items are dated by this migration)."""

import django.utils.timezone
from django.db import migrations, models


def split_names(apps, schema_editor):
    User = apps.get_model("lms", "User")
    for user in User.objects.exclude(name="").only("pk", "name").iterator(chunk_size=2000):
        first, _, last = user.name.strip().partition(" ")
        User.objects.filter(pk=user.pk).update(first_name=first, last_name=last.strip())


def join_names(apps, schema_editor):
    User = apps.get_model("lms", "User")
    for user in User.objects.only("pk", "first_name", "last_name").iterator(chunk_size=2000):
        name = " ".join(part for part in (user.first_name, user.last_name) if part)
        User.objects.filter(pk=user.pk).update(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0002_courseitem_position_int32"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="first_name",
            field=models.CharField(blank=True, max_length=255, verbose_name="first name"),
        ),
        migrations.AddField(
            model_name="user",
            name="last_name",
            field=models.CharField(blank=True, max_length=255, verbose_name="last name"),
        ),
        migrations.RunPython(split_names, join_names, elidable=True),
        migrations.RemoveField(
            model_name="user",
            name="name",
        ),
        migrations.AddField(
            model_name="courseitem",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AddField(
            model_name="courseitem",
            name="description",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="courseitem",
            name="updated_at",
            field=models.DateTimeField(auto_now=True),
        ),
    ]
