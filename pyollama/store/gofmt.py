"""Go's byte formats where they end up on disk or on the wire.

Ollama writes manifests, config and params blobs with Go's `encoding/json` (compact, `<>&`
escaped, trailing newline from `json.Encoder`), formats floats with `%v`, quotes with `%q` and
stamps times as RFC 3339 with nanoseconds. Reproducing those bytes keeps blob digests identical
to the ones Ollama computes for the same content, so both tools can share one store.
"""

from __future__ import annotations

import datetime as _dt
import math
import struct
from decimal import Decimal
from typing import Any

_JSON_ESCAPES = {
    '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
}


def _json_str(s: str) -> str:
    out = ['"']
    for c in s:
        e = _JSON_ESCAPES.get(c)
        if e is not None:
            out.append(e)
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        elif 0xD800 <= ord(c) <= 0xDFFF:  # lone surrogate: Go writes U+FFFD
            out.append("\ufffd")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _digits_exp(x: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of |x| and the decimal exponent of the first digit."""
    d = Decimal(repr(abs(x))).normalize()
    _sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    ds = "".join(map(str, digits))
    return ds, exp + len(ds) - 1


def _fmt_e(neg: bool, ds: str, e: int) -> str:
    mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
    return f"{'-' if neg else ''}{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"


def _fmt_f(neg: bool, ds: str, e: int) -> str:
    if e < 0:
        s = "0." + "0" * (-e - 1) + ds
    elif e + 1 >= len(ds):
        s = ds + "0" * (e + 1 - len(ds))
    else:
        s = ds[: e + 1] + "." + ds[e + 1:]
    return ("-" if neg else "") + s


def go_float_json(x: float) -> str:
    """`encoding/json` float64: 'f' unless tiny/huge, then 'e' with `e-7` not `e-07`."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"json: unsupported value: {x}")
    if x == 0:
        return "-0" if math.copysign(1, x) < 0 else "0"
    ds, e = _digits_exp(x)
    neg = x < 0
    if abs(x) < 1e-6 or abs(x) >= 1e21:
        s = _fmt_e(neg, ds, e)
        if s[-4] == "e" and s[-3] == "-" and s[-2] == "0":
            s = s[:-2] + s[-1]
        return s
    return _fmt_f(neg, ds, e)


def go_float_v(x: float) -> str:
    """`fmt.Sprintf("%v", float64)`: shortest %g with the exponent switch at 1e-4 / 1e6."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1, x) < 0 else "0"
    ds, e = _digits_exp(x)
    if e < -4 or e >= 6:
        return _fmt_e(x < 0, ds, e)
    return _fmt_f(x < 0, ds, e)


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


def dumps(obj: Any) -> str:
    """Go `json.Marshal` of plain data; dict order is kept (callers sort maps, as Go does)."""
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        return go_float_json(obj)
    if isinstance(obj, str):
        return _json_str(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{_json_str(str(k))}:{dumps(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    raise TypeError(f"cannot encode {type(obj).__name__}")


def encode_line(obj: Any) -> bytes:
    """What `json.NewEncoder(w).Encode(obj)` writes: the JSON plus a newline."""
    return (dumps(obj) + "\n").encode()


def sorted_map(d: dict[str, Any]) -> dict[str, Any]:
    """Go marshals map keys sorted."""
    return {k: d[k] for k in sorted(d)}


def go_quote(s: str) -> str:
    """`strconv.Quote` / `%q` / `%#v` of a string."""
    out = ['"']
    for c in s:
        o = ord(c)
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                        "\t": "\\t", "\v": "\\v"}[c])
        elif c.isprintable() or c == " ":
            out.append(c)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


def go_sharp_v(v: Any) -> str:
    """`%#v` of a JSON-decoded value (what `show` prints in `parameters`)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float_v(v)
    if isinstance(v, str):
        return go_quote(v)
    return repr(v)


def go_v(v: Any) -> str:
    """`%v` of a JSON-decoded scalar."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return go_float_v(v)
    return str(v)


def rfc3339nano(ns: int) -> str:
    """A Go `time.Time` (local zone) as JSON: RFC 3339 with trimmed nanoseconds."""
    secs, frac = divmod(ns, 1_000_000_000)
    t = _dt.datetime.fromtimestamp(secs).astimezone()
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    fs = f".{frac:09d}".rstrip("0") if frac else ""
    off = t.utcoffset() or _dt.timedelta(0)
    if off == _dt.timedelta(0):
        zone = "Z"
    else:
        total = int(off.total_seconds())
        sign = "+" if total >= 0 else "-"
        total = abs(total)
        zone = f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"
    return base + fs + zone


def human_number(n: int) -> str:
    """Ollama's `format.HumanNumber` (parameter sizes such as `134.52M`, `3.2B`)."""
    if n >= 1_000_000_000_000:
        return f"{n / 1e12:.0f}T"
    if n >= 1_000_000_000:
        v = n / 1e9
        return f"{v:.0f}B" if v == int(v) else f"{v:.1f}B"
    if n >= 1_000_000:
        v = n / 1e6
        return f"{v:.0f}M" if v == int(v) else f"{v:.2f}M"
    if n >= 1000:
        return f"{n / 1e3:.0f}K"
    return str(n)
