"""Ollama's `api.Message` and `api.Tool` as the renderers see them.

The renderers get `/api/chat`'s wire dicts; Ollama's Go renderers get those dicts after
`encoding/json` has filled its structs. Decoding into the same shapes here keeps what Go drops
(unknown schema keys such as `default`), what it keeps (`properties: {}` vs no `properties`) and
what it orders (ordered argument and property maps, Go maps sorted) identical, so each renderer
reads like its Go original (`m.content`, `tool.function.parameters.properties`).

JSON values stay Python values: `None`, `bool`, `int`/`float` (both float64 to Go), `str`, `list`,
`dict` (a Go `map[string]any`). `OrderedMap` is Ollama's `internal/orderedmap` (tool-call
arguments and tool properties, which keep the client's key order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

_V = TypeVar("_V")


class OrderedMap(dict[str, _V]):
    """Ollama's ordered map: iterated and marshalled in insertion order, unlike a Go map."""


Arguments = OrderedMap[Any]
"""`api.ToolCallFunctionArguments`: top-level keys in the client's order, nested maps plain."""


@dataclass(frozen=True, slots=True)
class ToolCallFunction:
    index: int
    name: str
    arguments: Arguments


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    function: ToolCallFunction


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str = ""
    thinking: str = ""
    images: int = 0
    """How many images the message carries (their bytes never reach a prompt)."""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_name: str = ""
    tool_call_id: str = ""


@dataclass(frozen=True, slots=True)
class ToolProperty:
    any_of: tuple[ToolProperty, ...] = ()
    type: tuple[str, ...] = ()
    """`api.PropertyType`: a JSON string or array of strings, one entry per type."""
    items: Any = None
    description: str = ""
    enum: tuple[Any, ...] = ()
    properties: OrderedMap[ToolProperty] | None = None
    """None when the schema had no `properties` (Go's nil pointer); `{}` stays an empty map."""
    required: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolFunctionParameters:
    type: str = ""
    defs: Any = None
    items: Any = None
    required: tuple[str, ...] = ()
    properties: OrderedMap[ToolProperty] | None = None


@dataclass(frozen=True, slots=True)
class ToolFunction:
    name: str = ""
    description: str = ""
    parameters: ToolFunctionParameters = field(default_factory=ToolFunctionParameters)


@dataclass(frozen=True, slots=True)
class Tool:
    type: str = ""
    items: Any = None
    function: ToolFunction = field(default_factory=ToolFunction)


# --- decoding ------------------------------------------------------------------------------------


def _plain(obj: Any) -> Any:
    """Wire dicts pass through; a msgspec Struct of the same shape becomes one."""
    if obj is None or isinstance(obj, Mapping | list | tuple | str | int | float):
        return obj
    import msgspec

    return msgspec.to_builtins(obj)


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _strings(v: Any) -> tuple[str, ...]:
    return tuple(x for x in v if isinstance(x, str)) if isinstance(v, list | tuple) else ()


def _map(v: Any) -> Mapping[str, Any]:
    v = _plain(v)
    return v if isinstance(v, Mapping) else {}


def _tool_call(raw: Any) -> ToolCall:
    tc = _map(raw)
    fn = _map(tc.get("function"))
    args = _plain(fn.get("arguments"))
    index = fn.get("index")
    return ToolCall(
        id=_str(tc.get("id")),
        function=ToolCallFunction(
            index=index if isinstance(index, int) and not isinstance(index, bool) else 0,
            name=_str(fn.get("name")),
            arguments=OrderedMap(args) if isinstance(args, Mapping) else OrderedMap(),
        ),
    )


def decode_message(raw: Any) -> Message:
    """One `api.Message` (the role lower-cased, as its UnmarshalJSON does)."""
    m = _map(raw)
    images = m.get("images")
    return Message(
        role=_str(m.get("role")).lower(),
        content=_str(m.get("content")),
        thinking=_str(m.get("thinking")),
        images=len(images) if isinstance(images, list | tuple) else 0,
        tool_calls=tuple(_tool_call(tc) for tc in m.get("tool_calls") or ()),
        tool_name=_str(m.get("tool_name")),
        tool_call_id=_str(m.get("tool_call_id")),
    )


def decode_messages(messages: list[Any] | None) -> list[Message]:
    return [decode_message(m) for m in messages or ()]


def _property_type(v: Any) -> tuple[str, ...]:
    """`PropertyType.UnmarshalJSON`: a string is one type, an array lists them."""
    if isinstance(v, str):
        return (v,)
    return _strings(v)


def _properties(v: Any) -> OrderedMap[ToolProperty] | None:
    v = _plain(v)
    if not isinstance(v, Mapping):
        return None
    return OrderedMap((str(k), decode_property(p)) for k, p in v.items())


def decode_property(raw: Any) -> ToolProperty:
    p = _map(raw)
    any_of = p.get("anyOf")
    enum = p.get("enum")
    return ToolProperty(
        any_of=tuple(decode_property(x) for x in any_of) if isinstance(any_of, list | tuple) else (),
        type=_property_type(p.get("type")),
        items=_plain(p.get("items")),
        description=_str(p.get("description")),
        enum=tuple(enum) if isinstance(enum, list | tuple) else (),
        properties=_properties(p.get("properties")),
        required=_strings(p.get("required")),
    )


def decode_tool(raw: Any) -> Tool:
    t = _map(raw)
    fn = _map(t.get("function"))
    params = _map(fn.get("parameters"))
    return Tool(
        type=_str(t.get("type")),
        items=_plain(t.get("items")),
        function=ToolFunction(
            name=_str(fn.get("name")),
            description=_str(fn.get("description")),
            parameters=ToolFunctionParameters(
                type=_str(params.get("type")),
                defs=_plain(params.get("$defs")),
                items=_plain(params.get("items")),
                required=_strings(params.get("required")),
                properties=_properties(params.get("properties")),
            ),
        ),
    )


def decode_tools(tools: list[Any] | None) -> list[Tool]:
    return [decode_tool(t) for t in tools or ()]
