from __future__ import annotations

import pytest

from pyollama.parsers.builtin._common import (
    GO_SPACE,
    is_space,
    overlap,
    split_at_tag,
    trailing_whitespace_len,
    trim_left_space,
    trim_right_space,
    trim_space,
)


def test_go_space_is_unicode_white_space() -> None:
    # Python's isspace also counts the ASCII separators U+001C..U+001F; Go's unicode.IsSpace does not.
    python_only = {chr(c) for c in range(0x110000) if chr(c).isspace()} - set(GO_SPACE)
    assert python_only == {"\x1c", "\x1d", "\x1e", "\x1f"}
    assert is_space("\u00a0") and is_space("\u3000") and not is_space("\x1c") and not is_space("")
    assert trim_space("\x1c a \u2028") == "\x1c a"
    assert trim_left_space("\x85 a ") == "a " and trim_right_space(" a\u202f") == " a"


def test_split_at_tag() -> None:
    assert split_at_tag("before \n<tag>\n after<tag>x", "<tag>", True) == ("before", "after<tag>x")
    assert split_at_tag("before <tag> after", "<tag>", False) == ("before", " after")
    assert split_at_tag("no tag here  ", "<tag>", True) == ("no tag here  ", "")


@pytest.mark.parametrize(
    ("s", "delim", "n"),
    [
        ("abc<too", "<tool_call>", 4),
        ("abc<", "<tool>", 1),
        ("abc", "<tool>", 0),
        ("<to", "<to", 3),
        ("", "<t>", 0),
    ],
)
def test_overlap(s: str, delim: str, n: int) -> None:
    assert overlap(s, delim) == n


def test_trailing_whitespace_len() -> None:
    assert trailing_whitespace_len("a \t\n") == 3
    assert trailing_whitespace_len("a\x1c") == 0
    assert trailing_whitespace_len("  ") == 2
    assert trailing_whitespace_len("") == 0
