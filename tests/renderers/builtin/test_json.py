"""Go's encoding/json for the renderers: struct field order, omitempty, ordered maps, spacing, indent."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin._api import OrderedMap, decode_tool, decode_tools
from pyollama.renderers.builtin._json import add_json_spaces, indent, marshal, marshal_with_spaces


@pytest.mark.parametrize(
    ("compact", "spaced"),
    [
        ('{"key":"value"}', '{"key": "value"}'),
        ('["a","b","c"]', '["a", "b", "c"]'),
        ('{"text":"quote\\"inside"}', '{"text": "quote\\"inside"}'),
        ('{"path":"C:\\\\dir\\\\"}', '{"path": "C:\\\\dir\\\\"}'),
        ('{"text":"end with \\\\\\""}', '{"text": "end with \\\\\\""}'),
        ('{"url":"http://x.com","list":"a, b"}', '{"url": "http://x.com", "list": "a, b"}'),
        ('{"nested":"{\\"k\\":\\"v\\"}"}', '{"nested": "{\\"k\\":\\"v\\"}"}'),
        ('{"a":[1,{"b":null}],"c":{}}', '{"a": [1, {"b": null}], "c": {}}'),
        ('{"emoji":"😀","zh":"你好"}', '{"emoji": "😀", "zh": "你好"}'),
    ],
)
def test_add_json_spaces(compact: str, spaced: str) -> None:
    assert add_json_spaces(compact) == spaced


def test_numbers_are_float64() -> None:
    assert (
        marshal([1, 2.5, 3.0, 1e21, 1e20, 1e-7, 0.000001, -0.0])
        == "[1,2.5,3,1e+21,100000000000000000000,1e-7,0.000001,-0]"
    )
    assert marshal(12345678901234567890) == "12345678901234567000"
    with pytest.raises(ValueError):
        marshal(float("inf"))


def test_plain_maps_sort_ordered_maps_keep_order() -> None:
    assert marshal({"b": 1, "a": {"d": 1, "c": 2}}) == '{"a":{"c":2,"d":1},"b":1}'
    assert marshal(OrderedMap({"b": 1, "a": {"d": 1, "c": 2}})) == '{"b":1,"a":{"c":2,"d":1}}'


def test_ordered_map_keys_and_values_escape_like_go() -> None:
    args = OrderedMap({"a\bb<": {"k\b": "v<"}})
    # keys go through easyjson's writer (\u0008), nested values through encoding/json (\b)
    assert marshal(args) == '{"a\\u0008b\\u003c":{"k\\b":"v\\u003c"}}'
    # an ordered map marshals itself, so HTML escaping stays on inside an Encoder that turned it off
    assert marshal(args, escape_html=False) == marshal(args)


def test_tool_struct_order_and_omitempty() -> None:
    tool = decode_tool(
        {
            "function": {
                "parameters": {
                    "properties": {
                        "z": {"description": "Z", "type": ["string"], "default": 1, "enum": []},
                        "a": {
                            "items": {"type": "string"},
                            "type": ["string", "null"],
                            "anyOf": [{"type": "x"}],
                        },
                        "o": {"type": "object", "properties": {}},
                    },
                    "required": ["z"],
                    "type": "object",
                    "additionalProperties": False,
                },
                "description": "D",
                "name": "f",
            },
            "type": "function",
        }
    )
    assert marshal(tool) == (
        '{"type":"function","function":{"name":"f","description":"D","parameters":{"type":"object",'
        '"required":["z"],"properties":{"z":{"type":"string","description":"Z"},'
        '"a":{"anyOf":[{"type":"x"}],"type":["string","null"],"items":{"type":"string"}},'
        '"o":{"type":"object","properties":{}}}}}}'
    )


def test_missing_properties_marshal_as_null() -> None:
    tools = decode_tools([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])
    assert marshal_with_spaces(tools) == (
        '[{"type": "function", "function": {"name": "f", '
        '"parameters": {"type": "object", "properties": null}}}]'
    )


def test_indent_like_marshal_indent() -> None:
    assert indent('{"a":[1,2],"b":{},"c":[],"d":{"e":"x:,{"}}', "", "  ") == (
        '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {},\n  "c": [],\n  "d": {\n    "e": "x:,{"\n  }\n}'
    )
    assert indent("[]", ">", "\t") == "[]"
    assert indent('[{"a":1}]', ">", "\t") == '[\n>\t{\n>\t\t"a": 1\n>\t}\n>]'
