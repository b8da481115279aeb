"""Go's `encoding/json` as Ollama's renderers print tools and tool-call arguments (the Go library
itself is `pyollama.go.json`; this is what Ollama's types and helpers make of it).

The renderers marshal `api.Tool`, its parts and `api.ToolCallFunctionArguments` with
`json.Marshal` (compact, `<>&` escaped), `json.MarshalIndent` (cogito), an `Encoder` with HTML
escaping off (lfm2) and Ollama's `marshalWithSpaces` (model/renderers/json.go). What comes out
depends on the Go types, so this module follows them:

- structs write their fields in declaration order with `omitempty` applied (`Tool`, `ToolProperty`...);
- Go maps (`dict` here) write their keys sorted;
- Ollama's ordered maps (`OrderedMap`: arguments, properties) write keys in insertion order through
  their own `MarshalJSON` (wk8/go-ordered-map, whose keys go through easyjson's writer: `\\u0008`
  where encoding/json writes `\\b`) and `json.Marshal` their values, so their contents are always
  HTML-escaped even inside an Encoder that has escaping off;
- numbers are float64 (a JSON number decoded into `any`), so a Python `int` prints as Go prints
  the float64 (`1e+21`, `12345678901234567000`).
"""

from __future__ import annotations

import re
from typing import Any

from pyollama.go import json as go_json
from pyollama.renderers.builtin._api import (
    OrderedMap,
    Tool,
    ToolFunction,
    ToolFunctionParameters,
    ToolProperty,
)

__all__ = [
    "add_json_spaces",
    "decoded",
    "go_value",
    "indent",
    "marshal",
    "marshal_indent",
    "marshal_with_spaces",
]


class _Struct(dict[str, Any]):
    """A Go struct's JSON object: fields in declaration order, omitempty already applied."""

    ordered = True  # pyollama.go.json keeps a struct's field order among sorted maps


# --- an ordered map's keys -----------------------------------------------------------------------


_EASYJSON_ONLY = re.compile("([\b\f\ud800-\udfff])")
_EASYJSON_ESC = {"\b": "\\u0008", "\f": "\\u000c"}


def _ordered_key(s: str) -> str:
    """easyjson's `Writer.String` (HTML escaping on), which writes an ordered map's keys: encoding/json's
    escapes but for `\\u0008`/`\\u000c` where Go 1.22 writes `\\b`/`\\f`, and the escape `\\ufffd`
    itself for invalid UTF-8 (a lone surrogate here)."""
    pieces = _EASYJSON_ONLY.split(s)
    return (
        '"'
        + "".join(
            _EASYJSON_ESC.get(p, "\\ufffd") if i % 2 else go_json.string(p)[1:-1]
            for i, p in enumerate(pieces)
        )
        + '"'
    )


# --- api structs as Go marshals them -------------------------------------------------------------


def _property(p: ToolProperty) -> _Struct:
    """`api.ToolProperty`: every field omitempty."""
    out = _Struct()
    if p.any_of:
        out["anyOf"] = [_property(x) for x in p.any_of]
    if p.type:
        # PropertyType.MarshalJSON: one type as a string, several as an array
        out["type"] = p.type[0] if len(p.type) == 1 else list(p.type)
    if p.items is not None:
        out["items"] = p.items
    if p.description:
        out["description"] = p.description
    if p.enum:
        out["enum"] = list(p.enum)
    if p.properties is not None:
        out["properties"] = p.properties
    if p.required:
        out["required"] = list(p.required)
    return out


def _parameters(p: ToolFunctionParameters) -> _Struct:
    """`api.ToolFunctionParameters`: `type` and `properties` always (a nil map is `null`)."""
    out = _Struct(type=p.type)
    if p.defs is not None:
        out["$defs"] = p.defs
    if p.items is not None:
        out["items"] = p.items
    if p.required:
        out["required"] = list(p.required)
    out["properties"] = p.properties
    return out


