"""errors.Phrase (issue 26 item 9): words the core keeps in English (the API, the logs, stored
text) and a door translates whole, with their values. Its English is the text the core wrote
before it existed, word for word; translated, a value that is a phrase itself is translated
inside its sentence; an error carrying one as its detail or message keeps its English for the
API and survives pickling (runs and caches pickle errors)."""

import pickle

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from enrollments.errors import BatchNotFound, InvalidShortening, InvalidWebhookUrl, Phrase
from enrollments.events import targets


def test_its_english_is_the_template_filled():
    phrase = Phrase(gettext_noop("no learner with e-mail %(email)s"), email="ann@example.com")
    assert str(phrase) == "no learner with e-mail ann@example.com"
    assert repr(phrase) == "Phrase('no learner with e-mail ann@example.com')"
    assert str(Phrase(gettext_noop("The URL has no host."))) == "The URL has no host."


def test_a_count_picks_the_form():
    def days(count: int) -> Phrase:
        return Phrase.ngettext("%(days)s day", "%(days)s days", count, days=count)

    assert [str(days(n)) for n in (1, 0, -5, 36501)] == ["1 day", "0 days", "-5 days", "36501 days"]
    with translation.override("de"):
        assert [days(n).translated() for n in (1, 2)] == ["1 Tag", "2 Tage"]


def test_translated_whole_with_a_phrase_inside_it():
    with translation.override("de"), pytest.raises(targets.UnsafeTarget) as refused:
        targets.check_url("https://169.254.169.254/in")
    error = refused.value
    assert error.message == (
        "The host 169.254.169.254 is a cloud metadata address: webhooks are not sent there."
    )
    with translation.override("de"):
        assert error.phrase.translated() == (
            "Der Host 169.254.169.254 ist eine Cloud-Metadaten-Adresse: Dorthin werden keine "
            "Webhooks gesendet."
        )
    with translation.override("en"):
        assert error.phrase.translated() == error.message


def test_an_error_keeps_its_english_and_its_phrase_through_pickling():
    detail = Phrase(gettext_noop("batch %(batch)s is outside the actor's courses"), batch="b-1")
    error = BatchNotFound(detail)
    assert error.detail == "batch b-1 is outside the actor's courses"
    assert error.message == BatchNotFound.message  # the contract's, unchanged
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.detail, copy.detail_phrase) == (error.detail, detail)
    shortened = InvalidShortening(Phrase.ngettext("%(days)s day", "%(days)s days", 0, days=0))
    assert shortened.detail == "0 days"
    reason = Phrase(gettext_noop("A URL is required"))
    refused = InvalidWebhookUrl(reason=reason)
    assert (refused.message, str(refused), refused.phrase) == (
        "A URL is required",
        "A URL is required",
        reason,
    )
    again = pickle.loads(pickle.dumps(refused))
    assert (again.message, again.phrase) == ("A URL is required", reason)
