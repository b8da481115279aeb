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


def test_string_html_escaping_can_be_turned_off() -> None:
    assert go_json.string("<a&b>") == '"\\u003ca\\u0026b\\u003e"'
    assert go_json.string("<a&b>", escape_html=False) == '"<a&b>"'
    assert go_json.string("\b\f\n\t\x01\u2028") == '"\\b\\f\\n\\t\\u0001\\u2028"'
    assert go_json.string("\u2029", escape_html=False) == '"\\u2029"'  # always escaped
    assert go_json.string("a\ud800") == '"a\ufffd"'  # invalid UTF-8 is written as U+FFFD


def test_marshal_options() -> None:
    value = {"z": [1, 1.0, 0.5, 1e21, None, True], "a": "<a & b>\u2028"}
    assert go_json.marshal(value) == '{"z":[1,1,0.5,1e+21,null,true],"a":"\\u003ca \\u0026 b\\u003e\\u2028"}'
    assert go_json.marshal(value, escape_html=False) == '{"z":[1,1,0.5,1e+21,null,true],"a":"<a & b>\\u2028"}'
    # every number a float64: Go prints 12345678901234567890 as that float64's digits
    assert go_json.marshal([12345678901234567890, 10**21], float64=True) == "[12345678901234567000,1e+21]"
    assert go_json.marshal(12345678901234567890) == "12345678901234567890"  # a Go integer
    with pytest.raises(ValueError):
        go_json.marshal(10**400, float64=True)  # beyond float64: +Inf, which json.Marshal refuses
    with pytest.raises(TypeError):
        go_json.marshal(object())


def test_marshal_convert_and_raw_message() -> None:
    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

    def convert(v: object) -> object:
        if isinstance(v, Point):
            return {"x": v.x}
        if isinstance(v, set):
            return go_json.RawMessage('"a set"')
        return v

    assert (
        go_json.marshal([Point(1), {"p": Point(2)}, set()], convert=convert)
        == '[{"x":1},{"p":{"x":2}},"a set"]'
    )


def test_numbers_are_float64_printed_as_go_prints_them() -> None:
    v = go_json.unmarshal("[1, 1.0, 1e2, 0.5, 12345678901234567890, 1e21, -0]")
    assert v == [1, 1, 100, 0.5, 12345678901234567000, 1e21, -0.0]
    assert [type(x) for x in v] == [int, int, int, float, int, float, float]
    with pytest.raises(
        go_json.JSONError, match=r"^json: cannot unmarshal number 1e400 into Go value of type float64$"
    ):
        go_json.unmarshal('{"a": [1e400]}')
    # a repeated key's first value was converted too
    with pytest.raises(go_json.JSONError):
        go_json.unmarshal('{"a": 1e400, "a": 1}')


@pytest.mark.parametrize(
    ("f", "printed", "kind"),
    [(3.0, "3", int), (-0.5, "-0.5", float), (1e20, "100000000000000000000", int),
     (2.0**60, "1152921504606847000", int), (1.2345678901234567e19, "12345678901234567000", int),
     (1e21, "1e+21", float), (0.1, "0.1", float), (-0.0, "-0", float)],
)  # fmt: skip
def test_number_is_the_value_that_prints_as_go_prints_the_float64(f: float, printed: str, kind: type) -> None:
    n = go_json.number(f)
    assert go_json.marshal(n) == printed and type(n) is kind


def test_unmarshal_is_go_any() -> None:
    v = go_json.unmarshal('{"z": 1.0, "a": [2.5, {"y": null, "b": "\\ud800x"}], "m": 1e2}')
    assert v == {"a": [2.5, {"b": "\ufffdx", "y": None}], "m": 100, "z": 1}
    assert list(v) == ["a", "m", "z"] and list(v["a"][1]) == ["b", "y"]
    assert isinstance(v["z"], int)


@pytest.mark.parametrize(
    "bad", ["NaN", "[Infinity]", "-Infinity", "1e400", "{", "[1,]", "{'a': 1}", "1 2", ""]
)
def test_unmarshal_rejects_what_go_rejects(bad: str) -> None:
    with pytest.raises(go_json.JSONError):
        go_json.unmarshal(bad)


def test_absurd_nesting_is_gos_depth_error() -> None:
    with pytest.raises(go_json.JSONError, match=r"^exceeded max depth$"):
        go_json.unmarshal("[" * 100000 + "]" * 100000)


def test_objects_inside_values_are_sorted_the_top_of_arguments_is_not() -> None:
    args = go_json.unmarshal_arguments('{"b": {"z": 1, "a": {"y": 2, "x": 3}}, "a": [{"d": 0, "c": 0}]}')
    assert list(args) == ["b", "a"]
    assert list(args["b"]) == ["a", "z"]
    assert list(args["b"]["a"]) == ["x", "y"]
    assert list(args["a"][0]) == ["c", "d"]
    assert list(go_json.unmarshal_ordered('{"b": 1, "a": 2}')) == ["b", "a"]
    # a repeated key keeps its first place and its last value
    args = go_json.unmarshal_arguments('{"z": {"d": 1, "c": 2}, "a": 1, "z2": [], "a": 3}')
    assert list(args.items()) == [("z", {"c": 2, "d": 1}), ("a", 3), ("z2", [])]


def test_arguments_must_be_an_object() -> None:
    assert go_json.unmarshal_arguments("null") == {}
    for text in ("[1]", '"x"', "1", "true"):
        with pytest.raises(go_json.JSONError) as e:
            go_json.unmarshal_arguments(text)
        assert str(e.value) == "Value looks like object, but can't find closing '}' symbol"
    assert go_json.unmarshal_arguments('{"a": 1, "a": 2, "b": 3}') == {"a": 2, "b": 3}


def test_lone_surrogates() -> None:
    assert go_json.unmarshal('["\\ud800x", "\\ud83d\\ude00"]') == ["\ufffdx", "😀"]
    assert go_json.unmarshal('{"\\udc00": 1}') == {"\ufffd": 1}
    # the ordered map's jsonparser refuses such a key
    with pytest.raises(go_json.JSONError) as e:
        go_json.unmarshal_arguments('{"\\ud800": 1}')
    assert str(e.value) == "Encountered an invalid escape sequence in a string"


def test_fold_name_matches_struct_fields_like_go() -> None:
    assert go_json.fold_name("Name") == go_json.fold_name("NAME") == "NAME"
    assert go_json.fold_name("\u017fort") == "SORT"  # Go folds the long s to S
    assert go_json.fold_name("\u212a") == "K"  # and the Kelvin sign to K


def test_kind() -> None:
    decoded = [go_json.decode(t) for t in ("null", "true", "1", "1e400", '"s"', "[]", "{}")]
    assert [go_json.kind(v) for v in decoded] == [
        "null",
        "bool",
        "number",
        "number",
        "string",
        "array",
        "object",
    ]
