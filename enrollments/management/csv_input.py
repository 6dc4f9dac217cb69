"""Reading `--csv FILE`: rows of `user,course` (plus `days` or `until` where the command takes
them), each kept with its line number, resolved to enrollments with a few bulk queries.

A bad header or an unreadable file is a usage error (nothing is done). A bad row is a failed
row: reported by line number with the contract's message, while the good rows go ahead. A row
naming an enrollment outside the `--actor`'s courses fails exactly as a pair without an
enrollment (NOT_ENROLLED; enrollments/operations/scope.py).
"""

import csv
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext

from enrollments.errors import NotEnrolled
from enrollments.management.output import RowFailure, describe_error
from enrollments.management.selection import USAGE
from enrollments.models import Enrollment
from enrollments.operations.scope import EVERYWHERE, Scope
from enrollments.selectors.by_key import course_ids_by_key, course_key, user_ids_by_key, user_key
from lms.batching import chunked
from lms.text import text_problem

REQUIRED_COLUMNS = ("user", "course")


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    user: str
    course: str
    #: The optional columns (`days`, `until`), stripped; "" when absent or empty.
    extra: dict[str, str] = field(default_factory=dict)
    #: Why the row cannot be read at all (wrong number of fields), or None.
    problem: str | None = None

    @property
    def where(self) -> str:
        # Translators: a CSV row on a command's line: "line 17 (ann@example.com, python-basics)".
        return gettext("line %(line)d (%(user)s, %(course)s)") % {
            "line": self.line,
            "user": self.user or "-",
            "course": self.course or "-",
        }

    def failure(self, reason: str) -> RowFailure:
        return RowFailure(where=self.where, reason=reason, line=self.line)


