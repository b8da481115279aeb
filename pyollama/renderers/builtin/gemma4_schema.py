"""Gemma 4's tool declarations and values: `<|tool>declaration:name{...}<tool|>`, `<|"|>` strings.

Mirrors the schema and value half of Ollama's model/renderers/gemma4.go (`renderToolDeclaration`,
`writeSchemaProperties`, `formatArgValue`...), which re-implements the HF template's macros: keys
sorted (Jinja's `dictsort`), type names upper-cased, strings wrapped in `<|"|>`. The message loop
is in `gemma4`.
"""

from __future__ import annotations

from typing import Any

from pyollama.go.fmt import v_any
from pyollama.renderers.builtin._api import OrderedMap, Tool, ToolCall, ToolProperty

__all__ = ["Q", "format_arg_value", "format_tool_call", "render_tool_declaration"]

Q = '<|"|>'
"""Gemma 4's string delimiter."""

_STANDARD_KEYS = frozenset({"description", "type", "properties", "required", "nullable"})


def _upper(s: str) -> str:
    """`strings.ToUpper`: rune by rune, so a rune whose upper case is longer stays as it is."""
    return "".join(u if len(u := c.upper()) == 1 else c for c in s)


def _go_int(v: int | float) -> str | None:
    """`%d` of `int64(v)` when Go's `v == float64(int64(v))` holds (amd64 conversion), else None."""
    try:
        f = float(v)
    except OverflowError:
        return None
    if -(2.0**63) <= f < 2.0**63 and f == int(f):
        return str(int(f))
    return None


def _number(v: int | float) -> str:
    as_int = _go_int(v)
    return as_int if as_int is not None else v_any(v)


# --- values --------------------------------------------------------------------------------------


def format_arg_value(value: Any) -> str:
    """Go's `formatArgValue`: a tool-call argument, map keys bare and sorted."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return Q + value + Q
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{format_arg_value(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_arg_value(x) for x in value) + "]"
    return v_any(value)


def _format_schema_value(value: Any) -> str:
    """Go's `formatSchemaValue`: a schema value, map keys quoted and sorted."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return Q + value + Q
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{Q}{k}{Q}:{_format_schema_value(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_format_schema_value(x) for x in value) + "]"
    return v_any(value)


def format_tool_call(tc: ToolCall) -> str:
    """`<|tool_call>call:name{key:value,...}<tool_call|>`, keys sorted."""
    args = tc.function.arguments
    body = ",".join(f"{k}:{format_arg_value(args[k])}" for k in sorted(args))
    return "<|tool_call>call:" + tc.function.name + "{" + body + "}<tool_call|>"


# --- schemas -------------------------------------------------------------------------------------


def _type_names(value: Any) -> list[str]:
    """Go's `normalizeTypeNames`: a type or list of types, upper-cased; anything else none."""
    if isinstance(value, str):
        return [_upper(value)]
    if isinstance(value, list | tuple):
        return [_upper(x) for x in value if isinstance(x, str)]
    return []


def _string_list(value: Any) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list | tuple) else []


def _quoted_list(values: list[str]) -> str:
    return "[" + ",".join(Q + v + Q for v in values) + "]"


def _type_field(names: list[str]) -> str:
    return "type:" + (Q + names[0] + Q if len(names) == 1 else _quoted_list(names))


def _simple_any_of_types(prop: ToolProperty) -> list[str] | None:
    """Go's `simpleAnyOfTypes`: an anyOf of bare `{"type": ...}` branches as one type union."""
    if not prop.any_of:
        return None
    out: list[str] = []
    for branch in prop.any_of:
        bare = (
            not branch.any_of
            and branch.type
            and branch.items is None
            and not branch.description
            and not branch.enum
            and branch.properties is None
            and not branch.required
        )
        if not bare:
            return None
        out.extend(t for t in branch.type if t not in out)
    return out or None


def _typed_type_value(types: list[str] | tuple[str, ...]) -> str:
    """Go's `upstreamTypedPropertyTypeValue`: a union prints as the template's stringified list."""
    if len(types) == 1:
        return types[0]
    return "[" + ", ".join("'" + _upper(t) + "'" for t in types) + "]"


