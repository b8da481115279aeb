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
