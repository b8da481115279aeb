"""Go's JSON scanner (`encoding/json/scanner.go`), for its syntax error messages.

`json.Unmarshal` checks the whole text with this state machine before decoding, so a text that is
not JSON fails with the scanner's words (`invalid character 'x' looking for beginning of value`,
`unexpected end of JSON input`); Ollama passes them on in error lines and replies. Decoding itself
is Python's (`pyollama.go.json`); the scanner only runs to word the error.
"""

from __future__ import annotations

from collections.abc import Callable

from pyollama.go.strconv import quote

__all__ = ["syntax_error"]


def _quote_char(ch: str) -> str:
    """`quoteChar`: Go reports the offending byte, so a non-ASCII character shows its first byte."""
    b = ch.encode("utf-8", "surrogatepass")[0]
    if b == 0x27:
        return "'\\''"
    if b == 0x22:
        return "'\"'"
    return "'" + quote(chr(b))[1:-1] + "'"


class _SyntaxError(Exception):
    pass


_MAX_DEPTH = 10000
_OBJ_KEY, _OBJ_VALUE, _ARR_VALUE = 0, 1, 2

_Step = Callable[[str], None]


class _Scanner:
    """A line-for-line port of Go's JSON scanner state machine (states named as in Go)."""

    def __init__(self) -> None:
        self.step: _Step = self.begin_value
        self.parse_state: list[int] = []
        self.end_top = False

    def error(self, ch: str, context: str) -> None:
        raise _SyntaxError(f"invalid character {_quote_char(ch)} {context}")

    def push(self, ps: int) -> None:
        self.parse_state.append(ps)
        if len(self.parse_state) > _MAX_DEPTH:
            raise _SyntaxError("exceeded max depth")

    def pop(self) -> None:
        self.parse_state.pop()
        if not self.parse_state:
            self.step = self.end_top_state
            self.end_top = True
        else:
            self.step = self.end_value

    def begin_value_or_empty(self, c: str) -> None:
        if c in " \t\n\r":
            return
        if c == "]":
            self.end_value(c)
            return
        self.begin_value(c)

    def begin_value(self, c: str) -> None:
        if c in " \t\n\r":
            return
        if c == "{":
            self.step = self.begin_string_or_empty
            self.push(_OBJ_KEY)
        elif c == "[":
            self.step = self.begin_value_or_empty
            self.push(_ARR_VALUE)
        elif c == '"':
            self.step = self.in_string
        elif c == "-":
            self.step = self.neg
        elif c == "0":
            self.step = self.zero
        elif c == "t":
            self.step = self._literal("rue", "true")
        elif c == "f":
            self.step = self._literal("alse", "false")
        elif c == "n":
            self.step = self._literal("ull", "null")
        elif "1" <= c <= "9":
            self.step = self.one
        else:
            self.error(c, "looking for beginning of value")

    def begin_string_or_empty(self, c: str) -> None:
        if c in " \t\n\r":
            return
        if c == "}":
            self.parse_state[-1] = _OBJ_VALUE
            self.end_value(c)
            return
        self.begin_string(c)

    def begin_string(self, c: str) -> None:
        if c in " \t\n\r":
            return
        if c == '"':
            self.step = self.in_string
            return
        self.error(c, "looking for beginning of object key string")

    def end_value(self, c: str) -> None:
        if not self.parse_state:
            self.step = self.end_top_state
            self.end_top = True
            self.end_top_state(c)
            return
        if c in " \t\n\r":
            self.step = self.end_value
            return
        ps = self.parse_state[-1]
        if ps == _OBJ_KEY:
            if c == ":":
                self.parse_state[-1] = _OBJ_VALUE
                self.step = self.begin_value
                return
            self.error(c, "after object key")
        elif ps == _OBJ_VALUE:
            if c == ",":
                self.parse_state[-1] = _OBJ_KEY
                self.step = self.begin_string
                return
            if c == "}":
                self.pop()
                return
            self.error(c, "after object key:value pair")
        else:
            if c == ",":
                self.step = self.begin_value
                return
            if c == "]":
                self.pop()
                return
            self.error(c, "after array element")

    def end_top_state(self, c: str) -> None:
        if c not in " \t\n\r":
            self.error(c, "after top-level value")

    def in_string(self, c: str) -> None:
        if c == '"':
            self.step = self.end_value
        elif c == "\\":
            self.step = self.in_string_esc
        elif c < "\x20":
            self.error(c, "in string literal")

    def in_string_esc(self, c: str) -> None:
        if c in 'bfnrt\\/"':
            self.step = self.in_string
        elif c == "u":
            self.step = self._hex(4)
        else:
            self.error(c, "in string escape code")

    def _hex(self, left: int) -> _Step:
        def state(c: str) -> None:
            if c in "0123456789abcdefABCDEF":
                self.step = self._hex(left - 1) if left > 1 else self.in_string
                return
            self.error(c, "in \\u hexadecimal character escape")

        return state

    def neg(self, c: str) -> None:
        if c == "0":
            self.step = self.zero
        elif "1" <= c <= "9":
            self.step = self.one
        else:
            self.error(c, "in numeric literal")

    def one(self, c: str) -> None:
        if "0" <= c <= "9":
            return
        self.zero(c)

    def zero(self, c: str) -> None:
        if c == ".":
            self.step = self.dot
        elif c in "eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def dot(self, c: str) -> None:
        if "0" <= c <= "9":
            self.step = self.dot0
            return
        self.error(c, "after decimal point in numeric literal")

    def dot0(self, c: str) -> None:
        if "0" <= c <= "9":
            return
        if c in "eE":
            self.step = self.exp
            return
        self.end_value(c)

    def exp(self, c: str) -> None:
        if c in "+-":
            self.step = self.exp_sign
            return
        self.exp_sign(c)

    def exp_sign(self, c: str) -> None:
        if "0" <= c <= "9":
            self.step = self.exp0
            return
        self.error(c, "in exponent of numeric literal")

    def exp0(self, c: str) -> None:
        if "0" <= c <= "9":
            return
        self.end_value(c)

    def _literal(self, rest: str, word: str) -> _Step:
        def state(c: str) -> None:
            if c == rest[0]:
                self.step = self._literal(rest[1:], word) if len(rest) > 1 else self.end_value
                return
            self.error(c, f"in literal {word} (expecting {_quote_char(rest[0])})")

        return state


def syntax_error(text: str) -> str | None:
    """Go's `checkValid`: the message of the first syntax error in `text`, or None if it is JSON."""
    s = _Scanner()
    try:
        for ch in text:
            s.step(ch)
        if s.end_top:
            return None
        s.step(" ")  # Go's eof(): a space ends a number, or errors in a state that needed more
        if s.end_top:
            return None
    except _SyntaxError as e:
        return str(e)
    return "unexpected end of JSON input"
