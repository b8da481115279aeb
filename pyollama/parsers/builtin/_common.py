"""Small text helpers every built-in parser shares (Ollama's `model/parsers/parsers.go`).

Go trims with `unicode.IsSpace`, whose set differs from Python's `str.isspace` (Python also counts
the ASCII separators U+001C..U+001F), so every trim here uses Go's set: a parser that trimmed with
`str.strip()` would eat characters Ollama keeps. Lengths are in characters rather than Go's bytes;
tags are whole characters, so slicing a `str` by them cuts at the same places.
"""

from __future__ import annotations

from pyollama.parsers import Think

GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""The characters Go's `unicode.IsSpace` accepts (the Unicode White_Space property)."""


def is_space(ch: str) -> bool:
    """Go's `unicode.IsSpace` for one character."""
    return ch != "" and ch in GO_SPACE


def trim_space(s: str) -> str:
    """Go's `strings.TrimSpace`."""
    return s.strip(GO_SPACE)


def trim_left_space(s: str) -> str:
    """Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`."""
    return s.lstrip(GO_SPACE)


def trim_right_space(s: str) -> str:
    """Go's `strings.TrimRightFunc(s, unicode.IsSpace)`."""
    return s.rstrip(GO_SPACE)


def split_at_tag(buf: str, tag: str, trim_after: bool) -> tuple[str, str]:
    """Go's `splitAtTag`: (text before `tag`, right-trimmed; text after it), the second being what
    the parser's buffer holds next. Without the tag: (all of `buf`, "") and the buffer empties."""
    before, found, after = buf.partition(tag)
    if not found:
        return before, ""
    if trim_after:
        after = trim_left_space(after)
    return trim_right_space(before), after


def overlap(s: str, delim: str) -> int:
    """Go's `overlap`: the length of the longest suffix of `s` that is a prefix of `delim` (how much
    of `s` might be the start of a tag the next piece completes)."""
    for i in range(min(len(delim), len(s)), 0, -1):
        if s.endswith(delim[:i]):
            return i
    return 0


def trailing_whitespace_len(s: str) -> int:
    """Go's `trailingWhitespaceLen`: how many characters of whitespace end `s`."""
    return len(s) - len(s.rstrip(GO_SPACE))


def think_bool(think: Think) -> bool:
    """`api.ThinkValue.Bool`: thinking asked for (true, or any of the levels); None is false."""
    if isinstance(think, bool):
        return think
    return think in ("high", "medium", "low", "max")
