"""Go's `encoding/json` marshalling: compact, `<>&` and U+2028/U+2029 escaped, Go's float form.

Since Go 1.22 `\\b`/`\\f` are written as such rather than `\\u0008`/`\\u000c`. Maps marshal with
sorted keys (`sorted_map`); `marshal` keeps a dict's order so ordered maps can pass through.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pyollama.go.strconv import format_e, format_float, shortest_digits

__all__ = ["encode_line", "float_string", "marshal", "sorted_map", "string"]


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
_JSON_NEEDS_ESC = re.compile(r'["\\\x00-\x1f<>&\u2028\u2029\ud800-\udfff]')


def _json_esc(m: re.Match[str]) -> str:
    ch = m.group(0)
    e = _JSON_ESC.get(ch)
    if e is not None:
        return e
    if 0xD800 <= ord(ch) <= 0xDFFF:  # lone surrogate: Go writes U+FFFD for invalid UTF-8
        return "\ufffd"
    return f"\\u{ord(ch):04x}"


def string(s: str) -> str:
    """`encoding/json` string with HTML escaping on (Go's default for Marshal and Encoder)."""
    return '"' + _JSON_NEEDS_ESC.sub(_json_esc, s) + '"'


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


def marshal(obj: Any, *, maps_sorted: bool = False, nan_null: bool = False) -> str:
    """`json.Marshal` of plain data, compact.

    A dict stands for a Go struct by default (its order is the field order, kept); with
    `maps_sorted` plain dicts are Go maps and marshal with sorted keys, except dicts that are
    ordered maps (an `ordered` attribute, Ollama's orderedmap types). Objects with a `go_json()`
    method marshal themselves (a Go `MarshalJSON`). NaN and infinities fail as in Go, or become
    `null` with `nan_null` (a prompt is better off with null than with no prompt).
    """
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    custom = getattr(obj, "go_json", None)
    if custom is not None:
        return str(custom())
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        if nan_null and (math.isnan(obj) or math.isinf(obj)):
            return "null"
        return float_string(obj)
    if isinstance(obj, str):
        return string(obj)
    if isinstance(obj, bytes):
        import base64

        return '"' + base64.b64encode(obj).decode() + '"'
    kw = {"maps_sorted": maps_sorted, "nan_null": nan_null}
    if isinstance(obj, dict):
        keys = sorted(obj, key=str) if maps_sorted and not getattr(obj, "ordered", False) else list(obj)
        return "{" + ",".join(f"{string(str(k))}:{marshal(obj[k], **kw)}" for k in keys) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(marshal(v, **kw) for v in obj) + "]"
    if maps_sorted:
        return string(str(obj))
    raise TypeError(f"cannot encode {type(obj).__name__}")


def encode_line(obj: Any) -> bytes:
    """What `json.NewEncoder(w).Encode(obj)` writes: the JSON plus a newline."""
    return (marshal(obj) + "\n").encode()


def sorted_map(d: dict[str, Any]) -> dict[str, Any]:
    """Go marshals map keys sorted."""
    return {k: d[k] for k in sorted(d)}
