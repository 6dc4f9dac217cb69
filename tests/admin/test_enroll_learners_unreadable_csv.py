""" "Enroll learners…": text the csv module refuses is a form error on the learners box.

A cell longer than `csv.field_size_limit()` (131,072 characters) made the reader raise
`_csv.Error` while the preview was built, and the page answered 500. One long pasted line does
it, so does an uploaded file with one long cell, and so does a quote opened and never closed,
which joins every later line into one cell. The form now refuses such text, naming the line the
unreadable record starts on, and nothing is written.
"""

import csv

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from enrollments.models import AccessChange, Enrollment
from lms.models import User
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

URL = "/admin/enrollments/enrollment/enroll/"
LIMIT = csv.field_size_limit()


@pytest.fixture
def course(db):
    return CourseFactory(title="Python", access_days=30)


def world() -> tuple:
    return (
        sorted(User.objects.values_list("email", flat=True)),
        Enrollment.objects.count(),
        AccessChange.objects.count(),
    )


def refused_on_learners(response, line: int) -> None:
    assert response.status_code == 200
    assert response.context["preview"] is None
    (error,) = response.context["form"].errors["learners"]
    assert error.startswith(f"Line {line} cannot be read")
    assert f"{LIMIT:,}" in error


@pytest.mark.parametrize("action", ["_preview", "_confirm"])
def test_a_pasted_line_past_the_field_limit_is_refused_naming_it(enroller_client, course, action):
    before = world()
    learners = "ann@example.com\n" + "a" * (LIMIT + 1) + "@example.com\n"
    response = enroller_client.post(
        URL, {"course": str(course.pk), "learners": learners, action: "1", "fingerprint": "x"}
    )
    refused_on_learners(response, 2)
    assert world() == before


def test_an_unclosed_quote_joining_the_lines_after_it_is_refused_at_its_line(
    enroller_client, course
):
    before = world()
    lines = ["ann@example.com", "bob@example.com", '"cy@example.com']
    lines += ["x" * 30 + "@example.com"] * (LIMIT // 40)  # short lines, one cell past the limit
    response = enroller_client.post(
        URL, {"course": str(course.pk), "learners": "\n".join(lines), "_preview": "1"}
    )
    refused_on_learners(response, 3)
    assert world() == before


def test_an_uploaded_file_with_a_cell_past_the_limit_is_refused(enroller_client, course):
    before = world()
    upload = SimpleUploadedFile(
        "learners.csv",
        b"email,name\nann@example.com," + b"N" * (LIMIT + 1) + b"\n",
        content_type="text/csv",
    )
    response = enroller_client.post(
        URL, {"course": str(course.pk), "csv_file": upload, "_preview": "1"}
    )
    refused_on_learners(response, 2)
    assert world() == before


def test_a_quoted_cell_over_several_lines_within_the_limit_is_still_read(enroller_client, course):
    learners = 'ann@example.com,"Ann\nLee"\nbob@example.com,Bob'
    response = enroller_client.post(
        URL, {"course": str(course.pk), "learners": learners, "_preview": "1"}
    )
    assert response.status_code == 200
    assert not response.context["form"].errors
    previewed = {
        (entry.line, entry.user)
        for table in response.context["preview"].tables
        for entry, _note in table["rows"]
    }
    assert previewed == {(2, "ann@example.com"), (3, "bob@example.com")}
