"""Go's `strings`/`unicode` whitespace rules and the small helpers of Ollama's `model/parsers`.

The parsers trim and hold back whitespace with `unicode.IsSpace`, which is not Python's
`str.isspace`: Go does not count the ASCII separators U+001C..U+001F as space. Every trim in the
parsers goes through these functions so a model's output is cut exactly where Ollama cuts it.

`overlap`, `trailing_whitespace_len` and `split_at_tag` mirror the helpers of the same names in
`model/parsers/parsers.go`; Go works on bytes there, we work on `str` (the same cuts, since a
streamed piece is whole UTF-8 and the tags are whole characters).
"""

from __future__ import annotations

import re

GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""The characters `unicode.IsSpace` accepts (Latin-1 space plus the White_Space property)."""

_FIELDS_SPLIT = re.compile(f"[{re.escape(GO_SPACE)}]+")


def is_space(ch: str) -> bool:
    """`unicode.IsSpace` of one character."""
    return ch in GO_SPACE


def trim_left_space(s: str) -> str:
    """`strings.TrimLeftFunc(s, unicode.IsSpace)`."""
    return s.lstrip(GO_SPACE)


def trim_right_space(s: str) -> str:
    """`strings.TrimRightFunc(s, unicode.IsSpace)`."""
    return s.rstrip(GO_SPACE)


def trim_space(s: str) -> str:
    """`strings.TrimSpace`."""
    return s.strip(GO_SPACE)


def fields(s: str) -> list[str]:
    """`strings.Fields`: the runs of non-space characters."""
    return [f for f in _FIELDS_SPLIT.split(s) if f]


def overlap(s: str, delim: str) -> int:
    """Length of the longest suffix of `s` that is a prefix of `delim` (a tag that may be starting).

    Mirrors `overlap` in model/parsers/parsers.go (and its copies in thinking/ and harmony/)."""
    for i in range(min(len(delim), len(s)), 0, -1):
        if s.endswith(delim[:i]):
            return i
    return 0


def trailing_whitespace_len(s: str) -> int:
    """Length of the trailing `unicode.IsSpace` run of `s` (`trailingWhitespaceLen`)."""
    return len(s) - len(s.rstrip(GO_SPACE))


def split_at_tag(buf: str, tag: str, trim_after: bool) -> tuple[str, str, str]:
    """`splitAtTag` of parsers.go on a buffer: returns (before, after, new buffer).

    Go resets its strings.Builder and refills it with `after`; Python strings are immutable, so the
    new buffer comes back as the third value. Without the tag the whole buffer is `before` and the
    buffer empties. `before` loses its trailing space; `after` its leading space if `trim_after`."""
    before, found, after = buf.partition(tag)
    if not found:
        return before, "", ""
    before = trim_right_space(before)
    if trim_after:
        after = trim_left_space(after)
    return before, after, after
