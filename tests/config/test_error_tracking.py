"""Error tracking is one setting away (issue 21, item 8): SENTRY_DSN turns on sentry-sdk with
its Django integration, without personal data; unset, nothing is initialised.

Each case runs in its own Python process (settings are read once per process, and sentry-sdk's
Django integration patches Django for good), with a stub transport in place of sentry's HTTP
one: nothing leaves the machine. The DSN names 127.0.0.1's discard port, so even a transport
left in place would reach nothing.
"""

import json
import os
from pathlib import Path

from tests.subprocesses import run_python

ROOT = Path(__file__).resolve().parents[2]
DSN = "http://public@127.0.0.1:9/1"

#: Runs in the child: Django set up from config.settings; then prints one JSON line.
PROBE_INACTIVE = """
import sys, django
django.setup()
imported = "sentry_sdk" in sys.modules
import json, sentry_sdk
print(json.dumps({"imported": imported, "active": sentry_sdk.get_client().is_active()}))
"""

PROBE_ACTIVE = """
import json, django
django.setup()
import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.transport import Transport


class StubTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


client = sentry_sdk.get_client()
client.transport = StubTransport(client.options)

from django.core.management import call_command
call_command("migrate", verbosity=0)
from apikeys.models import APIKey
from lms.models import User
user = User.objects.create_user("ops@example.com", "a-password-123456", is_staff=True)
_key, raw_key = APIKey.objects.create_key(user=user, name="probe")

import io
from wsgiref.util import setup_testing_defaults
from django.core.wsgi import get_wsgi_application
import enrollments.graphql.execution as execution
def broken(*args, **kwargs):
    raise RuntimeError("a bug in execution")
execution.execute = broken
# Through the WSGI application, as gunicorn calls it (sentry's integration wraps that entry).
body = json.dumps({"query": "{ __typename }", "variables": {"email": "x@example.com"}}).encode()
environ = {
    "REQUEST_METHOD": "POST", "PATH_INFO": "/graphql/", "SERVER_NAME": "127.0.0.1",
    "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
    "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "198.51.100.8",
    "HTTP_X_TEACHIFY_API_KEY": raw_key, "HTTP_COOKIE": "sessionid=a-session-cookie",
    "HTTP_X_FORWARDED_FOR": "198.51.100.7",
}
setup_testing_defaults(environ)
started = {}
chunks = get_wsgi_application()(environ, lambda status, headers: started.update(status=status))
answer = json.loads(b"".join(chunks))
sentry_sdk.flush()
events = [
    item.payload.json
    for envelope in client.transport.envelopes
    for item in envelope.items
    if item.type == "event"
]
print(json.dumps({
    "active": client.is_active(),
    "django": client.get_integration(DjangoIntegration) is not None,
    "options": {
        name: client.options[name]
        for name in (
            "send_default_pii", "max_request_body_size", "include_local_variables", "environment"
        )
    },
    "status": int(started["status"].split()[0]),
    "error_id": answer["errors"][0]["extensions"]["error_id"],
    "raw_key": raw_key,
    "events": events,
}, default=str))
"""


def run_probe(code: str, **env: str) -> dict:
    dropped = {"SENTRY_DSN", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ENV_FILE": os.devnull,
            "DEBUG": "true",
            "DATABASE_URL": "sqlite://:memory:",
            "CACHE_URL": "locmemcache://",
            **env,
        }
    )
    result = run_python("-c", code, env=environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_without_a_dsn_nothing_is_initialised():
    assert run_probe(PROBE_INACTIVE) == {"imported": False, "active": False}


def test_a_dsn_initialises_sentry_with_the_django_integration_and_no_personal_data():
    probe = run_probe(PROBE_ACTIVE, SENTRY_DSN=DSN, SENTRY_ENVIRONMENT="staging")
    assert probe["active"] and probe["django"]
    assert probe["options"] == {
        "send_default_pii": False,
        "max_request_body_size": "never",
        "include_local_variables": False,
        "environment": "staging",
    }
    assert probe["status"] == 500
    [event] = probe["events"]  # the internal failure, logged at ERROR, reported once
    assert event["level"] == "error"
    assert event["logger"] == "enrollments.graphql.errors"
    assert probe["error_id"] in event["logentry"]["formatted"]
    assert event["extra"]["error_id"] == probe["error_id"]
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    # No personal data and no credentials: no user, address, cookie, API key or body.
    sent = json.dumps(event)
    secrets = (probe["raw_key"], "a-session-cookie", "198.51.100.7", "198.51.100.8")
    for secret in (*secrets, "x@example.com"):
        assert secret not in sent
    assert "user" not in event or "ip_address" not in event["user"]
    assert not event["request"].get("data")  # the body is dropped: an empty string
    assert event["request"]["url"].endswith("/graphql/")  # the request is still described
    assert event["request"]["headers"]["X-Teachify-Api-Key"] != probe["raw_key"]
