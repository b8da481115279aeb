"""Go's `encoding/json`: marshalling as Go writes it, and `json.Unmarshal` into `any` as Go decodes.

Marshalling is compact, `<>&` and U+2028/U+2029 escaped (HTML escaping can be turned off, as an
Encoder's `SetEscapeHTML(false)` does), with Go's float form; since Go 1.22 `\\b`/`\\f` are written
as such rather than `\\u0008`/`\\u000c`. A dict is a struct by default (its order kept) or, with
`maps_sorted`, a Go map (keys sorted) unless it is an ordered map (an `ordered` attribute).

Decoding into `any` gives the Python values that print as Go's do:

- Numbers are float64. A whole number prints without a fraction (`1.0` -> `1`, `1e2` -> `100`) and a
  huge one loses digits, so whole values below 1e21 come back as the `int` whose digits Go prints
  (`number`); other numbers stay `float` (NaN and infinities are not JSON). A number float64 cannot
  hold is an error (`json: cannot unmarshal number 1e400 into Go value of type float64`).
- Objects become `map[string]any`, which Go marshals with sorted keys, so they come back sorted. The
  top level of a tool call's arguments is an ordered map in Ollama (`api.ToolCallFunctionArguments`)
  and keeps the text's order (`unmarshal_arguments`).
- A `\\u` escape of a lone UTF-16 surrogate decodes to U+FFFD.
- A text that is not JSON fails with Go's scanner message (`pyollama.go.jsonscan`).

Python's `json` does the decoding; the port of Go's scanner runs only to word a syntax error.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from typing import Any

from pyollama.go.jsonscan import syntax_error
from pyollama.go.strconv import format_e, format_float, shortest_digits

__all__ = [
    "MALFORMED_ESCAPE",
    "MALFORMED_OBJECT",
    "JSONError",
    "Overflow",
    "RawMessage",
    "arguments_from_value",
    "check_numbers",
    "decode",
    "encode_line",
    "first_overflow",
    "float_string",
    "fold_name",
    "kind",
    "marshal",
    "number",
    "sort_maps",
    "sorted_map",
    "string",
    "syntax_error",
    "unmarshal",
    "unmarshal_arguments",
    "unmarshal_ordered",
]


# --- marshalling ---------------------------------------------------------------------------------

_JSON_ESC = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_NEEDS_ESC_HTML = re.compile(r'["\\\x00-\x1f<>&\u2028\u2029\ud800-\udfff]')
_NEEDS_ESC_PLAIN = re.compile(r'["\\\x00-\x1f\u2028\u2029\ud800-\udfff]')


def _json_esc(m: re.Match[str]) -> str:
    ch = m.group(0)
    e = _JSON_ESC.get(ch)
    if e is not None:
        return e
    if 0xD800 <= ord(ch) <= 0xDFFF:  # lone surrogate: Go writes U+FFFD for invalid UTF-8
        return "\ufffd"
    return f"\\u{ord(ch):04x}"


def string(s: str, *, escape_html: bool = True) -> str:
    """An `encoding/json` string; HTML escaping is on by default, as in Marshal and a new Encoder
    (U+2028 and U+2029 are escaped even with it off)."""
    pattern = _NEEDS_ESC_HTML if escape_html else _NEEDS_ESC_PLAIN
    return '"' + pattern.sub(_json_esc, s) + '"'


def float_string(f: float) -> str:
    """`encoding/json` float64: 'f' unless tiny/huge, then 'e' with `e-7` not `e-07`.

    NaN and infinities raise ValueError, as `json.Marshal` fails on them.
    """
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"json: unsupported value: {format_float(f, 'g', -1)}")
    if f == 0:
        return "0" if math.copysign(1.0, f) > 0 else "-0"
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        digits, dp = shortest_digits(f)
        s = format_e(f < 0, digits, dp)
        if s[-4] == "e" and s[-3] == "-" and s[-2] == "0":  # Go: clean up e-09 to e-9
            s = s[:-2] + s[-1]
        return s
    return format_float(f, "f", -1)


def _float64(n: int) -> float:
    """A Python int as the float64 Go holds for it (beyond float64 it is +-Inf, which fails to marshal)."""
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


class RawMessage(str):
    """`json.RawMessage`: text that is JSON already, written as it is (Go compacts it; ours is)."""


def marshal(
    obj: Any,
    *,
    maps_sorted: bool = False,
    nan_null: bool = False,
    escape_html: bool = True,
    float64: bool = False,
    convert: Callable[[Any], Any] | None = None,
) -> str:
    """`json.Marshal` of plain data, compact.

    A dict stands for a Go struct by default (its order is the field order, kept); with
    `maps_sorted` plain dicts are Go maps and marshal with sorted keys, except dicts that are
    ordered maps (an `ordered` attribute, Ollama's orderedmap types), and values of other types
    marshal as their `str`. Objects with a `go_json()` method marshal themselves (a Go
    `MarshalJSON`), as does a `RawMessage`. NaN and infinities fail as in Go, or become `null` with
    `nan_null` (a prompt is better off with null than with no prompt). `escape_html=False` is an
    Encoder after `SetEscapeHTML(false)`; with `float64` every number is a float64 (JSON decoded
    into `any`), so an `int` prints as Go prints that float64 (`1e+21`). `convert`, when given, is
    applied to every value first: how the caller's own types become the values Go would marshal.
    """
    if convert is not None:
        obj = convert(obj)
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, RawMessage):
        return str(obj)
    custom = getattr(obj, "go_json", None)
    if custom is not None:
        return str(custom())
    if isinstance(obj, int):
        if not float64:
            return str(obj)
        obj = _float64(obj)
    if isinstance(obj, float):
        if nan_null and (math.isnan(obj) or math.isinf(obj)):
            return "null"
        return float_string(obj)
    if isinstance(obj, str):
        return string(obj, escape_html=escape_html)
    if isinstance(obj, bytes):
        return '"' + base64.b64encode(obj).decode() + '"'
    kw: dict[str, Any] = {
        "maps_sorted": maps_sorted,
        "nan_null": nan_null,
        "escape_html": escape_html,
        "float64": float64,
        "convert": convert,
    }
    if isinstance(obj, dict):
        keys = sorted(obj, key=str) if maps_sorted and not getattr(obj, "ordered", False) else list(obj)
        return (
            "{"
            + ",".join(f"{string(str(k), escape_html=escape_html)}:{marshal(obj[k], **kw)}" for k in keys)
            + "}"
        )
    if isinstance(obj, list | tuple):
        return "[" + ",".join(marshal(v, **kw) for v in obj) + "]"
    if maps_sorted:
        return string(str(obj), escape_html=escape_html)
    raise TypeError(f"json: unsupported type: {type(obj).__name__}")


def encode_line(obj: Any) -> bytes:
    """What `json.NewEncoder(w).Encode(obj)` writes: the JSON plus a newline."""
    return (marshal(obj) + "\n").encode()


def sorted_map(d: dict[str, Any]) -> dict[str, Any]:
    """Go marshals map keys sorted (a map built by hand, one level)."""
    return {k: d[k] for k in sorted(d)}


# --- unmarshalling into any ----------------------------------------------------------------------

MALFORMED_OBJECT = "Value looks like object, but can't find closing '}' symbol"
"""jsonparser's error, which the ordered map behind `api.ToolCallFunctionArguments` returns for a
JSON value that is not an object."""

MALFORMED_ESCAPE = "Encountered an invalid escape sequence in a string"
"""jsonparser's error for a key of that map with a lone UTF-16 surrogate escape."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = " \t\n\r"


class JSONError(ValueError):
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


def number(f: float) -> int | float:
    """A float64 as the Python value that `encoding/json` (and `%v`) prints the same way: whole
    values below 1e21, which Go prints in plain digits, become the integer those digits spell
    (`1e20` -> 100000000000000000000, `2**60` -> 1152921504606847000); `-0` stays a float."""
    if f.is_integer() and abs(f) < 1e21 and not (f == 0 and math.copysign(1.0, f) < 0):
        return int(format_float(f, "f", -1))
    return f


def _go_number(s: str) -> int | float | Overflow:
    """A JSON number literal as Go's float64."""
    f = float(s)
    if math.isinf(f):
        return Overflow(s)
    return number(f)


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
    stay `Overflow`. Raises JSONError with Go's syntax message (Go checks all the text first)."""
    escapes = "\\u" in text
    try:
        v, end = (_DECODER_FIXING if escapes else _DECODER).raw_decode(text, _skip_ws(text, 0))
        if _skip_ws(text, end) != len(text):
            raise ValueError("trailing data")
    except (ValueError, RecursionError):
        msg = syntax_error(text)
        raise JSONError(msg or "invalid JSON") from None  # None: Python refused deep nesting
    return _fix(v) if escapes else v


def check_numbers(v: Any) -> None:
    """Raise Go's error for the first number in `v` that float64 cannot hold."""
    o = first_overflow(v)
    if o is not None:
        raise JSONError(f"json: cannot unmarshal number {o} into Go value of type float64")


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
        raise JSONError(MALFORMED_OBJECT)
    if any(isinstance(k, _BadKey) for k in v):
        raise JSONError(MALFORMED_ESCAPE)
    check_numbers(v)
    return {str(k): sort_maps(x) for k, x in v.items()}


def kind(v: Any) -> str:
    """The word Go's UnmarshalTypeError uses for a decoded JSON value (`cannot unmarshal <kind>`)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Overflow | int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list | tuple):
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
