"""pyollama.go.strings: Go's unicode.IsSpace set and the trims built on it."""

from __future__ import annotations

from pyollama.go import strings


def test_space_is_unicode_white_space_less_the_ascii_separators() -> None:
    # Python's isspace also counts U+001C..U+001F; Go's unicode.IsSpace does not.
    python_only = {chr(c) for c in range(0x110000) if chr(c).isspace()} - set(strings.SPACE)
    assert python_only == {"\x1c", "\x1d", "\x1e", "\x1f"}
    assert {chr(c) for c in range(0x110000) if chr(c) in strings.SPACE} <= {
        chr(c) for c in range(0x110000) if chr(c).isspace()
    }


def test_is_space() -> None:
    assert strings.is_space("\u00a0") and strings.is_space("\u3000") and strings.is_space("\x85")
    assert not strings.is_space("\x1c") and not strings.is_space("\u200b")  # zero-width space is not
    assert not strings.is_space("")


def test_trims() -> None:
    assert strings.trim_space(" \t\n\v\f\r\x85\xa0\u2003\u3000x\u2028 ") == "x"
    assert strings.trim_space("\x1cx\x1f") == "\x1cx\x1f"  # Python strips these, Go does not
    assert strings.trim_space("\x1c a \u3000") == "\x1c a"
    assert strings.trim_left_space("\x85 a ") == "a "
    assert strings.trim_right_space(" a\u202f") == " a"


def test_fields() -> None:
    assert strings.fields(" a\u00a0b\x1cc \n") == ["a", "b\x1cc"]
    assert strings.fields("  ") == [] and strings.fields("") == []
