"""lms.control_characters: what a header and a terminal receive of stored text."""

import pytest

from lms.control_characters import control_character_at, single_line, terminal_safe


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain text, é 中 🐍", "plain text, é 中 🐍"),
        ("a\x1b[31mred\x1b[0m", "ared"),  # CSI (SGR) removed whole, no "[31m" left
        ("\x1b[2J\x1b[Hcleared", "cleared"),  # erase the screen, cursor home
        ("\x1b]0;pwned\x07name", "name"),  # OSC window title, BEL-terminated
        ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8, ST-terminated
        ("\x1bP+q\x1b\\dcs", "dcs"),  # DCS
        ("\x9b31m8-bit", "8-bit"),  # the 8-bit CSI
        ("\x1b(Bcharset", "charset"),  # ESC with an intermediate byte
        ("trailing\x1b", "trailing"),
        ("\x1b]unterminated title", ""),  # an unterminated string is removed to the end
        ("two\r\nlines\tand tab", "two lines and tab"),
        ("bell\x07 del\x7f nul-free", "bell del nul-free"),
        ("next\x85line\u2028sep", "next line sep"),
        ("keeps  double  spaces", "keeps  double  spaces"),
    ],
)
def test_terminal_safe_removes_escape_sequences_and_control_characters(value, shown):
    assert terminal_safe(value) == shown
    assert control_character_at(terminal_safe(value)) is None


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("Python\r\nBasics", "Python Basics"),
        ("  padded\t title \n", "padded title"),
        ("Red \x1b[31malert\x1b[0m", "Red alert"),
        ("a\u2028b\x85c\x0bd\x0ce", "a b c d e"),
    ],
)
def test_single_line_collapses_whitespace_and_control_characters(value, line):
    assert single_line(value) == line
    assert "\n" not in single_line(value) and "\r" not in single_line(value)


def test_control_character_at_finds_the_first():
    assert control_character_at("ok") is None
    assert control_character_at("a\tb\nc") == 1
