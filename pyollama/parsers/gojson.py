"""`encoding/json` decoding as Ollama's parsers get it, so parsed tool calls match Ollama's.

The parsers decode a model's JSON with Go's `json.Unmarshal`, and what Go decodes is what Ollama
sends back:

- Numbers become float64. A whole number prints without a fraction (`1.0` -> `1`, `1e2` -> `100`)
  and a huge one loses digits, so whole values below 1e21 come back here as the `int` whose digits
  Go prints; other numbers stay `float` (NaN and infinities are not JSON). A number float64 cannot
  hold is an error (`json: cannot unmarshal number 1e400 into Go value of type float64`).
- Objects inside values become `map[string]any`, which Go marshals with sorted keys, so nested
  objects come back sorted. The top level of a tool call's arguments is an ordered map in Ollama
  (`api.ToolCallFunctionArguments`) and keeps the model's order (`unmarshal_arguments`).
- A `\\u` escape of a lone UTF-16 surrogate decodes to U+FFFD.
- Syntax errors carry Go's scanner messages (`invalid character 'x' looking for beginning of
  value`, `unexpected end of JSON input`), since the parsers put them in the stream's error line.

Python's `json` does the decoding on the fast path; the port of Go's scanner (`syntax_error`) runs
only to word the error when the text is not JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pyollama.go.strconv import format_float as go_format_float
from pyollama.go.strconv import quote as go_quote

__all__ = [
    "MALFORMED_ESCAPE",
    "MALFORMED_OBJECT",
    "GoJSONError",
    "Overflow",
    "arguments_from_value",
    "check_numbers",
    "decode",
    "first_overflow",
    "fold_name",
    "json_kind",
    "sort_maps",
    "syntax_error",
    "unmarshal",
    "unmarshal_arguments",
    "unmarshal_ordered",
]

MALFORMED_OBJECT = "Value looks like object, but can't find closing '}' symbol"
"""jsonparser's error, which the ordered map behind `api.ToolCallFunctionArguments` returns for a
JSON value that is not an object."""

MALFORMED_ESCAPE = "Encountered an invalid escape sequence in a string"
"""jsonparser's error for a key of that map with a lone UTF-16 surrogate escape."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = " \t\n\r"


class GoJSONError(ValueError):
    """`json.Unmarshal` failed; `str(err)` is Go's `err.Error()`."""


class Overflow(str):
    """A number literal that float64 cannot hold. Go fails only when it converts the number (a field
    it skips is never converted), so `decode` leaves these for `check_numbers` to judge."""


class _BadKey(str):
    """An object key that had a lone surrogate escape: U+FFFD to Go's decoder, an error to the
    jsonparser behind Ollama's ordered maps."""


class _Obj(dict[str, Any]):
    """A decoded object that remembers the first overflowing number anywhere inside it, including
    in members a repeated key overwrote (Go converted those too)."""

    overflow: Overflow | None = None


def _go_number(s: str) -> int | float | Overflow:
    """A JSON number as Go's float64, in the Python type that prints as Go prints it."""
    f = float(s)
    if f in (float("inf"), float("-inf")):
        return Overflow(s)
    if f.is_integer() and abs(f) < 1e21 and not (f == 0 and s.startswith("-")):
        return int(go_format_float(f, "f", -1))
    return f


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity are not JSON to Go


def first_overflow(v: Any) -> Overflow | None:
    """The first number in `v` (in the text's order) that float64 cannot hold."""
    if isinstance(v, Overflow):
        return v
    if isinstance(v, _Obj):
        return v.overflow
    if isinstance(v, list):
        for x in v:
            if (o := first_overflow(x)) is not None:
                return o
    return None


def _fix(v: Any) -> Any:
    """Go decodes a lone surrogate escape to U+FFFD; Python keeps the surrogate. Objects are fixed
    by the hook as they are built, so this only walks strings and arrays."""
    if isinstance(v, str):
        if not isinstance(v, Overflow) and _SURROGATE.search(v):
            return _SURROGATE.sub("\ufffd", v)
        return v
    if isinstance(v, list):
        return [_fix(x) for x in v]
    return v


def _pairs(pairs: list[tuple[str, Any]]) -> _Obj:
    obj = _Obj()
    for k, v in pairs:
        if obj.overflow is None:
            obj.overflow = first_overflow(v)
        obj[k] = v
    return obj


def _pairs_fixing(pairs: list[tuple[str, Any]]) -> _Obj:
    fixed = []
    for k, v in pairs:
        if _SURROGATE.search(k):
            k = _BadKey(_SURROGATE.sub("\ufffd", k))
        fixed.append((k, _fix(v)))
    return _pairs(fixed)


