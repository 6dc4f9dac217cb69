"""docs/api.md's retry example ("Retrying a mutation") runs against the demo data as written:
its document, sent twice with its headers and one key, extends once and answers the same.
(tests/graphql/test_docs.py runs the other curl examples; this one sends two headers before
the key's, so it is run here, with the Idempotency-Key it is about.)"""

import re
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from enrollments.models import AccessChange

DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
SECTION = DOC[DOC.index("## Retrying a mutation") : DOC.index("## Who may do what")]
EXAMPLE = re.compile(
    r'curl -s -i http://127\.0\.0\.1:8000(?P<path>/graphql/) -H "Idempotency-Key: '
    r'\$IDEMPOTENCY_KEY" \\\n\s+-H "Authorization: Bearer \$KEY" '
    r"-H 'Content-Type: (?P<type>[^']+)' --data-binary @- <<'EOF'\n(?P<document>.*?)\nEOF\n",
    re.S,
)


@pytest.mark.django_db
def test_the_retry_example_extends_once_and_replays_the_answer(client, clock, settings):
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}
    call_command("seed_demo", force=True, verbosity=0)
    out = StringIO()
    call_command("create_api_key", "admin@example.com", stdout=out)
    key = out.getvalue().splitlines()[-1]
    example = EXAMPLE.search(SECTION)
    assert example is not None, "the example's form changed: update this test"
    assert SECTION.count("\nsend ") == 2
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    before = AccessChange.objects.count()

    first = client.post(
        example["path"], example["document"], content_type=example["type"], **headers
    )
    second = client.post(
        example["path"], example["document"], content_type=example["type"], **headers
    )

    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert AccessChange.objects.count() == before + 1
