"""Control characters in text people typed: refused in course titles, kept out of e-mail headers
and out of the operator's terminal.

A control character is invisible where text is shown, and means something where text is
interpreted: a line break in an e-mail header ends the header (Django refuses to send it, and one
such title used to stop every reminder of the run), an escape sequence in a name printed by a
command moves the cursor, recolours or retitles the operator's terminal. Text that is stored may
hold them (rows written before the course form refused them, users created elsewhere), so every
place that renders stored text into one of those media renders it through this module:

- `refuse_control_characters`: the model validator of course titles (the admin's form and any
  `full_clean` refuse them with a clear message);
- `single_line`: header text (e-mail subjects), escape sequences removed and every run of
  whitespace or control characters collapsed into one space;
- `terminal_safe`: text for a terminal, escape sequences removed whole (not just their ESC, which
  would leave `[31m` behind), the other control characters removed, line breaks and tabs shown as
  a space.

"Control character" is Unicode's category Cc (C0, DEL and C1: tab, CR, LF, ESC, NEL, the 8-bit
CSI...) plus the line and paragraph separators U+2028 and U+2029, which Python's and mail
clients' line splitting treat as line breaks too.
"""

import re

from django.core.exceptions import ValidationError

_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL}]")
_WHITESPACE_OR_CONTROL_RUN = re.compile(rf"[\s{_CONTROL}]+")

#: ECMA-48 sequences, 7-bit (ESC ...) and 8-bit (one C1 character): control strings (OSC, DCS,
#: SOS, PM, APC) up to their terminator (BEL, ST) or the end of the text when unterminated; CSI
#: with its parameters, intermediates and final byte; any other ESC with its intermediates and
#: final byte. Removed whole, so no parameter text is left behind.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|\Z)"
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
_LINE_BREAKS_OR_TABS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")


def control_character_at(value: str) -> int | None:
    """The index of the first control character in `value`, or None."""
    found = _CONTROL_CHARACTER.search(value)
    return None if found is None else found.start()


def refuse_control_characters(value: str) -> None:
    """A field validator: `value` holds no control character (line breaks and tabs included).

    A module-level function, so that migrations reference it by its path."""
    at = control_character_at(value)
    if at is not None:
        raise ValidationError(
            "Must not contain control characters such as line breaks or tabs "
            "(found %(character)s at position %(position)s).",
            code="control_characters",
            params={"character": f"U+{ord(value[at]):04X}", "position": at + 1},
        )


def single_line(value: str) -> str:
    """`value` as one line of header text: every run of whitespace or control characters is one
    space, none at either end, escape sequences removed whole. For a stored value that predates
    the validator: it is still sent, readable, and no header can be split by it."""
    return _WHITESPACE_OR_CONTROL_RUN.sub(" ", _ESCAPE_SEQUENCE.sub("", value)).strip()


def terminal_safe(value: str) -> str:
    """`value` as it may be written to a terminal: escape sequences removed whole, line breaks and
    tabs shown as one space (a table row stays one line), every other control character removed.
    Unlike `single_line`, spaces are kept as they are: the value is shown, not folded."""
    without_sequences = _ESCAPE_SEQUENCE.sub("", value)
    spaced = _LINE_BREAKS_OR_TABS.sub(" ", without_sequences)
    return _CONTROL_CHARACTER.sub("", spaced)
