from __future__ import annotations

import json
import math
from typing import Any

import pytest

from pyollama.parsers.builtin import _gocompat as go


@pytest.mark.parametrize(
    ("think", "on"),
    [(None, False), (False, False), (True, True), ("low", True), ("medium", True), ("high", True),
     ("max", True), ("", False), ("extreme", False)],
)  # fmt: skip
def test_think_enabled(think: bool | str | None, on: bool) -> None:
    assert go.think_enabled(think) is on


def test_continues_answer() -> None:
    assert go.continues_answer({"role": "assistant", "content": "x"})
    assert not go.continues_answer({"role": "assistant", "content": ""})
    assert not go.continues_answer({"role": "user", "content": "x"})
    assert not go.continues_answer(None)


@pytest.mark.parametrize(
    ("s", "want"),
    [("42", 42), ("-7", -7), ("+7", 7), ("007", 7), ("9223372036854775807", 2**63 - 1),
     ("9223372036854775808", None), ("1_000", None), (" 1", None), ("1.0", None), ("", None), ("-", None),
     ("\u0661\u0662", None), ("0x10", None)],
)  # fmt: skip
def test_parse_int(s: str, want: int | None) -> None:
    assert go.parse_int(s) == want


@pytest.mark.parametrize(
    ("s", "want"),
    [("3.14", 3.14), ("1.", 1.0), (".5", 0.5), ("-1e3", -1000.0), ("1E+2", 100.0), ("1_000.5", 1000.5),
     ("0x1p-2", 0.25), ("0X1.8P1", 3.0), ("0x_1p0", 1.0), ("inf", math.inf), ("-Infinity", -math.inf),
     ("+INF", math.inf), ("1e-400", 0.0),
     ("1e400", None), ("nan1", None), ("+nan", None), ("infin", None), ("1_", None), ("_1", None),
     ("1__0", None), ("1._5", None), ("0x1", None), ("0x", None), ("1e", None), ("1e_1", None), (" 1", None),
     ("", None), (".", None), ("1.2.3", None), ("\u0661", None)],
)  # fmt: skip
def test_parse_float(s: str, want: float | None) -> None:
    assert go.parse_float(s) == want
    assert math.isnan(go.parse_float("NaN") or 0.0)


def test_go_int64_is_amd64s_conversion() -> None:
    assert go.go_int64(3.0) == 3 and go.go_int64(-2.9) == -2
    assert go.go_int64(1e20) == go.go_int64(math.inf) == go.go_int64(math.nan) == -(2**63)


@pytest.mark.parametrize(
    ("f", "printed"),
    [(3.0, "3"), (-0.5, "-0.5"), (1e20, "100000000000000000000"), (2.0**60, "1152921504606847000"),
     (1.2345678901234567e19, "12345678901234567000"), (1e21, "1e+21"), (0.1, "0.1")],
)  # fmt: skip
def test_go_float_prints_like_encoding_json(f: float, printed: str) -> None:
    v = go.go_float(f)
    assert (json.dumps(v) if not isinstance(v, float) or v < 1e21 else "1e+21") == printed


def test_json_any_is_go_any() -> None:
    v = go.json_any('{"z": 1.0, "a": [2.5, {"y": null, "b": "\\ud800x"}], "m": 1e2}')
    assert v == {"a": [2.5, {"b": "\ufffdx", "y": None}], "m": 100, "z": 1}
    assert list(v) == ["a", "m", "z"] and list(v["a"][1]) == ["b", "y"]
    assert isinstance(v["z"], int)


@pytest.mark.parametrize(
    "bad", ["NaN", "[Infinity]", "-Infinity", "1e400", "{", "[1,]", "{'a': 1}", "1 2", ""]
)
def test_json_any_rejects_what_go_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        go.json_any(bad)


def test_json_arguments_keep_the_models_order() -> None:
    args = go.json_arguments('{"z": {"d": 1, "c": 2}, "a": 1, "z2": [], "a": 3}')
    assert list(args.items()) == [("z", {"c": 2, "d": 1}), ("a", 3), ("z2", [])]
    assert list(args["z"]) == ["c", "d"]
    assert go.json_arguments("null") == {}
    for bad in ("[1]", '"s"', "1"):
        with pytest.raises(ValueError):
            go.json_arguments(bad)


TOOLS: list[dict[str, Any]] = [
    {"type": "function",
     "function": {"name": "a", "parameters": {"properties": {"x": {"type": "string"}}, "required": ["x"]}}},
    {"type": "function",
     "function": {"name": "a", "parameters": {"properties": {"y": {"type": "integer"}}}}},
    {"type": "function", "function": {"name": "b"}},
]  # fmt: skip


def test_tool_lookups() -> None:
    assert go.find_tool(TOOLS, "a") is TOOLS[0]  # the first of a name
    assert go.find_tool(TOOLS, "c") is None and go.find_tool(None, "a") is None
    assert go.tool_properties(TOOLS[0]) == {"x": {"type": "string"}}
    assert go.tool_properties(TOOLS[2]) is None and go.tool_properties(None) is None
    assert go.tool_required(TOOLS[0]) == ["x"] and go.tool_required(TOOLS[2]) == []
    assert go.tool_name({"function": "bad"}) == ""
    assert go.property_types({"type": "string"}) == ["string"]
    assert go.property_types({"type": ["array", "null"]}) == ["array", "null"]
    assert go.property_types({}) == [] and go.property_types("x") == []
    assert go.property_any_of({"anyOf": [{"type": "a"}, 3]}) == [{"type": "a"}]


def test_absurd_nesting_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="max depth"):
        go.json_any("[" * 100000 + "]" * 100000)
