from __future__ import annotations

import math

import pytest

from pyollama.go import time as gotime


def test_rfc3339_trims_nanoseconds() -> None:
    s = gotime.rfc3339(1_700_000_000_123_456_789, utc=False)
    assert ".123456789" in s and s[4] == "-" and s[10] == "T"
    assert "." not in gotime.rfc3339(1_700_000_000_000_000_000)
    assert gotime.rfc3339(1_700_000_000_500_000_000) == "2023-11-14T22:13:20.5Z"


def test_forever_lands_in_2262() -> None:
    assert gotime.rfc3339_after(math.inf, now_ns=0).startswith("2262-")


@pytest.mark.parametrize(
    ("text", "secs"), [("5m", 300), ("1h30m", 5400), ("-1s", -1), ("0", 0), ("1.5s", 1.5), ("300ms", 0.3)]
)
def test_parse_duration(text: str, secs: float) -> None:
    assert gotime.parse_duration(text) == pytest.approx(secs)


@pytest.mark.parametrize(
    ("bad", "msg"),
    [
        ("300", 'time: missing unit in duration "300"'),
        ("x", 'time: invalid duration "x"'),
        ("5y", 'time: unknown unit "y" in duration "5y"'),
        ("", 'time: invalid duration ""'),
    ],
)
def test_parse_duration_errors(bad: str, msg: str) -> None:
    with pytest.raises(gotime.DurationError) as exc:
        gotime.parse_duration(bad)
    assert str(exc.value) == msg


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (999, "999ns"),
        (1500, "1.5µs"),
        (97_885_315, "97.885315ms"),
        (1_346_030_951, "1.346030951s"),
        (163_589_481_292, "2m43.589481292s"),
        (3_600_000_000_000, "1h0m0s"),
        (2_000_000, "2ms"),
    ],
)
def test_duration_string(ns: int, text: str) -> None:
    assert gotime.duration_string(ns) == text
