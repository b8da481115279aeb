"""Go's `strconv`: Quote, FormatFloat, ParseBool, and float32 rounding (what `float32(v)` keeps)."""

from __future__ import annotations

import math
import struct

__all__ = [
    "BOOL_STRINGS",
    "float32_shortest",
    "format_e",
    "format_float",
    "parse_bool",
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


def parse_bool(s: str) -> bool:
    """`strconv.ParseBool`: the twelve spellings Go accepts; anything else is a ValueError."""
    try:
        return BOOL_STRINGS[s]
    except KeyError:
        raise ValueError(f'strconv.ParseBool: parsing "{s}": invalid syntax') from None


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
