"""Go's `fmt` verbs for scalars: `%v` and `%#v` (composite values are the template engine's)."""

from __future__ import annotations

from typing import Any

from pyollama.go.strconv import format_float, quote

__all__ = ["float_v", "sharp_v", "v"]


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
