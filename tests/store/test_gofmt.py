from __future__ import annotations

import pytest

from pyollama.store import gofmt


@pytest.mark.parametrize(
    ("x", "v", "j"),
    [
        (0.7, "0.7", "0.7"),
        (1.0, "1", "1"),
        (4096.0, "4096", "4096"),
        (123456.0, "123456", "123456"),
        (1048576.0, "1.048576e+06", "1048576"),
        (1e-05, "1e-05", "0.00001"),
        (1e-7, "1e-07", "1e-7"),
        (0.0001, "0.0001", "0.0001"),
        (-2.5, "-2.5", "-2.5"),
        (1e21, "1e+21", "1e+21"),
        (0.0, "0", "0"),
    ],
)
def test_floats(x: float, v: str, j: str) -> None:
    assert gofmt.go_float_v(x) == v
    assert gofmt.go_float_json(x) == j


def test_float32_shortest() -> None:
    assert gofmt.float32_shortest(0.7) == 0.7
    assert gofmt.float32_shortest(0.1) == 0.1
    with pytest.raises(ValueError):
        gofmt.float32_shortest(1e40)


def test_json_like_go() -> None:
    assert gofmt.dumps({"stop": ["<|im_end|>", "a&b"], "n": 1, "t": 0.6, "b": True, "x": None}) == (
        '{"stop":["\\u003c|im_end|\\u003e","a\\u0026b"],"n":1,"t":0.6,"b":true,"x":null}'
    )
    assert gofmt.encode_line([]) == b"[]\n"
    assert gofmt.dumps("line\nnext\ttab\x01") == '"line\\nnext\\ttab\\u0001"'


def test_quote_and_sharp_v() -> None:
    assert gofmt.go_quote('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert gofmt.go_sharp_v("<|eot_id|>") == '"<|eot_id|>"'
    assert gofmt.go_sharp_v(True) == "true"
    assert gofmt.go_sharp_v(0.6) == "0.6"


@pytest.mark.parametrize(
    ("n", "s"),
    [
        (134515008, "134.52M"),
        (268098176, "268.10M"),
        (3212749888, "3.2B"),
        (7000000000, "7B"),
        (1000000, "1M"),
        (64, "64"),
        (1500, "2K"),
        (2_000_000_000_000, "2T"),
    ],
)
def test_human_number(n: int, s: str) -> None:
    assert gofmt.human_number(n) == s


def test_rfc3339nano() -> None:
    s = gofmt.rfc3339nano(1_700_000_000_123_456_789)
    assert ".123456789" in s and s[4] == "-" and s[10] == "T"
    assert "." not in gofmt.rfc3339nano(1_700_000_000_000_000_000)
