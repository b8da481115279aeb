"""Go's `fmt` verbs: `%v` and `%#v` of scalars, and `%v`/`%T` of what `encoding/json` decodes into `any`.

Template values (structs, ordered maps, Stringers) print through the template engine's own `%v`;
the `*_any` functions here print plain JSON values as Go holds them once decoded: every number a
float64, objects `map[string]interface {}` (printed with sorted keys), arrays `[]interface {}`.
"""

from __future__ import annotations

from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strconv import format_float, quote

__all__ = ["float_v", "sharp_v", "t_any", "v", "v_any"]


def float_v(f: float) -> str:
    """`%v` of a float64: `%g` with the shortest digits (`1e+06`, `123456`, `1e-05`)."""
    return format_float(f, "g", -1)


def sharp_v(value: Any) -> str:
    """`%#v` of a scalar (nil, bool, int, float64, string); other kinds fall back to `repr`.

    Whole floats print as `1`, not `1.0` (Go's fmt_test: `{"%#v", 1.0, "1"}`).
    """
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_v(value)
    if isinstance(value, str):
        return quote(value)
    return repr(value)


def v(value: Any) -> str:
    """`%v` of a JSON-decoded scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float_v(value)
    return str(value)


def v_any(value: Any) -> str:
    """`fmt.Sprintf("%v", value)` of a value decoded into `any`: numbers print as float64 (an int
    too: `1e+06`), maps as `map[k:v ...]` with sorted keys, slices as `[a b]`, nil as `<nil>`."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        try:
            return float_v(float(value))
        except OverflowError:
            return "+Inf" if value > 0 else "-Inf"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{v_any(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(v_any(x) for x in value) + "]"
    return str(value)


_TYPE_OF_KIND = {
    "null": "<nil>",
    "bool": "bool",
    "number": "float64",
    "string": "string",
    "array": "[]interface {}",
    "object": "map[string]interface {}",
}


def t_any(value: Any) -> str:
    """`%T` of a value decoded into `any` (`float64`, `[]interface {}`, ...)."""
    return _TYPE_OF_KIND[go_json.kind(value)]
