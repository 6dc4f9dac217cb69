"""Every text column of the database is placed once in enrollments/privacy/mentions.py: where
a learner's address may be quoted (the erasure rewrites it), the learner's own columns, or
columns that hold nobody's words. A new column has to be placed before it can hold a learner's
address unnoticed by the erasure."""

import json
from collections import Counter

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
