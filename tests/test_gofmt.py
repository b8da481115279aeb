"""The shared Go formatting primitives, on the cases where the two former copies disagreed."""

from __future__ import annotations

import pytest

from pyollama import gofmt
from pyollama.store import gofmt as store_gofmt
from pyollama.template.govalues import go_json, go_sprintf


def test_json_string_escapes_b_and_f_like_go_1_22() -> None:
    # encoding/json writes \b and \f (Go >= 1.22), other controls as \u00XX
    assert gofmt.json_string("\b\f\x01<>&\u2028") == '"\\b\\f\\u0001\\u003c\\u003e\\u0026\\u2028"'
    assert store_gofmt.dumps("\b") == go_json("\b") == '"\\b"'


def test_sharp_v_whole_float_has_no_decimals() -> None:
    # Go's fmt_test: {"%#v", 1.0, "1"}, {"%#v", 1000000.0, "1e+06"}
    assert gofmt.go_sharp_v(1.0) == store_gofmt.go_sharp_v(1.0) == "1"
    assert go_sprintf("%#v %#v", [1.0, 1e6]) == "1 1e+06"
    assert gofmt.go_sharp_v(None) == "<nil>"


def test_float_json_nan_policy() -> None:
    with pytest.raises(ValueError):
        gofmt.go_float_json(float("nan"))
    assert go_json(float("nan")) == "null"  # templates keep rendering
    assert gofmt.go_float_json(1e-7) == "1e-7"


def test_quote() -> None:
    assert gofmt.go_quote("a\x7f\u00a0\U0001f600\x00") == '"a\\x7f\\u00a0\U0001f600\\x00"'
