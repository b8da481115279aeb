"""Go's text formats for scalars: `strconv.Quote`, `strconv.FormatFloat`, `%v`/`%#v` and `encoding/json`.

One implementation shared by the store (bytes on disk whose digests must equal Ollama's) and the
template engine (prompts rendered byte for byte as Ollama renders them), so both follow the same
Go rules: `%v` of a float64 is shortest `%g` (`1e+06`, `123456`, `1e-05`), `%#v` prints whole
floats without decimals (`1`, Go issue 27634), and `encoding/json` escapes `<>&`, U+2028/U+2029
and, since Go 1.22, writes `\\b`/`\\f` instead of `\\u0008`/`\\u000c`.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "go_float_json",
    "go_float_v",
    "go_format_float",
    "go_quote",
    "go_sharp_v",
    "json_string",
]


# --- strconv.Quote -------------------------------------------------------------------------------

_QUOTE_ESC = {
    '"': '\\"',
    "\\": "\\\\",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def go_quote(s: str) -> str:
    """`strconv.Quote` / `%q` / `%#v` of a string: printable runes kept, others escaped."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        e = _QUOTE_ESC.get(ch)
        if e is not None:
            out.append(e)
        elif c < 0x20 or c == 0x7F:
            out.append(f"\\x{c:02x}")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif c < 0x10000:
            out.append(f"\\u{c:04x}")
        else:
            out.append(f"\\U{c:08x}")
    out.append('"')
    return "".join(out)


# --- strconv.FormatFloat -------------------------------------------------------------------------


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of |f| and the decimal point position (Go's `decimal`)."""
    r = repr(abs(f))
    mant, _, exp_s = r.partition("e")
    exp = int(exp_s) if exp_s else 0
    int_part, _, frac = mant.partition(".")
    digits = (int_part + frac).lstrip("0")
    lead = len(int_part + frac) - len((int_part + frac).lstrip("0"))
    dp = len(int_part) + exp - lead
    digits = digits.rstrip("0")
    if not digits:
        return "0", 1
    return digits, dp


def _fmt_e(neg: bool, digits: str, dp: int) -> str:
    """Shortest %e: `d.ddde±XX` with at least two exponent digits."""
    exp = dp - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return ("-" if neg else "") + mant + "e" + ("-" if exp < 0 else "+") + f"{abs(exp):02d}"


def go_format_float(f: float, fmt_char: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(f, fmt_char, prec, 64) for 'g', 'e', 'f' (prec -1 = shortest)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = f < 0 or (f == 0 and math.copysign(1.0, f) < 0)
    if fmt_char == "f":
        if prec < 0:
            digits, dp = _shortest_digits(f)
            if f == 0:
                return ("-" if neg else "") + "0"
            if dp <= 0:
                s = "0." + "0" * (-dp) + digits
            elif dp >= len(digits):
                s = digits + "0" * (dp - len(digits))
            else:
                s = digits[:dp] + "." + digits[dp:]
            return ("-" if neg else "") + s
        return f"{f:.{prec}f}"
    if fmt_char == "e":
        if prec < 0:
            digits, dp = _shortest_digits(f)
            return _fmt_e(neg, digits, dp)
        s = f"{f:.{prec}e}"
        mant, _, e = s.partition("e")
        ei = int(e)
        return f"{mant}e{'-' if ei < 0 else '+'}{abs(ei):02d}"
    # 'g'
    if prec < 0:
        if f == 0:
            return ("-" if neg else "") + "0"
        digits, dp = _shortest_digits(f)
        exp = dp - 1
        if exp < -4 or exp >= 6:  # shortest: Go decides with precision 6
            return _fmt_e(neg, digits, dp)
        return go_format_float(f, "f", -1)
    s = f"{f:.{prec}g}"
    if "e" in s:
        mant, _, e = s.partition("e")
        ei = int(e)
        s = f"{mant}e{'-' if ei < 0 else '+'}{abs(ei):02d}"
    return s


def go_float_v(f: float) -> str:
    """`%v` of a float64: `%g` with the shortest digits (`1e+06`, `123456`, `1e-05`)."""
    return go_format_float(f, "g", -1)


# --- fmt %#v of scalars --------------------------------------------------------------------------


def go_sharp_v(v: Any) -> str:
    """`%#v` of a scalar (nil, bool, int, float64, string); other kinds fall back to `repr`.

    Whole floats print as `1`, not `1.0` (Go's fmt_test: `{"%#v", 1.0, "1"}`).
    """
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float_v(v)
    if isinstance(v, str):
        return go_quote(v)
    return repr(v)


# --- encoding/json -------------------------------------------------------------------------------

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


def json_string(s: str) -> str:
    """`encoding/json` string with HTML escaping on (Go's default for Marshal and Encoder)."""
    return '"' + _JSON_NEEDS_ESC.sub(_json_esc, s) + '"'


def go_float_json(f: float) -> str:
    """`encoding/json` float64: 'f' unless tiny/huge, then 'e' with `e-7` not `e-07`.

    NaN and infinities raise ValueError, as `json.Marshal` fails on them.
    """
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"json: unsupported value: {go_float_v(f)}")
    if f == 0:
        return "0" if math.copysign(1.0, f) > 0 else "-0"
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        digits, dp = _shortest_digits(f)
        s = _fmt_e(f < 0, digits, dp)
        if s[-4] == "e" and s[-3] == "-" and s[-2] == "0":  # Go: clean up e-09 to e-9
            s = s[:-2] + s[-1]
        return s
    return go_format_float(f, "f", -1)