def _function(fn: ToolFunction) -> _Struct:
    out = _Struct(name=fn.name)
    if fn.description:
        out["description"] = fn.description
    out["parameters"] = _parameters(fn.parameters)
    return out


def _tool(t: Tool) -> _Struct:
    out = _Struct(type=t.type)
    if t.items is not None:
        out["items"] = t.items
    out["function"] = _function(t.function)
    return out


def go_value(v: Any) -> Any:
    """The JSON object tree Go would write for an api struct (a plain value stays as it is)."""
    if isinstance(v, Tool):
        return _tool(v)
    if isinstance(v, ToolFunction):
        return _function(v)
    if isinstance(v, ToolFunctionParameters):
        return _parameters(v)
    if isinstance(v, ToolProperty):
        return _property(v)
    return v


def decoded(v: Any) -> Any:
    """What `json.Unmarshal` into `any` gives back for marshalled `v`: every object a Go map."""
    v = go_value(v)
    if isinstance(v, dict):
        return {k: decoded(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [decoded(x) for x in v]
    return v


# --- marshalling ---------------------------------------------------------------------------------


def _convert(v: Any) -> Any:
    """Ollama's values as `pyollama.go.json` marshals them: api structs as their field objects, an
    ordered map through its own MarshalJSON (easyjson keys, `json.Marshal` for each value, so its
    contents are HTML-escaped even inside an Encoder that has escaping off)."""
    if isinstance(v, OrderedMap):
        return go_json.RawMessage(
            "{" + ",".join(_ordered_key(k) + ":" + marshal(x) for k, x in v.items()) + "}"
        )
    return go_value(v)


def marshal(v: Any, *, escape_html: bool = True) -> str:
    """`json.Marshal(v)` (escape_html=False: an Encoder after `SetEscapeHTML(false)`): Go maps
    sorted, numbers float64 (a number beyond float64 fails, as json.Marshal fails on infinities)."""
    return go_json.marshal(v, maps_sorted=True, escape_html=escape_html, float64=True, convert=_convert)


def _json_outside_strings(s: str) -> list[tuple[str, bool]]:
    """Split compact JSON into (char, is_structural) pairs, string contents not structural."""
    out: list[tuple[str, bool]] = []
    in_str = esc = False
    for c in s:
        if in_str:
            out.append((c, False))
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
            continue
        if c == '"':
            in_str = True
            out.append((c, False))
        else:
            out.append((c, True))
    return out


def add_json_spaces(s: str) -> str:
    """Ollama's `addJSONSpaces`: a space after every `:` and `,` outside strings."""
    return "".join(c + " " if structural and c in ":," else c for c, structural in _json_outside_strings(s))


def marshal_with_spaces(v: Any) -> str:
    """Ollama's `marshalWithSpaces`: `json.Marshal`, then Python's `json.dumps` separators."""
    return add_json_spaces(marshal(v))


def indent(s: str, prefix: str, ind: str) -> str:
    """`json.Indent` of compact JSON; empty objects and arrays stay `{}` and `[]`."""
    out: list[str] = []
    depth = 0
    need_indent = False

    def newline(d: int) -> None:
        out.append("\n" + prefix + ind * d)

    for c, structural in _json_outside_strings(s):
        if need_indent and not (structural and c in "}]"):
            need_indent = False
            depth += 1
            newline(depth)
        if not structural:
            out.append(c)
        elif c in "{[":
            need_indent = True  # delayed, so that an empty one stays on its line
            out.append(c)
        elif c == ",":
            out.append(c)
            newline(depth)
        elif c == ":":
            out.append(": ")
        elif c in "}]":
            if need_indent:
                need_indent = False
            else:
                depth -= 1
                newline(depth)
            out.append(c)
        else:
            out.append(c)
    return "".join(out)


def marshal_indent(v: Any, prefix: str, ind: str) -> str:
    """`json.MarshalIndent(v, prefix, indent)`."""
    return indent(marshal(v), prefix, ind)