def _decoder(hook: Any) -> json.JSONDecoder:
    return json.JSONDecoder(
        object_pairs_hook=hook, parse_float=_go_number, parse_int=_go_number, parse_constant=_reject_constant
    )


_DECODER = _decoder(_pairs)
_DECODER_FIXING = _decoder(_pairs_fixing)  # only for text with \u escapes


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


def decode(text: str) -> Any:
    """The whole document decoded, objects in the text's key order (a repeated key keeps its first
    place and its last value, as Go's sequential assignment leaves it); numbers float64 cannot hold
    stay `Overflow`. Raises GoJSONError with Go's syntax message (Go checks all the text first)."""
    escapes = "\\u" in text
    try:
        v, end = (_DECODER_FIXING if escapes else _DECODER).raw_decode(text, _skip_ws(text, 0))
        if _skip_ws(text, end) != len(text):
            raise ValueError("trailing data")
    except (ValueError, RecursionError):
        msg = syntax_error(text)
        raise GoJSONError(msg or "invalid JSON") from None  # None: Python refused deep nesting
    return _fix(v) if escapes else v


def check_numbers(v: Any) -> None:
    """Raise Go's error for the first number in `v` that float64 cannot hold."""
    o = first_overflow(v)
    if o is not None:
        raise GoJSONError(f"json: cannot unmarshal number {o} into Go value of type float64")


def sort_maps(v: Any) -> Any:
    """A decoded value with every object's keys sorted, as Go marshals a `map[string]any` (and
    plain `dict`s and `str`s, whatever the decoder built)."""
    if isinstance(v, dict):
        return {str(k): sort_maps(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        return [sort_maps(x) for x in v]
    return v


def unmarshal_ordered(text: str) -> Any:
    """`json.Unmarshal` into `any`, objects left in the text's key order (for code that walks them
    and decides itself which map is the ordered top level)."""
    v = decode(text)
    check_numbers(v)
    return v


def unmarshal(text: str) -> Any:
    """`json.Unmarshal` into `any`, as the value will be marshalled (objects sorted)."""
    return sort_maps(unmarshal_ordered(text))


def unmarshal_arguments(text: str) -> dict[str, Any]:
    """`json.Unmarshal` into `api.ToolCallFunctionArguments`: an object, keys in the text's order,
    values as `any` (nested objects sorted)."""
    return arguments_from_value(decode(text))


def arguments_from_value(v: Any) -> dict[str, Any]:
    """The ordered map's half of `unmarshal_arguments`, for a value already decoded.

    JSON `null` gives empty arguments (Ollama keeps a nil map there and writes `"arguments":null`;
    our ToolCall has no such state). Any other non-object is jsonparser's MALFORMED_OBJECT."""
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise GoJSONError(MALFORMED_OBJECT)
    if any(isinstance(k, _BadKey) for k in v):
        raise GoJSONError(MALFORMED_ESCAPE)
    check_numbers(v)
    return {str(k): sort_maps(x) for k, x in v.items()}


def json_kind(v: Any) -> str:
    """The word Go's UnmarshalTypeError uses for a decoded JSON value."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Overflow | int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def fold_name(key: str) -> str:
    """Go's `foldName`: how `encoding/json` matches an object key to a struct field, ignoring case."""
    out = []
    for ch in key:
        if ch < "\x80":
            out.append(ch.upper())
        else:
            f = ch.lower().upper()
            out.append(f if len(f) == 1 else ch)
    return "".join(out)


# --- Go's scanner (encoding/json/scanner.go), for its error messages -----------------------------


def _quote_char(ch: str) -> str:
    """`quoteChar`: Go reports the offending byte, so a non-ASCII character shows its first byte."""
    b = ch.encode("utf-8", "surrogatepass")[0]
    if b == 0x27:
        return "'\\''"
    if b == 0x22:
        return "'\"'"
    return "'" + go_quote(chr(b))[1:-1] + "'"


class _SyntaxError(Exception):
    pass


_MAX_DEPTH = 10000
_OBJ_KEY, _OBJ_VALUE, _ARR_VALUE = 0, 1, 2

State = Callable[[str], None]


class _Scanner:
    """A line-for-line port of Go's JSON scanner state machine (states named as in Go)."""

    def __init__(self) -> None:
        self.step: State = self.begin_value
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

    def _hex(self, left: int) -> State:
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

    def _literal(self, rest: str, word: str) -> State:
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
