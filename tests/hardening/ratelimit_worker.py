"""A separate Django process for test_rate_limit_processes: `setup` migrates a fresh database
and prints a new API key; `spend KEY N` sends N queries through the real view (Django's test
client, in this process) and prints their HTTP statuses as JSON. The database and the cache
come from the environment (DATABASE_URL, CACHE_URL, RATE_LIMIT_*)."""

import json
import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from apikeys.models import APIKey
    from lms.models import User

    if sys.argv[1] == "setup":
        call_command("migrate", verbosity=0)
        user = User.objects.create_user(email="ratelimit@example.com", password=None)
        _, raw_key = APIKey.objects.create_key(user=user, name="rate limit test")
        print(raw_key)
        return
    _, raw_key, count = sys.argv[1:]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    statuses = [
        client.post(
            "/graphql/", {"query": "{ __typename }"}, content_type="application/json"
        ).status_code
        for _ in range(int(count))
    ]
    print(json.dumps(statuses))


if __name__ == "__main__":
    main()
