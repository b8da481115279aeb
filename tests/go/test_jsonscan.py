"""pyollama.go.jsonscan: Go's JSON scanner words syntax errors as Go does."""

from __future__ import annotations

import pytest

from pyollama.go import json as go_json
from pyollama.go.jsonscan import syntax_error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unexpected end of JSON input"),
        ("  ", "unexpected end of JSON input"),
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
        ("[" * 10001, "exceeded max depth"),
    ],
)
def test_syntax_errors_have_gos_words(text: str, message: str) -> None:
    assert syntax_error(text) == message
    with pytest.raises(go_json.JSONError) as e:
        go_json.unmarshal(text)
    assert str(e.value) == message


@pytest.mark.parametrize("text", ["{}", "[]", "0", "-0.5e+3", '"ok"', ' {"a": [1, {"b": null}]} ', "true"])
def test_valid_json_has_no_syntax_error(text: str) -> None:
    assert syntax_error(text) is None
