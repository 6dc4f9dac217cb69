"""`create_api_key <email> [--name NAME]` prints the key alone on its last line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apikeys.auth import authenticate_key
from apikeys.models import APIKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().splitlines()


def test_prints_a_working_key_on_the_last_line():
    user = UserFactory(email="Robot@Example.com")
    lines = run("robot@example.com", "--name", "nightly sync")
    raw_key = lines[-1]
    assert raw_key.strip() == raw_key and " " not in raw_key
    api_key = authenticate_key(raw_key)
    assert api_key.user == user
    assert api_key.name == "nightly sync"
    assert api_key.expires_at is None
    assert "not shown again" in lines[0]
    assert raw_key not in lines[0]


def test_expiry_in_days():
    user = UserFactory()
    run(user.email, "--expires-in-days", "30")
    api_key = APIKey.objects.get(user=user)
    assert (api_key.expires_at - api_key.created_at).days in (29, 30)


@pytest.mark.parametrize("days", ["0", "3651", "-1", "1000000000", "-1000000000"])
def test_bad_expiry_is_refused(days):
    user = UserFactory()
    with pytest.raises(CommandError, match="between 1 and 3650") as refused:
        run(user.email, "--expires-in-days", days)
    assert refused.value.returncode == 2  # a usage error, as the other commands' are
    assert not APIKey.objects.exists()


def test_unknown_or_inactive_user_is_an_error():
    with pytest.raises(CommandError, match="No user with e-mail") as refused:
        run("nobody@example.com")
    assert refused.value.returncode == 2
    inactive = UserFactory(is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        run(inactive.email)
    assert not APIKey.objects.exists()


def test_a_name_longer_than_its_column_is_a_usage_error():
    """PostgreSQL refused the INSERT (DataError: a traceback); SQLite stored it."""
    user = UserFactory()
    with pytest.raises(
        CommandError, match="--name: A key's name is at most 100 characters"
    ) as raised:
        run(user.email, "--name", "n" * 101)
    assert raised.value.returncode == 2
    assert not APIKey.objects.exists()
    run(user.email, "--name", "n" * 100)
    assert APIKey.objects.get().name == "n" * 100
