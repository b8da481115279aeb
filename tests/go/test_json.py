from __future__ import annotations

import pytest

from pyollama.go import json as go_json
from pyollama.template.govalues import OrderedMap
from pyollama.template.govalues import go_json as template_json


def test_string_escapes_b_and_f_like_go_1_22() -> None:
    # encoding/json writes \b and \f (Go >= 1.22), other controls as \u00XX
    assert go_json.string("\b\f\x01<>&\u2028") == '"\\b\\f\\u0001\\u003c\\u003e\\u0026\\u2028"'
    assert go_json.marshal("\b") == template_json("\b") == '"\\b"'


@pytest.mark.parametrize(
    ("x", "j"),
    [
        (0.7, "0.7"),
        (1.0, "1"),
        (1048576.0, "1048576"),
        (1e-05, "0.00001"),
        (1e-7, "1e-7"),
        (1e21, "1e+21"),
        (0.0, "0"),
    ],
)
def test_floats(x: float, j: str) -> None:
    assert go_json.float_string(x) == j


def test_nan_policy() -> None:
    with pytest.raises(ValueError):
        go_json.float_string(float("nan"))
    assert template_json(float("nan")) == "null"  # templates keep rendering


def test_marshal_like_go() -> None:
    assert go_json.marshal({"stop": ["<|im_end|>", "a&b"], "n": 1, "t": 0.6, "b": True, "x": None}) == (
        '{"stop":["\\u003c|im_end|\\u003e","a\\u0026b"],"n":1,"t":0.6,"b":true,"x":null}'
    )
    assert go_json.encode_line([]) == b"[]\n"
    assert go_json.marshal("line\nnext\ttab\x01") == '"line\\nnext\\ttab\\u0001"'


def test_maps_sorted_but_ordered_maps_kept() -> None:
    value = {"b": 1, "a": OrderedMap([("z", 1), ("y", 2)])}
    assert go_json.marshal(value) == '{"b":1,"a":{"z":1,"y":2}}'  # a struct: field order
    assert template_json(value) == '{"a":{"z":1,"y":2},"b":1}'  # a map: sorted
