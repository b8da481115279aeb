"""Go's `strconv`: Quote, FormatFloat, ParseBool/ParseInt/ParseFloat, and float32 rounding.

The parsers raise ValueError worded as Go's `*NumError` (`strconv.ParseInt: parsing "x": invalid
syntax`) where Go returns one.
"""

from __future__ import annotations

import math
import struct

__all__ = [
    "BOOL_STRINGS",
    "float32_shortest",
    "format_e",
    "format_float",
    "parse_bool",
    "parse_float",
    "parse_int",
    "quote",
    "shortest_digits",
]

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


def quote(s: str) -> str:
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


def shortest_digits(f: float) -> tuple[str, int]:
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


def format_e(neg: bool, digits: str, dp: int) -> str:
    """Shortest %e: `d.ddde±XX` with at least two exponent digits."""
    exp = dp - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return ("-" if neg else "") + mant + "e" + ("-" if exp < 0 else "+") + f"{abs(exp):02d}"


def format_float(f: float, fmt_char: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(f, fmt_char, prec, 64) for 'g', 'e', 'f' (prec -1 = shortest)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = f < 0 or (f == 0 and math.copysign(1.0, f) < 0)
    if fmt_char == "f":
        if prec < 0:
            digits, dp = shortest_digits(f)
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
            digits, dp = shortest_digits(f)
            return format_e(neg, digits, dp)
        s = f"{f:.{prec}e}"
        mant, _, e = s.partition("e")
        ei = int(e)
        return f"{mant}e{'-' if ei < 0 else '+'}{abs(ei):02d}"
    # 'g'
    if prec < 0:
        if f == 0:
            return ("-" if neg else "") + "0"
        digits, dp = shortest_digits(f)
        exp = dp - 1
        if exp < -4 or exp >= 6:  # shortest: Go decides with precision 6
            return format_e(neg, digits, dp)
        return format_float(f, "f", -1)
    s = f"{f:.{prec}g}"
    if "e" in s:
        mant, _, e = s.partition("e")
        ei = int(e)
        s = f"{mant}e{'-' if ei < 0 else '+'}{abs(ei):02d}"
    return s


BOOL_STRINGS: dict[str, bool] = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


def _num_error(func: str, s: str, why: str) -> ValueError:
    """Go's `NumError.Error()`: the function, the quoted input and the reason."""
    return ValueError(f"strconv.{func}: parsing {quote(s)}: {why}")


def parse_bool(s: str) -> bool:
    """`strconv.ParseBool`: the twelve spellings Go accepts; anything else is a ValueError."""
    try:
        return BOOL_STRINGS[s]
    except KeyError:
        raise _num_error("ParseBool", s, "invalid syntax") from None


_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_int(s: str) -> int:
    """`strconv.ParseInt(s, 10, 64)`: an optional sign and ASCII digits only (no underscores, no
    spaces: Python's `int()` takes both), within int64."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not all(c in _DIGITS for c in body):
        raise _num_error("ParseInt", s, "invalid syntax")
    n = int(s)
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise _num_error("ParseInt", s, "value out of range")
    return n


def _underscore_ok(s: str) -> bool:
    """`strconv.underscoreOK`: underscores only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i, saw, hexa = 2, "0", s[1].lower() == "x"
    for c in s[i:]:
        if c in _DIGITS or (hexa and c in _HEX_DIGITS):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"


def _float_syntax(s: str) -> bool:
    """`strconv.readFloat`'s grammar over the whole string: decimal or hex (with a `p` exponent)."""
    i, n = 0, len(s)
    if i < n and s[i] in "+-":
        i += 1
    base16 = i + 2 < n and s[i] == "0" and s[i + 1] in "xX"
    if base16:
        i += 2
    digits = _HEX_DIGITS if base16 else _DIGITS
    saw_dot = saw_digits = underscores = False
    while i < n:
        c = s[i]
        if c == "_":
            underscores = True
        elif c == ".":
            if saw_dot:
                break
            saw_dot = True
        elif c in digits:
            saw_digits = True
        else:
            break
        i += 1
    if not saw_digits:
        return False
    if i < n and s[i].lower() == ("p" if base16 else "e"):
        i += 1
        if i < n and s[i] in "+-":
            i += 1
        if i >= n or s[i] not in _DIGITS:
            return False
        while i < n and (s[i] in _DIGITS or s[i] == "_"):
            underscores = underscores or s[i] == "_"
            i += 1
    elif base16:
        return False
    if underscores and not _underscore_ok(s[:i]):
        return False
    return i == n


def parse_float(s: str) -> float:
    """`strconv.ParseFloat(s, 64)`: decimal and hex floats, `_` between digits, `inf`/`infinity`
    (any case, signed) and `nan` (any case, unsigned). A value beyond float64 is Go's range error
    (Go also returns ±Inf with it; every caller here treats it as a failure)."""
    body = s[1:] if s[:1] in ("+", "-") else s
    low = body.lower()
    if low in ("inf", "infinity"):
        return float("-inf") if s[0] == "-" else float("inf")
    if low == "nan" and body == s:
        return float("nan")
    if not _float_syntax(s):
        raise _num_error("ParseFloat", s, "invalid syntax")
    clean = s.replace("_", "")
    try:
        f = float.fromhex(clean) if "x" in clean[:3].lower() else float(clean)
    except OverflowError:
        f = float("inf")
    if math.isinf(f):
        raise _num_error("ParseFloat", s, "value out of range")
    return f


def float32_shortest(x: float) -> float:
    """Round to float32 and back to the shortest decimal that names it (Go's `float32(v)`)."""
    try:
        f32 = struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        raise ValueError("value out of range") from None
    if math.isinf(f32) and not math.isinf(x):
        raise ValueError("value out of range")
    if math.isnan(f32) or math.isinf(f32) or f32 == 0:
        return float(f32)
    for p in range(1, 10):
        cand = float(f"{f32:.{p}g}")
        if struct.unpack("<f", struct.pack("<f", cand))[0] == f32:
            return cand
    return float(f32)
