from __future__ import annotations

import math

import pytest

from pyollama.go import strconv


def test_quote() -> None:
    assert strconv.quote('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert strconv.quote("a\x7f\u00a0\U0001f600\x00") == '"a\\x7f\\u00a0\U0001f600\\x00"'


def test_float32_shortest() -> None:
    assert strconv.float32_shortest(0.7) == 0.7
    assert strconv.float32_shortest(0.1) == 0.1
    with pytest.raises(ValueError):
        strconv.float32_shortest(1e40)


def test_parse_bool_takes_gos_twelve_spellings() -> None:
    assert [strconv.parse_bool(s) for s in ("1", "t", "T", "TRUE", "true", "True")] == [True] * 6
    assert [strconv.parse_bool(s) for s in ("0", "f", "F", "FALSE", "false", "False")] == [False] * 6
    with pytest.raises(ValueError, match='parsing "yes": invalid syntax'):
        strconv.parse_bool("yes")


@pytest.mark.parametrize(
    ("s", "want"),
    [("42", 42), ("-7", -7), ("+7", 7), ("007", 7), ("9223372036854775807", 2**63 - 1),
     ("-9223372036854775808", -(2**63))],
)  # fmt: skip
def test_parse_int(s: str, want: int) -> None:
    assert strconv.parse_int(s) == want


@pytest.mark.parametrize(
    ("s", "why"),
    [("9223372036854775808", "value out of range"), ("1_000", "invalid syntax"), (" 1", "invalid syntax"),
     ("1.0", "invalid syntax"), ("", "invalid syntax"), ("-", "invalid syntax"),
     ("\u0661\u0662", "invalid syntax"), ("0x10", "invalid syntax")],
)  # fmt: skip
def test_parse_int_errors_are_gos(s: str, why: str) -> None:
    with pytest.raises(ValueError) as e:
        strconv.parse_int(s)
    assert str(e.value) == f"strconv.ParseInt: parsing {strconv.quote(s)}: {why}"


@pytest.mark.parametrize(
    ("s", "want"),
    [("3.14", 3.14), ("1.", 1.0), (".5", 0.5), ("-1e3", -1000.0), ("1E+2", 100.0), ("1_000.5", 1000.5),
     ("0x1p-2", 0.25), ("0X1.8P1", 3.0), ("0x_1p0", 1.0), ("inf", math.inf), ("-Infinity", -math.inf),
     ("+INF", math.inf), ("1e-400", 0.0)],
)  # fmt: skip
def test_parse_float(s: str, want: float) -> None:
    assert strconv.parse_float(s) == want
    assert math.isnan(strconv.parse_float("NaN")) and math.isnan(strconv.parse_float("nan"))


@pytest.mark.parametrize(
    "s",
    ["nan1", "+nan", "infin", "1_", "_1", "1__0", "1._5", "0x1", "0x", "1e", "1e_1", " 1", "", ".", "1.2.3",
     "\u0661"],
)  # fmt: skip
def test_parse_float_syntax_errors(s: str) -> None:
    with pytest.raises(ValueError, match=r"^strconv\.ParseFloat: parsing .*: invalid syntax$"):
        strconv.parse_float(s)


def test_parse_float_range_error() -> None:
    with pytest.raises(ValueError, match=r'^strconv\.ParseFloat: parsing "1e400": value out of range$'):
        strconv.parse_float("1e400")
    with pytest.raises(ValueError, match="value out of range"):
        strconv.parse_float("0x1p5000")
