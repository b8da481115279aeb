"""What Ollama's `model/parsers` share: parsers.go's text helpers, the tool-schema lookups, and
qwen3coder.go's `parseValue`, which the XML-style parsers (qwen3-coder, GLM) type arguments with.

Go's standard library (`strings`, `strconv`, `encoding/json`) is `pyollama.go`'s; this module holds
only what Ollama itself wrote. Go works on bytes in `overlap` and `trailingWhitespaceLen`; these work
on `str` and make the same cuts, since a streamed piece is whole UTF-8 and the tags are whole
characters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pyollama.go import json as go_json
from pyollama.go import strconv
from pyollama.go.strings import SPACE, trim_left_space, trim_right_space

__all__ = [
    "continues_answer",
    "find_tool",
    "overlap",
    "parameter_types",
    "parse_number",
    "parse_value",
    "property_any_of",
    "property_types",
    "split_at_tag",
    "tool_function",
    "tool_name",
    "tool_properties",
    "tool_required",
    "trailing_whitespace_len",
]


# --- parsers.go ----------------------------------------------------------------------------------


def overlap(s: str, delim: str) -> int:
    """`overlap`: the length of the longest suffix of `s` that is a prefix of `delim` (how much of
    `s` may be the start of a tag the next piece completes)."""
    for i in range(min(len(delim), len(s)), 0, -1):
        if s.endswith(delim[:i]):
            return i
    return 0


def trailing_whitespace_len(s: str) -> int:
    """`trailingWhitespaceLen`: the length of the trailing `unicode.IsSpace` run of `s`."""
    return len(s) - len(s.rstrip(SPACE))


def split_at_tag(buf: str, tag: str, trim_after: bool) -> tuple[str, str]:
    """`splitAtTag` on a buffer: (the text before `tag`, right-trimmed; the text after it, left-trimmed
    if `trim_after`). Go refills its strings.Builder with the second; a `str` cannot be, so the caller
    keeps it as its new buffer. Without the tag: (all of `buf`, "") and the buffer empties."""
    before, found, after = buf.partition(tag)
    if not found:
        return before, ""
    if trim_after:
        after = trim_left_space(after)
    return trim_right_space(before), after


def continues_answer(last_message: dict[str, Any] | None) -> bool:
    """The prompt ends in an assistant message with content (a prefill the model continues), which
    the parsers read as: the output is answer text, not reasoning."""
    return (
        last_message is not None
        and last_message.get("role") == "assistant"
        and bool(last_message.get("content"))
    )


# --- api.Tool lookups ----------------------------------------------------------------------------


def tool_function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    """`tool.Function` of a wire tool (empty when absent, as Go's zero value)."""
    fn = tool.get("function")
    return fn if isinstance(fn, Mapping) else {}


def tool_name(tool: Mapping[str, Any]) -> str:
    """`tool.Function.Name` ("" when absent)."""
    name = tool_function(tool).get("name")
    return name if isinstance(name, str) else ""


def find_tool(tools: list[dict[str, Any]] | None, name: str) -> Mapping[str, Any] | None:
    """The first tool named `name` (Ollama's linear scan over `tools`)."""
    for tool in tools or ():
        if tool_name(tool) == name:
            return tool
    return None


def tool_properties(tool: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """`Function.Parameters.Properties`, in declaration order; None where the schema has none."""
    if tool is None:
        return None
    params = tool_function(tool).get("parameters")
    props = params.get("properties") if isinstance(params, Mapping) else None
    return props if isinstance(props, Mapping) else None


def tool_required(tool: Mapping[str, Any]) -> list[str]:
    """`Function.Parameters.Required`."""
    params = tool_function(tool).get("parameters")
    req = params.get("required") if isinstance(params, Mapping) else None
    return [r for r in req if isinstance(r, str)] if isinstance(req, list) else []


def property_types(prop: Any) -> list[str]:
    """`api.PropertyType` of a property schema: its `type`, a string or a list of them."""
    t = prop.get("type") if isinstance(prop, Mapping) else None
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x for x in t if isinstance(x, str)]
    return []


def property_any_of(prop: Any) -> list[Mapping[str, Any]]:
    """A property schema's `anyOf` alternatives."""
    any_of = prop.get("anyOf") if isinstance(prop, Mapping) else None
    return [p for p in any_of if isinstance(p, Mapping)] if isinstance(any_of, list) else []


def parameter_types(tool: Mapping[str, Any] | None, name: str) -> list[str]:
    """The types a parameter's value is coerced by (qwen3coder.go's `parseToolCall`, glm46.go): the
    property's `type`, or the types of all its `anyOf` alternatives pooled; none for a parameter or
    tool that is not declared."""
    props = tool_properties(tool)
    prop = props.get(name) if props is not None else None
    any_of = property_any_of(prop)
    if any_of:
        return [t for alt in any_of for t in property_types(alt)]
    return property_types(prop)


# --- typed values ---------------------------------------------------------------------------------


def parse_number(s: str) -> int | float | None:
    """A bare number as Ollama's Python-literal parsers (lfm2, olmo3) read one: `strconv.ParseInt(s,
    10, 64)`, else `ParseFloat(s, 64)` as the float64 Go will print (`1.0` -> 1); None for neither."""
    try:
        return strconv.parse_int(s)
    except ValueError:
        pass
    try:
        return go_json.number(strconv.parse_float(s))
    except ValueError:
        return None


# --- qwen3coder.go's parseValue ------------------------------------------------------------------

_INT64_MIN = -(1 << 63)


def _go_int64(f: float) -> int:
    """Go's `int64(f)` conversion as amd64 does it: truncation, and the int64 minimum for
    infinities and values out of range (what Ollama's release builds return there)."""
    if math.isnan(f) or not -(2.0**63) <= f < 2.0**63:
        return _INT64_MIN
    return int(f)


def parse_value(raw: str, types: list[str]) -> Any:
    """`parseValue` (qwen3-coder, GLM): drop one leading and one trailing newline, then convert by
    the schema's types.

    `null` (any case) is None whatever the type; no type keeps the string. Otherwise the first of
    these that the types allow and that parses wins: boolean (`true`/`false`, any case; a lone
    boolean type makes anything else false), integer (int64), number (whole values and infinities
    as Go's `int64` conversion gives them), array, object (JSON; JSON null, with spaces around it,
    leaves Go a nil slice or map); then the string itself. A lone integer / number / array / object
    type that does not parse keeps the string."""
    raw = raw.removeprefix("\n").removesuffix("\n")
    if raw.lower() == "null":
        return None
    if not types:
        return raw
    lone = len(types) == 1
    if "boolean" in types:
        lower = raw.lower()
        if lower in ("true", "false"):
            return lower == "true"
        if lone:
            return False
    if "integer" in types:
        try:
            return strconv.parse_int(raw)
        except ValueError:
            if lone:
                return raw
    if "number" in types:
        try:
            f = strconv.parse_float(raw)
        except ValueError:
            if lone:
                return raw
        else:
            if math.isinf(f) or f.is_integer():  # Go: f == math.Trunc(f), true for +-Inf
                return _go_int64(f)
            return f
    for kind, shape in (("array", list), ("object", dict)):
        if kind in types:
            try:
                v = go_json.unmarshal(raw)
            except go_json.JSONError:
                v = ...
            if v is None or isinstance(v, shape):
                return v
            if lone:
                return raw
    return raw
