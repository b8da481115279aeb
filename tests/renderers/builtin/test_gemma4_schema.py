"""Gemma 4 tool declarations and argument values (Ollama's gemma4.go schema half)."""

from __future__ import annotations

from typing import Any

import pytest

from pyollama.renderers.builtin._api import decode_message, decode_tool
from pyollama.renderers.builtin.gemma4_schema import (
    format_arg_value,
    format_tool_call,
    render_tool_declaration,
)
from tests.renderers.builtin.cases import call, function_tool

Q = '<|"|>'


def q(s: str) -> str:
    return Q + s + Q


def decl(
    properties: dict[str, Any] | None, *, required: list[str] | None = None, type: str = "object"
) -> str:
    return render_tool_declaration(
        decode_tool(function_tool("t", "D", properties, required=required, type=type))
    )


def head(body: str) -> str:
    return "<|tool>declaration:t{description:" + q("D") + body + "}<tool|>"


DECLARATIONS: list[tuple[str, Any, object, str]] = [
    ("no_properties", None, {}, head(",parameters:{type:" + q("OBJECT") + "}")),
    ("no_parameters_at_all", None, {"type": ""}, head("")),
    ("empty_properties_keep_the_block", {}, {"type": ""}, head(",parameters:{}")),
    (
        "properties_sorted_with_required",
        {"b": {"type": "number"}, "a": {"type": "string", "description": "A"}},
        {"required": ["a", "b"]},
        head(
            ",parameters:{properties:{a:{description:"
            + q("A")
            + ",type:"
            + q("STRING")
            + "},b:{type:"
            + q("NUMBER")
            + "}},required:["
            + q("a")
            + ","
            + q("b")
            + "],type:"
            + q("OBJECT")
            + "}"
        ),
    ),
    (
        "string_enum",
        {"mode": {"type": "string", "enum": ["fast", 2, None]}},
        {},
        head(
            ",parameters:{properties:{mode:{enum:["
            + q("fast")
            + ","
            + q("2")
            + ","
            + q("<nil>")
            + "],type:"
            + q("STRING")
            + "}},type:"
            + q("OBJECT")
            + "}"
        ),
    ),
    (
        "union_type_is_a_stringified_list",
        {"name": {"type": ["string", "null"], "description": "N"}},
        {},
        head(
            ",parameters:{properties:{name:{description:"
            + q("N")
            + ",type:"
            + q("['STRING', 'NULL']")
            + "}},type:"
            + q("OBJECT")
            + "}"
        ),
    ),
    (
        "simple_any_of_becomes_a_union",
        {"v": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "string"}], "description": "V"}},
        {},
        head(
            ",parameters:{properties:{v:{description:"
            + q("V")
            + ",type:"
            + q("['STRING', 'NUMBER']")
            + "}},type:"
            + q("OBJECT")
            + "}"
        ),
    ),
    (
        "object_without_properties_and_nested_object",
        {
            "config": {"type": "object"},
            "profile": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "age": {"type": "number", "description": "Age"}},
            },
        },
        {},
        head(
            ",parameters:{properties:{config:{properties:{},type:"
            + q("OBJECT")
            + "},profile:{properties:{age:"
            "{description:"
            + q("Age")
            + ",type:"
            + q("NUMBER")
            + "},name:{type:"
            + q("STRING")
            + "}},required:["
            + q("name")
            + "],type:"
            + q("OBJECT")
            + "}},type:"
            + q("OBJECT")
            + "}"
        ),
    ),
    (
        "array_items_spec",
        {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "additionalProperties": False,
                    "default": {"mode": "auto", "n": 2},
                    "properties": {
                        "id": {"type": "string", "nullable": True},
                        "tags": {"type": "array", "items": {"type": ["string", "null"]}},
                    },
                },
            },
            "ids": {"type": "array"},
        },
        {},
        head(
            ",parameters:{properties:{ids:{type:"
            + q("ARRAY")
            + "},rows:{items:{additionalProperties:false,default:{"
            + q("mode")
            + ":"
            + q("auto")
            + ","
            + q("n")
            + ":2},properties:{id:{nullable:true,type:"
            + q("STRING")
            + "},tags:{items:{type:["
            + q("STRING")
            + ","
            + q("NULL")
            + "]},type:"
            + q("ARRAY")
            + "}},required:["
            + q("id")
            + "],type:"
            + q("OBJECT")
            + "},type:"
            + q("ARRAY")
            + "}},type:"
            + q("OBJECT")
            + "}"
        ),
    ),
    (
        "properties_named_like_schema_keys_are_skipped",
        {"type": {"type": "string"}, "query": {"type": "string"}},
        {},
        head(",parameters:{properties:{query:{type:" + q("STRING") + "}},type:" + q("OBJECT") + "}"),
    ),
]


@pytest.mark.parametrize(
    ("properties", "options", "expected"),
    [d[1:] for d in DECLARATIONS],
    ids=[d[0] for d in DECLARATIONS],
)
def test_render_tool_declaration(
    properties: dict[str, Any] | None, options: dict[str, Any], expected: str
) -> None:
    assert decl(properties, **options) == expected


def test_format_arg_value() -> None:
    assert format_arg_value(None) == "null"
    assert format_arg_value("a\nb") == q("a\nb")
    assert format_arg_value(True) == "true"
    assert format_arg_value(5432) == "5432"
    assert format_arg_value(2.0) == "2"
    assert format_arg_value(3.14) == "3.14"
    assert format_arg_value(1e18) == "1000000000000000000"
    assert format_arg_value(1e19) == "1e+19"  # past int64: Go's %v of the float64
    assert format_arg_value({"db": {"port": 1, "host": "h"}}) == "{db:{host:" + q("h") + ",port:1}}"
    assert format_arg_value(["a", 1, False]) == "[" + q("a") + ",1,false]"


def test_format_tool_call_sorts_keys() -> None:
    m = decode_message({"role": "assistant", "tool_calls": [call("bash", {"zzz": "z", "aaa": "a"})]})
    assert (
        format_tool_call(m.tool_calls[0])
        == "<|tool_call>call:bash{aaa:" + q("a") + ",zzz:" + q("z") + "}<tool_call|>"
    )
