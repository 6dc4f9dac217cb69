"""Every text column of the database is placed once in enrollments/privacy/mentions.py: where
a learner's address may be quoted (the erasure rewrites it), the learner's own columns, or
columns that hold nobody's words. A new column has to be placed before it can hold a learner's
address unnoticed by the erasure."""

import json
from collections import Counter

import pytest

from enrollments.privacy import mentions
from enrollments.privacy.erasure import Subject, rewrite_answer
from tests.factories import UserFactory


def placed() -> list[str]:
    return [*mentions.QUOTING, *mentions.HANDLED, *mentions.NOT_PERSONAL]


def test_every_text_column_is_placed():
    assert sorted(set(mentions.text_columns()) - set(placed())) == []


def test_each_column_is_placed_once_and_exists():
    assert [column for column, n in Counter(placed()).items() if n > 1] == []
    assert sorted(set(placed()) - set(mentions.text_columns())) == []


def test_every_quoting_column_is_scanned():
    scanned = {f"{model._meta.label}.{field.name}" for model, field in mentions.quoting_columns()}
    assert scanned == set(mentions.QUOTING)


def test_json_is_rewritten_in_keys_and_values_case_insensitively():
    pattern = mentions.address_pattern("Ann@Example.com")
    value = {"ann@example.COM": ["to ANN@example.com", 3, None, {"x": "ann@example.com!"}]}
    assert mentions.rewrite_json(value, pattern, "e@erased.invalid") == {
        "e@erased.invalid": ["to e@erased.invalid", 3, None, {"x": "e@erased.invalid!"}]
    }


def test_an_answer_keeps_the_names_of_others_who_share_them(db):
    ann = UserFactory(email="ann@example.com", first_name="Ann", last_name="Lee")
    subject = Subject.of(ann, new_email="e@erased.invalid")

    def answer(theirs: dict, others: dict) -> str:
        return json.dumps({"data": {"a": theirs, "b": others}}, separators=(",", ":"))

    body = answer(
        {"id": str(ann.pk), "firstName": "Ann", "fullName": "Ann Lee"},
        {"id": "other", "firstName": "Ann", "note": "seat of ANN@example.com"},
    )
    assert rewrite_answer(body, subject, str(ann.pk)) == answer(
        {"id": str(ann.pk), "firstName": "", "fullName": ""},
        {"id": "other", "firstName": "Ann", "note": "seat of e@erased.invalid"},
    )
    assert rewrite_answer("not json: ann@example.com", subject, str(ann.pk)) == (
        "not json: e@erased.invalid"
    )


@pytest.mark.parametrize(
    "text",
    [
        "write to ann@example.com.",
        "ANN@Example.COM, again",
        "{'ann@example.com': (550, b'no')}",
        "username=ann@example.com&next=/",
        "<ann@example.com>",
        '"line one\\nann@example.com"',  # a new line in JSON text
    ],
)
def test_the_address_is_found_however_it_is_quoted(text):
    assert mentions.address_pattern("ann@example.com").search(text), text


@pytest.mark.parametrize(
    "text",
    [
        "joann@example.com",
        "jo.ann@example.com",
        "jo+ann@example.com",
        "jo-ann@example.com",
        "o'ann@example.com",
        "zoéann@example.com",
        "ann@example.com.au",
        "ann@example.community",
        "ann@example.com-mail.org",
    ],
)
def test_a_longer_address_that_holds_it_is_someone_else(text):
    assert not mentions.address_pattern("ann@example.com").search(text), text


def test_names_are_blanked_in_everything_within_an_object_of_theirs(db):
    """`courseMembership { id user_id user { first_name } }`: the names sit one level below
    the ids; an object holding one of their enrollment ids is theirs too."""
    ann = UserFactory(email="ann@example.com", first_name="Ann", last_name="Lee")
    subject = Subject.of(ann, new_email="e@erased.invalid")
    subject.enrollment_ids = ["7c9e6679-7425-40de-944b-e07fc1f90ae7"]
    body = json.dumps(
        {
            "a": {"user_id": str(ann.pk), "user": {"first_name": "Ann", "last_name": "Lee"}},
            "b": {"id": "7C9E6679-7425-40DE-944B-E07FC1F90AE7", "users": [{"name": "Ann Lee"}]},
            "c": {"id": "other", "user": {"first_name": "Ann"}},
        }
    )
    assert json.loads(rewrite_answer(body, subject, str(ann.pk))) == {
        "a": {"user_id": str(ann.pk), "user": {"first_name": "", "last_name": ""}},
        "b": {"id": "7C9E6679-7425-40DE-944B-E07FC1F90AE7", "users": [{"name": ""}]},
        "c": {"id": "other", "user": {"first_name": "Ann"}},
    }
