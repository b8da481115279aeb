from __future__ import annotations

import pytest

from pyollama.go import fmt
from pyollama.template.govalues import go_sprintf


def test_sharp_v_whole_float_has_no_decimals() -> None:
    # Go's fmt_test: {"%#v", 1.0, "1"}, {"%#v", 1000000.0, "1e+06"}
    assert fmt.sharp_v(1.0) == "1"
    assert go_sprintf("%#v %#v", [1.0, 1e6]) == "1 1e+06"
    assert fmt.sharp_v(None) == "<nil>"
    assert fmt.sharp_v("<|eot_id|>") == '"<|eot_id|>"'
    assert fmt.sharp_v(True) == "true"
    assert fmt.sharp_v(0.6) == "0.6"


@pytest.mark.parametrize(
    ("x", "v"),
    [
        (0.7, "0.7"),
        (1.0, "1"),
        (123456.0, "123456"),
        (1048576.0, "1.048576e+06"),
        (1e-05, "1e-05"),
        (1e-7, "1e-07"),
        (-2.5, "-2.5"),
        (0.0, "0"),
    ],
)
def test_float_v(x: float, v: str) -> None:
    assert fmt.float_v(x) == v
    assert fmt.v(x) == v


def test_v_any_prints_decoded_json_as_go_holds_it() -> None:
    assert fmt.v_any(None) == "<nil>"
    assert fmt.v_any(True) == "true"
    assert fmt.v_any(1000000) == "1e+06"  # every number is a float64
    assert fmt.v_any(123456) == "123456"
    assert fmt.v_any(0.00001) == "1e-05"
    assert fmt.v_any(2.5) == "2.5"
    assert fmt.v_any(10**400) == "+Inf"
    assert fmt.v_any("s") == "s"
    assert fmt.v_any([1, "a", None]) == "[1 a <nil>]"
    assert fmt.v_any({"b": 1, "a": [True]}) == "map[a:[true] b:1]"


def test_t_any() -> None:
    values = [None, True, 1, 1.5, "s", [1], {"a": 1}]
    assert [fmt.t_any(v) for v in values] == [
        "<nil>", "bool", "float64", "float64", "string", "[]interface {}", "map[string]interface {}",
    ]  # fmt: skip
