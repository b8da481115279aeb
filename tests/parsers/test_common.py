"""pyollama.parsers.common: parsers.go's helpers, the tool-schema lookups, and typed values."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pyollama.parsers import common


@pytest.mark.parametrize(
    ("text", "trim_after", "before", "after"),
    [
        ("hello <!-- split --> world", True, "hello", "world"),
        ("hello <!-- split -->   world", False, "hello", "   world"),
        ("<!-- split -->world", True, "", "world"),
        ("hello <!-- split -->", True, "hello", ""),
        ("a <!-- split --> b <!-- split --> c", True, "a", "b <!-- split --> c"),
        ("before \n<!-- split -->\n after<!-- split -->x", True, "before", "after<!-- split -->x"),
        ("  hello \t\n <!-- split --> \n\t world  ", True, "  hello", "world  "),
        ("hello<!-- split -->   \t\n", False, "hello", "   \t\n"),
        # without the tag everything is `before` and the buffer empties
        ("hello world  ", True, "hello world  ", ""),
        ("", True, "", ""),
    ],
)
def test_split_at_tag(text: str, trim_after: bool, before: str, after: str) -> None:
    assert common.split_at_tag(text, "<!-- split -->", trim_after) == (before, after)


@pytest.mark.parametrize(
    ("s", "delim", "n"),
    [
        ("abc<too", "<tool_call>", 4),
        ("abc<", "<tool>", 1),
        ("abc", "<tool_call>", 0),
        ("<tool_call>", "<tool_call>", 11),
        ("<to", "<to", 3),
        ("x<", "<", 1),
        ("", "<t>", 0),
    ],
)
def test_overlap(s: str, delim: str, n: int) -> None:
    assert common.overlap(s, delim) == n


def test_trailing_whitespace_len() -> None:
    assert common.trailing_whitespace_len("a \t\n") == 3
    assert common.trailing_whitespace_len("a \u00a0\u3000") == 3
    assert common.trailing_whitespace_len("a\x1c") == 0
    assert common.trailing_whitespace_len("  ") == 2
    assert common.trailing_whitespace_len("") == 0


def test_continues_answer() -> None:
    assert common.continues_answer({"role": "assistant", "content": "x"})
    assert not common.continues_answer({"role": "assistant", "content": ""})
    assert not common.continues_answer({"role": "user", "content": "x"})
    assert not common.continues_answer(None)


TOOLS: list[dict[str, Any]] = [
    {"type": "function",
     "function": {"name": "a", "parameters": {"properties": {"x": {"type": "string"}}, "required": ["x"]}}},
    {"type": "function",
     "function": {"name": "a", "parameters": {"properties": {"y": {"type": "integer"}}}}},
    {"type": "function", "function": {"name": "b"}},
    {"type": "function",
     "function": {"name": "c", "parameters": {"properties": {
         "u": {"anyOf": [{"type": "integer"}, {"type": ["array", "null"]}], "type": "string"},
         "v": {"type": ["number", "string"]}}}}},
]  # fmt: skip


def test_tool_lookups() -> None:
    assert common.find_tool(TOOLS, "a") is TOOLS[0]  # the first of a name
    assert common.find_tool(TOOLS, "z") is None and common.find_tool(None, "a") is None
    assert common.tool_properties(TOOLS[0]) == {"x": {"type": "string"}}
    assert common.tool_properties(TOOLS[2]) is None and common.tool_properties(None) is None
    assert common.tool_required(TOOLS[0]) == ["x"] and common.tool_required(TOOLS[2]) == []
    assert common.tool_name({"function": "bad"}) == "" and common.tool_name(TOOLS[2]) == "b"
    assert common.property_types({"type": "string"}) == ["string"]
    assert common.property_types({"type": ["array", "null"]}) == ["array", "null"]
    assert common.property_types({}) == [] and common.property_types("x") == []
    assert common.property_any_of({"anyOf": [{"type": "a"}, 3]}) == [{"type": "a"}]


def test_parameter_types_pool_any_of() -> None:
    c = common.find_tool(TOOLS, "c")
    assert common.parameter_types(c, "u") == ["integer", "array", "null"]  # anyOf wins over type
    assert common.parameter_types(c, "v") == ["number", "string"]
    assert common.parameter_types(c, "w") == [] and common.parameter_types(None, "u") == []


def test_parse_number_is_parse_int_then_parse_float() -> None:
    assert common.parse_number("42") == 42 and common.parse_number("-0") == 0
    assert common.parse_number("1.0") == 1 and isinstance(common.parse_number("1.0"), int)
    assert common.parse_number("2.5") == 2.5 and common.parse_number("0x1p-2") == 0.25
    assert common.parse_number("9223372036854775808") == 9223372036854776000  # a float64, as Go prints it
    assert common.parse_number("1e400") is None and common.parse_number("abc") is None


@pytest.mark.parametrize(
    ("raw", "types", "want"),
    [
        ("\nParis\n", ["string"], "Paris"),
        ("\n\nx\n\n", ["string"], "\nx\n"),  # one newline each side only
        ("NULL", ["integer"], None),
        ("7", [], "7"),
        ("True", ["boolean"], True),
        ("yes", ["boolean"], False),  # a lone boolean type makes anything else false
        ("yes", ["boolean", "string"], "yes"),
        ("42", ["integer"], 42),
        ("4.5", ["integer"], "4.5"),
        ("4.5", ["integer", "number"], 4.5),
        ("3.0", ["number"], 3),
        ("1e20", ["number"], -(2**63)),  # int64(f) past int64's range on amd64
        ("inf", ["number"], -(2**63)),
        ("abc", ["number"], "abc"),
        ('[1, {"b": 1, "a": 2}]', ["array"], [1, {"a": 2, "b": 1}]),
        (" null ", ["array"], None),  # JSON null: a nil slice
        ('{"a": 1}', ["array"], '{"a": 1}'),
        ('{"a": 1}', ["array", "object"], {"a": 1}),
        ("[1,", ["array", "string"], "[1,"),
    ],
)
def test_parse_value(raw: str, types: list[str], want: Any) -> None:
    got = common.parse_value(raw, types)
    assert got == want and type(got) is type(want)


def test_parse_value_keeps_nan() -> None:
    got = common.parse_value("NaN", ["number"])
    assert isinstance(got, float) and math.isnan(got)