def _typed_properties(props: OrderedMap[ToolProperty]) -> dict[str, Any]:
    """Go's `typedSchemaPropertiesMap`."""
    return {name: _typed_property(prop) for name, prop in props.items()}


def _typed_property(prop: ToolProperty) -> dict[str, Any]:
    """Go's `topLevelTypedSchemaValueFromToolProperty`: an api.ToolProperty as a schema map."""
    out: dict[str, Any] = {}
    if prop.type:
        out["type"] = _typed_type_value(prop.type)
    elif (union := _simple_any_of_types(prop)) is not None:
        out["type"] = _typed_type_value(union)
    if prop.description:
        out["description"] = prop.description
    if prop.enum:
        out["enum"] = list(prop.enum)
    if prop.items is not None:
        out["items"] = prop.items
    if prop.properties is not None:
        out["properties"] = _typed_properties(prop.properties)
    if prop.required:
        out["required"] = list(prop.required)
    return out


def _items_spec(items: dict[str, Any]) -> str:
    """Go's `writeSchemaItemsSpec`: an array's `items` schema, keys sorted, nulls skipped."""
    parts = []
    for key in sorted(items):
        value = items[key]
        if value is None:
            continue
        if key == "properties":
            nested = _schema_properties(value) if isinstance(value, dict) else ""
            parts.append("properties:{" + nested + "}")
        elif key == "required":
            parts.append("required:" + _quoted_list(_string_list(value)))
        elif key == "type":
            names = _type_names(value)
            parts.append(_type_field(names) if names else "")  # Go still writes the comma
        else:
            parts.append(key + ":" + _format_schema_value(value))
    return ",".join(parts)


def _schema_properties(props: dict[str, Any]) -> str:
    """Go's `writeSchemaProperties`: `name:{description,enum|items,nullable,properties,required,type}`."""
    rendered = []
    for name in sorted(props):
        prop = props[name]
        if name in _STANDARD_KEYS or not isinstance(prop, dict):
            continue
        fields = []
        description = prop.get("description")
        if isinstance(description, str) and description:
            fields.append("description:" + Q + description + Q)

        names = _type_names(prop.get("type"))
        type_name = names[0] if names else ""
        if type_name == "STRING":
            enum = prop.get("enum")
            if isinstance(enum, list | tuple) and enum:
                fields.append("enum:[" + ",".join(Q + v_any(v) + Q for v in enum) + "]")
        elif type_name == "ARRAY":
            items = prop.get("items")
            if isinstance(items, dict) and items:
                fields.append("items:{" + _items_spec(items) + "}")

        if prop.get("nullable") is True:
            fields.append("nullable:true")

        if type_name == "OBJECT":
            nested = prop.get("properties")
            # without nested properties Go lists the property's own non-standard keys
            nested_props = _schema_properties(nested if isinstance(nested, dict) else prop)
            fields.append("properties:{" + nested_props + "}")
            required = _string_list(prop.get("required"))
            if required:
                fields.append("required:" + _quoted_list(required))

        if names:
            fields.append(_type_field(names))
        rendered.append(name + ":{" + ",".join(fields) + "}")
    return ",".join(rendered)


def render_tool_declaration(tool: Tool) -> str:
    """Go's `renderToolDeclaration`: `<|tool>declaration:name{description:...,parameters:{...}}<tool|>`."""
    fn = tool.function
    params = fn.parameters
    out = "<|tool>declaration:" + fn.name + "{description:" + Q + fn.description + Q
    if params.properties is not None or params.type:
        fields = []
        if params.properties:
            fields.append("properties:{" + _schema_properties(_typed_properties(params.properties)) + "}")
        if params.required:
            fields.append("required:" + _quoted_list(list(params.required)))
        if params.type:
            fields.append("type:" + Q + _upper(params.type) + Q)
        out += ",parameters:{" + ",".join(fields) + "}"
    return out + "}<tool|>"
