"""Wire dicts decoded the way Go fills api.Message / api.Tool."""

from __future__ import annotations

import msgspec

from pyollama.renderers.builtin._api import OrderedMap, ToolProperty, decode_message, decode_tool


def test_message_fields_and_lowercased_role() -> None:
    m = decode_message(
        {
            "role": "Assistant",
            "content": "c",
            "thinking": "t",
            "images": ["aGk=", "aGk="],
            "tool_calls": [{"id": "x", "function": {"index": 2, "name": "f", "arguments": {"b": 1, "a": 2}}}],
            "tool_name": "n",
            "tool_call_id": "i",
        }
    )
    assert (m.role, m.content, m.thinking, m.images, m.tool_name, m.tool_call_id) == (
        "assistant",
        "c",
        "t",
        2,
        "n",
        "i",
    )
    tc = m.tool_calls[0]
    assert (tc.id, tc.function.index, tc.function.name) == ("x", 2, "f")
    assert isinstance(tc.function.arguments, OrderedMap)
    assert list(tc.function.arguments) == ["b", "a"]


def test_missing_fields_are_zero_values() -> None:
    m = decode_message({"role": "user"})
    assert (m.content, m.images, m.tool_calls) == ("", 0, ())
    assert (
        decode_message({"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]})
        .tool_calls[0]
        .function.arguments
        == {}
    )


def test_msgspec_structs_are_accepted() -> None:
    class Msg(msgspec.Struct):
        role: str
        content: str

    assert decode_message(Msg("user", "hi")).content == "hi"


def test_tool_schema_keeps_only_go_fields() -> None:
    t = decode_tool(
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "$defs": {"d": {}},
                    "properties": {"p": {"type": "string", "default": "x", "anyOf": [{"type": "null"}]}},
                },
            },
        }
    )
    params = t.function.parameters
    assert params.defs == {"d": {}}
    assert params.properties == {"p": ToolProperty(type=("string",), any_of=(ToolProperty(type=("null",)),))}
    assert decode_tool({"function": {"parameters": {}}}).function.parameters.properties is None
    assert decode_tool({"function": {"parameters": {"properties": {}}}}).function.parameters.properties == {}