def read_csv(path: str, *, optional_columns: Iterable[str] = ()) -> tuple[list[str], list[CsvRow]]:
    """The header's columns (lower-cased) and the rows of the CSV at `path` (`-` for stdin).

    The header must name `user` and `course` and may name `optional_columns`; any other column
    is a usage error, so a typo such as `dayz` never silently falls back to the command-line
    mode."""
    allowed = set(REQUIRED_COLUMNS) | set(optional_columns)
    try:
        if path == "-":  # a byte-order mark is fine here as in a file (utf-8-sig)
            text = sys.stdin.read().removeprefix("\ufeff")
        else:
            text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise CommandError(
            gettext("--csv %(path)r: cannot read the file (%(error)s)")
            % {"path": path, "error": error.strerror},
            returncode=USAGE,
        ) from None
    except UnicodeDecodeError:
        raise CommandError(
            gettext("--csv %(path)r: the file is not UTF-8 text") % {"path": path},
            returncode=USAGE,
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _read_rows(reader, path, allowed, optional_columns)
    except csv.Error as error:  # a cell past csv.field_size_limit(), a NUL in a quoted cell
        raise CommandError(
            gettext("--csv %(path)r: line %(line)d is not readable CSV (%(error)s)")
            % {"path": path, "line": reader.line_num, "error": error},
            returncode=USAGE,
        ) from None


def _read_rows(
    reader, path: str, allowed: set[str], optional_columns: Iterable[str]
) -> tuple[list[str], list[CsvRow]]:
    header = next(reader, None)
    if header is None:
        raise CommandError(
            gettext("--csv %(path)r: the file is empty (expected a header line)") % {"path": path},
            returncode=USAGE,
        )
    columns = [name.strip().lower() for name in header]
    unknown = [name for name in columns if name not in allowed]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if unknown or missing or len(set(columns)) != len(columns):
        values = {
            "path": path,
            "header": ",".join(header),
            "required": ", ".join(REQUIRED_COLUMNS),
            "optional": ", ".join(sorted(optional_columns)),
            "unknown": ", ".join(unknown),
            "missing": ", ".join(missing),
        }
        if optional_columns:
            message = gettext(
                "--csv %(path)r: the header is %(header)r; expected the columns %(required)s "
                "and optionally %(optional)s"
            )
        else:
            message = gettext(
                "--csv %(path)r: the header is %(header)r; expected the columns %(required)s"
            )
        if unknown:
            message += gettext(" (unknown: %(unknown)s)")
        if missing:
            message += gettext(" (missing: %(missing)s)")
        raise CommandError(message % values, returncode=USAGE)
    rows = []
    for values in reader:
        if not any(value.strip() for value in values):
            continue  # blank lines (a trailing newline, spacing) are not rows
        problem = next(filter(None, map(text_problem, values)), None)  # lms.text's rule
        if problem is not None:
            rows.append(
                CsvRow(
                    line=reader.line_num,
                    user="",
                    course="",
                    problem=gettext("the row %(problem)s") % {"problem": gettext(problem)},
                )
            )
            continue
        if len(values) != len(columns):
            rows.append(
                CsvRow(
                    line=reader.line_num,
                    user="",
                    course="",
                    problem=gettext("the row has %(fields)d fields, the header has %(columns)d")
                    % {"fields": len(values), "columns": len(columns)},
                )
            )
            continue
        record = {name: value.strip() for name, value in zip(columns, values, strict=True)}
        rows.append(
            CsvRow(
                line=reader.line_num,
                user=record.pop("user"),
                course=record.pop("course"),
                extra=record,
            )
        )
    return columns, rows


@dataclass(slots=True)
class Resolved:
    """CSV rows matched to their enrollments, and the rows that matched none."""

    rows: list[tuple[CsvRow, object]] = field(default_factory=list)
    failures: list[RowFailure] = field(default_factory=list)


def resolve_rows(rows: list[CsvRow], *, scope: Scope = EVERYWHERE) -> Resolved:
    """Finds each row's enrollment with a handful of queries whatever the number of rows
    (users, courses and enrollments are loaded by chunks of ids into dictionaries).

    Unknown users or courses and pairs without an enrollment fail as NotEnrolled, which is
    what the API answers for them too; so does a pair whose course lies outside `scope` (the
    `--actor`'s courses), with the same words as a pair without an enrollment. A second row
    for the same enrollment fails as a duplicate (applying it twice, or picking one of two
    modes, would be a guess).
    """
    users = user_ids_by_key({row.user for row in rows if row.user})
    courses = course_ids_by_key({row.course for row in rows if row.course})
    enrollments = _enrollments_by_pair(set(users.values()), set(courses.values()))
    resolved = Resolved()
    first_line: dict[object, int] = {}
    for row in rows:
        if row.problem:
            resolved.failures.append(row.failure(row.problem))
            continue
        user_id = users.get(user_key(row.user))
        course_id = courses.get(course_key(row.course))
        if user_id is None or course_id is None:
            problem = (
                gettext("no user with e-mail or id %(value)r") % {"value": row.user}
                if user_id is None
                else gettext("no course with slug or id %(value)r") % {"value": row.course}
            )
            resolved.failures.append(row.failure(describe_error(NotEnrolled(problem))))
            continue
        enrollment_id = enrollments.get((user_id, course_id)) if scope.covers(course_id) else None
        if enrollment_id is None:
            resolved.failures.append(row.failure(describe_error(NotEnrolled())))
            continue
        if enrollment_id in first_line:
            resolved.failures.append(
                row.failure(
                    gettext(
                        "duplicate: line %(line)d names the same enrollment; this row is ignored"
                    )
                    % {"line": first_line[enrollment_id]}
                )
            )
            continue
        first_line[enrollment_id] = row.line
        resolved.rows.append((row, enrollment_id))
    return resolved


def _enrollments_by_pair(user_ids: set, course_ids: set) -> dict[tuple[object, object], object]:
    """{(user id, course id): enrollment id}, loading the named users' enrollments by chunk."""
    found = {}
    for chunk in chunked(list(user_ids)):
        for pk, user_id, course_id in Enrollment.objects.filter(user_id__in=chunk).values_list(
            "pk", "user_id", "course_id"
        ):
            if course_id in course_ids:
                found[(user_id, course_id)] = pk
    return found
