"""pyollama.parsers.gostrings: Go's unicode.IsSpace trimming and the parsers.go helpers."""

from __future__ import annotations

import pytest

from pyollama.parsers import gostrings


def test_go_space_is_python_space_less_the_ascii_separators() -> None:
    python = {chr(c) for c in range(0x3100) if chr(c).isspace()}
    assert python - set(gostrings.GO_SPACE) == {"\x1c", "\x1d", "\x1e", "\x1f"}
    assert set(gostrings.GO_SPACE) <= python
    assert gostrings.trim_space("\x1c a \u3000") == "\x1c a"
    assert gostrings.fields(" a\u00a0b\x1cc \n") == ["a", "b\x1cc"]


@pytest.mark.parametrize(
    ("text", "trim_after", "before", "after"),
    [
        ("hello <!-- split --> world", True, "hello", "world"),
        ("hello <!-- split -->   world", False, "hello", "   world"),
        ("<!-- split -->world", True, "", "world"),
        ("hello <!-- split -->", True, "hello", ""),
        ("a <!-- split --> b <!-- split --> c", True, "a", "b <!-- split --> c"),
        ("hello world", True, "hello world", ""),
        ("", True, "", ""),
        ("  hello \t\n <!-- split --> \n\t world  ", True, "  hello", "world  "),
        ("hello<!-- split -->   \t\n", False, "hello", "   \t\n"),
    ],
)
def test_split_at_tag(text: str, trim_after: bool, before: str, after: str) -> None:
    # the buffer keeps what comes after the tag, and empties without a tag
    assert gostrings.split_at_tag(text, "<!-- split -->", trim_after) == (before, after, after)


def test_overlap_and_trailing_whitespace() -> None:
    assert gostrings.overlap("abc<too", "<tool_call>") == 4
    assert gostrings.overlap("abc", "<tool_call>") == 0
    assert gostrings.overlap("<tool_call>", "<tool_call>") == 11
    assert gostrings.overlap("x<", "<") == 1
    assert gostrings.trailing_whitespace_len("a \u00a0\u3000") == 3
    assert gostrings.trailing_whitespace_len("a\x1c") == 0
    assert gostrings.trailing_whitespace_len("") == 0
