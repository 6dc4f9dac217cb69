"""lms 0003 splits the old single `name` into first and last name at its first space, and the
reverse joins them again: no name is lost either way."""

import pytest

from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("lms", "0002_courseitem_position_int32")]
AFTER = [("lms", "0003_names_and_item_details")]


def test_names_are_split_and_joined_back():
    old_apps = migrate(BEFORE)
    OldUser = old_apps.get_model("lms", "User")
    names = {
        "ada@example.com": "Ada Lovelace",
        "grace@example.com": "Grace Brewster Hopper",
        "plato@example.com": "Plato",
        "nobody@example.com": "",
        "spaces@example.com": "  Edsger   Dijkstra ",
    }
    for email, name in names.items():
        OldUser.objects.create(email=email, name=name, password="!")
    try:
        new_apps = migrate(AFTER)
        User = new_apps.get_model("lms", "User")
        split = {u.email: (u.first_name, u.last_name) for u in User.objects.all()}
        assert split == {
            "ada@example.com": ("Ada", "Lovelace"),
            "grace@example.com": ("Grace", "Brewster Hopper"),
            "plato@example.com": ("Plato", ""),
            "nobody@example.com": ("", ""),
            "spaces@example.com": ("Edsger", "Dijkstra"),
        }
        back_apps = migrate(BEFORE)
        joined = {u.email: u.name for u in back_apps.get_model("lms", "User").objects.all()}
        assert joined["grace@example.com"] == "Grace Brewster Hopper"
        assert joined["plato@example.com"] == "Plato"
        assert joined["nobody@example.com"] == ""
    finally:
        migrate_to_latest()
