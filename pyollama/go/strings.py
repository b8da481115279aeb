"""Go's `unicode.IsSpace` and the `strings` functions built on it: TrimSpace & co, Fields.

Go's space set is not Python's `str.isspace`: Python also counts the ASCII separators
U+001C..U+001F, which Go keeps. Ollama trims model output, prompts and tags with Go's set, so every
trim in pyollama that mirrors a Go trim goes through these (a `str.strip()` would eat characters
Ollama keeps).
"""

from __future__ import annotations

import re

__all__ = ["SPACE", "fields", "is_space", "trim_left_space", "trim_right_space", "trim_space"]

SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""The characters `unicode.IsSpace` accepts: the Latin-1 spaces plus the White_Space property."""

_FIELDS_SPLIT = re.compile(f"[{re.escape(SPACE)}]+")


def is_space(ch: str) -> bool:
    """`unicode.IsSpace` of one character (the empty string is not one)."""
    return ch != "" and ch in SPACE


def trim_space(s: str) -> str:
    """`strings.TrimSpace`."""
    return s.strip(SPACE)


def trim_left_space(s: str) -> str:
    """`strings.TrimLeftFunc(s, unicode.IsSpace)`."""
    return s.lstrip(SPACE)


def trim_right_space(s: str) -> str:
    """`strings.TrimRightFunc(s, unicode.IsSpace)`."""
    return s.rstrip(SPACE)


def fields(s: str) -> list[str]:
    """`strings.Fields`: the runs of non-space characters."""
    return [f for f in _FIELDS_SPLIT.split(s) if f]
