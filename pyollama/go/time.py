"""Go's `time` as Ollama's JSON shows it: RFC 3339 with trimmed nanoseconds, and durations.

`time.Time` marshals as RFC 3339 with up to nine fraction digits, trailing zeros trimmed, `Z` for
UTC or a `+hh:mm` offset (local times: `modified_at`, `expires_at`); `time.ParseDuration` needs a
unit except for "0"; `Duration.String()` prints `1m2.5s` and `97.885315ms`.
"""

from __future__ import annotations

import functools
import math
import re
import time
from datetime import UTC, datetime

__all__ = [
    "FOREVER_NS",
    "DurationError",
    "duration_string",
    "parse_duration",
    "rfc3339",
    "rfc3339_after",
]

FOREVER_NS = 9_223_372_036_854_775_807  # Go's math.MaxInt64 duration


def rfc3339(ns: int | None = None, *, utc: bool = True) -> str:
    """A `time.Time` (now when `ns` is None) as Go's JSON writes it; `utc=False` uses the local zone."""
    if ns is None:
        ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    base, zone = _second(secs, utc)
    fraction = f".{frac:09d}".rstrip("0") if frac else ""
    return f"{base}{fraction}{zone}"


@functools.lru_cache(maxsize=64)
def _second(secs: int, utc: bool) -> tuple[str, str]:
    """The date, time and zone of one second (every streamed line has a created_at: formatting
    each from scratch cost more than the rest of the line)."""
    dt = datetime.fromtimestamp(secs, tz=UTC)
    if not utc:
        dt = dt.astimezone()
    offset = dt.strftime("%z")
    zone = "Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S"), zone


def rfc3339_after(seconds: float, *, now_ns: int | None = None) -> str:
    """`now + duration` in the local zone; forever lands in year 2262 like Go's MaxInt64 cap."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    if math.isinf(seconds):
        # Ollama's forever expiry prints a far-future date (the CLI shows "Forever")
        return rfc3339(min(now_ns + FOREVER_NS, 10_000_000_000 * 1_000_000_000 - 1), utc=False)
    return rfc3339(now_ns + int(seconds * 1e9), utc=False)


class DurationError(ValueError):
    pass


_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_NUMBER = re.compile(r"\d*(?:\.\d*)?")
_UNIT = re.compile(r"[^\d.]*")


def parse_duration(text: str) -> float:
    """`time.ParseDuration`, in seconds (a unit is required except for "0"); errors as Go words them."""
    s = text
    sign = 1.0
    if s[:1] in ("+", "-"):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise DurationError(f'time: invalid duration "{text}"')
    total = 0.0
    pos = 0
    while pos < len(s):
        num = _NUMBER.match(s, pos)
        digits = num.group(0) if num else ""
        if digits in ("", "."):
            raise DurationError(f'time: invalid duration "{text}"')
        pos += len(digits)
        unit_m = _UNIT.match(s, pos)
        unit = unit_m.group(0) if unit_m else ""
        if not unit:
            raise DurationError(f'time: missing unit in duration "{text}"')
        if unit not in _UNITS:
            raise DurationError(f'time: unknown unit "{unit}" in duration "{text}"')
        pos += len(unit)
        total += float(digits) * _UNITS[unit]
    return sign * total


def _frac(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def duration_string(ns: int) -> str:
    """`time.Duration.String()`: `1m2.5s`, `97.885315ms`, `0s`."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_frac(u, 1000)}µs"
    if u < 1_000_000_000:
        return f"{sign}{_frac(u, 1_000_000)}ms"
    h, rest = divmod(u, 3600 * 10**9)
    m, rest = divmod(rest, 60 * 10**9)
    out = f"{h}h" if h else ""
    if h or m:
        out += f"{m}m"
    return f"{sign}{out}{_frac(rest, 10**9)}s"
