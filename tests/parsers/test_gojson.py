"""pyollama.parsers.gojson: JSON decoded as Go's encoding/json decodes it, with Go's errors."""

from __future__ import annotations

import pytest

from pyollama.parsers import gojson


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unexpected end of JSON input"),
        ('{"a": 1', "unexpected end of JSON input"),
        ('"abc', "unexpected end of JSON input"),
        ('{"a":1x', "invalid character 'x' after object key:value pair"),
        ("[1x", "invalid character 'x' after array element"),
        ("1x", "invalid character 'x' after top-level value"),
        ("{a:1}", "invalid character 'a' looking for beginning of object key string"),
        ('{"a" 1}', "invalid character '1' after object key"),
        ("[1,]", "invalid character ']' looking for beginning of value"),
        ("NaN", "invalid character 'N' looking for beginning of value"),
        ("'x'", "invalid character '\\'' looking for beginning of value"),
        # Go reports the offending byte: é starts with 0xC3, printed as U+00C3
        ("é", "invalid character 'Ã' looking for beginning of value"),
        ('"a\nb"', "invalid character '\\n' in string literal"),
        ('"\\q"', "invalid character 'q' in string escape code"),
        ('"\\u12"', "invalid character '\"' in \\u hexadecimal character escape"),
        # at the end Go feeds a space: states that needed more text say so
        ("-", "invalid character ' ' in numeric literal"),
        ("1.", "invalid character ' ' after decimal point in numeric literal"),
        ("1e+", "invalid character ' ' in exponent of numeric literal"),
        ("tru", "invalid character ' ' in literal true (expecting 'e')"),
        ("nul", "invalid character ' ' in literal null (expecting 'l')"),
    ],
)
def test_syntax_errors_have_gos_words(text: str, message: str) -> None:
    assert gojson.syntax_error(text) == message
    with pytest.raises(gojson.GoJSONError) as e:
        gojson.unmarshal(text)
    assert str(e.value) == message


@pytest.mark.parametrize("text", ["{}", "[]", "0", "-0.5e+3", '"ok"', ' {"a": [1, {"b": null}]} ', "true"])
def test_valid_json_has_no_syntax_error(text: str) -> None:
    assert gojson.syntax_error(text) is None


def test_numbers_are_float64_printed_as_go_prints_them() -> None:
    v = gojson.unmarshal("[1, 1.0, 1e2, 0.5, 12345678901234567890, 1e21, -0]")
    assert v == [1, 1, 100, 0.5, 12345678901234567000, 1e21, -0.0]
    assert [type(x) for x in v] == [int, int, int, float, int, float, float]
    with pytest.raises(
        gojson.GoJSONError, match=r"^json: cannot unmarshal number 1e400 into Go value of type float64$"
    ):
        gojson.unmarshal('{"a": [1e400]}')
    # a repeated key's first value was converted too
    with pytest.raises(gojson.GoJSONError):
        gojson.unmarshal('{"a": 1e400, "a": 1}')


def test_objects_inside_values_are_sorted_the_top_of_arguments_is_not() -> None:
    args = gojson.unmarshal_arguments('{"b": {"z": 1, "a": {"y": 2, "x": 3}}, "a": [{"d": 0, "c": 0}]}')
    assert list(args) == ["b", "a"]
    assert list(args["b"]) == ["a", "z"]
    assert list(args["b"]["a"]) == ["x", "y"]
    assert list(args["a"][0]) == ["c", "d"]
    assert list(gojson.unmarshal_ordered('{"b": 1, "a": 2}')) == ["b", "a"]


def test_arguments_must_be_an_object() -> None:
    assert gojson.unmarshal_arguments("null") == {}
    for text in ("[1]", '"x"', "1", "true"):
        with pytest.raises(gojson.GoJSONError) as e:
            gojson.unmarshal_arguments(text)
        assert str(e.value) == "Value looks like object, but can't find closing '}' symbol"
    assert gojson.unmarshal_arguments('{"a": 1, "a": 2, "b": 3}') == {"a": 2, "b": 3}


def test_lone_surrogates() -> None:
    assert gojson.unmarshal('["\\ud800x", "\\ud83d\\ude00"]') == ["\ufffdx", "😀"]
    assert gojson.unmarshal('{"\\udc00": 1}') == {"\ufffd": 1}
    # the ordered map's jsonparser refuses such a key
    with pytest.raises(gojson.GoJSONError) as e:
        gojson.unmarshal_arguments('{"\\ud800": 1}')
    assert str(e.value) == "Encountered an invalid escape sequence in a string"


def test_fold_name_matches_struct_fields_like_go() -> None:
    assert gojson.fold_name("Name") == gojson.fold_name("NAME") == "NAME"
    assert gojson.fold_name("\u017fort") == "SORT"  # Go folds the long s to S
    assert gojson.fold_name("\u212a") == "K"  # and the Kelvin sign to K


def test_json_kind() -> None:
    assert [
        gojson.json_kind(gojson.decode(t)) for t in ("null", "true", "1", "1e400", '"s"', "[]", "{}")
    ] == [
        "null",
        "bool",
        "number",
        "number",
        "string",
        "array",
        "object",
    ]
