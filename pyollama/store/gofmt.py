"""Go's byte formats where they end up on disk or on the wire.

Ollama writes manifests, config and params blobs with Go's `encoding/json` (compact, `<>&`
escaped, trailing newline from `json.Encoder`), formats floats with `%v`, quotes with `%q` and
stamps times as RFC 3339 with nanoseconds. Reproducing those bytes keeps blob digests identical
to the ones Ollama computes for the same content, so both tools can share one store. The scalar
primitives (quoting, float formatting, JSON strings) live in `pyollama.gofmt`, shared with the
template engine; they are re-exported here for the store's callers.
"""

from __future__ import annotations

import datetime as _dt
import math
import struct
from typing import Any

from pyollama.gofmt import go_float_json, go_float_v, go_quote, go_sharp_v, json_string

__all__ = [
    "dumps",
    "encode_line",
    "float32_shortest",
    "go_float_json",
    "go_float_v",
    "go_quote",
    "go_sharp_v",
    "go_v",
    "human_number",
    "rfc3339nano",
    "sorted_map",
]


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
        return json_string(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json_string(str(k))}:{dumps(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    raise TypeError(f"cannot encode {type(obj).__name__}")


def encode_line(obj: Any) -> bytes:
    """What `json.NewEncoder(w).Encode(obj)` writes: the JSON plus a newline."""
    return (dumps(obj) + "\n").encode()


def sorted_map(d: dict[str, Any]) -> dict[str, Any]:
    """Go marshals map keys sorted."""
    return {k: d[k] for k in sorted(d)}


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
