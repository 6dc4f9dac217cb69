"""The one rule for text that comes from outside: ids, e-mail addresses, slugs, reasons, CSV
cells, command arguments, GraphQL strings.

Text is stored and compared by PostgreSQL, which holds neither a NUL character nor anything
that is not Unicode. Python strings can carry both: JSON's `"\\ud800"` decodes to an unpaired
surrogate, and an invalid byte in a command argument (`$'bad\\xffbyte'`) reaches Python as one
too (the `surrogateescape` decoding of argv). Such a value used to travel to the database and
come back as a server error or a traceback; every door now asks `text_problem` first and
answers the problem as its own clear error (INVALID_REASON, "not found", a failed CSV row, a
usage error).

HTTP bodies are decoded strictly (enrollments.graphql.request_body), so invalid bytes there are
refused before any text reaches this rule.
"""

from django.utils.translation import gettext_noop

NUL = "\x00"


def text_problem(value: str) -> str | None:
    """What is wrong with `value` as text ("contains a NUL character", ...), or None: English
    marked for the catalogue (gettext_noop); a door that shows it translates it (`gettext`)."""
    if NUL in value:
        # Translators: after "the value" or "the row" of a command's input.
        return gettext_noop("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return gettext_noop("is not valid text (an invalid byte or an unpaired surrogate)")
    return None


def is_valid_text(value: str) -> bool:
    return text_problem(value) is None
