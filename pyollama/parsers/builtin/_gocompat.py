"""The Go library behaviour the built-in parsers lean on: `strconv` number syntax, `encoding/json`
decoding into `any`, `api.ThinkValue.Bool` and the tool-schema lookups.

Values come out as the Python values whose JSON encoding matches Go's bytes on the wire: Go decodes
every JSON number to a float64 and prints an integral one without a fraction (`3`, not `3.0`), so
integral floats become `int`; a `map[string]any` marshals with sorted keys, so nested objects are
rebuilt in key order, while a tool call's top-level arguments keep the model's order (Ollama's
ordered `ToolCallFunctionArguments`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pyollama.parsers import Think

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def think_enabled(think: Think) -> bool:
    """`api.ThinkValue.Bool`: true for `true` and for any known level."""
    if isinstance(think, bool):
        return think
    return think in ("high", "medium", "low", "max")


def continues_answer(last_message: dict[str, Any] | None) -> bool:
    """The prompt ends in an assistant message with content (a prefill the model continues), which
    the parsers read as: the output is answer text, not reasoning."""
    return (
        last_message is not None
        and last_message.get("role") == "assistant"
        and bool(last_message.get("content"))
    )


# --- strconv -------------------------------------------------------------------------------------


def parse_int(s: str) -> int | None:
    """`strconv.ParseInt(s, 10, 64)`, or None where Go returns an error (no underscores, no
    whitespace, int64 range)."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not all(c in _DIGITS for c in body):
        return None
    n = int(s)
    return n if _INT64_MIN <= n <= _INT64_MAX else None


def _underscore_ok(s: str) -> bool:
    """`strconv.underscoreOK`: underscores only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i, saw, hexa = 2, "0", s[1].lower() == "x"
    for c in s[i:]:
        if c in _DIGITS or (hexa and c in _HEX_DIGITS):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"


def _float_syntax(s: str) -> bool:
    """`strconv.readFloat`'s grammar over the whole string: decimal or hex (with a `p` exponent)."""
    i, n = 0, len(s)
    if i < n and s[i] in "+-":
        i += 1
    base16 = i + 2 < n and s[i] == "0" and s[i + 1] in "xX"
    if base16:
        i += 2
    digits = _HEX_DIGITS if base16 else _DIGITS
    saw_dot = saw_digits = underscores = False
    while i < n:
        c = s[i]
        if c == "_":
            underscores = True
        elif c == ".":
            if saw_dot:
                break
            saw_dot = True
        elif c in digits:
            saw_digits = True
        else:
            break
        i += 1
    if not saw_digits:
        return False
    if i < n and s[i].lower() == ("p" if base16 else "e"):
        i += 1
        if i < n and s[i] in "+-":
            i += 1
        if i >= n or s[i] not in _DIGITS:
            return False
        while i < n and (s[i] in _DIGITS or s[i] == "_"):
            underscores = underscores or s[i] == "_"
            i += 1
    elif base16:
        return False
    if underscores and not _underscore_ok(s[:i]):
        return False
    return i == n


def parse_float(s: str) -> float | None:
    """`strconv.ParseFloat(s, 64)`, or None where Go returns an error (bad syntax, or a value out of
    float64 range). Go also takes `inf`/`infinity`/`nan` (any case, `nan` unsigned) and hex floats."""
    body = s[1:] if s[:1] in ("+", "-") else s
    low = body.lower()
    if low in ("inf", "infinity"):
        return float("-inf") if s[0] == "-" else float("inf")
    if low == "nan" and body == s:
        return float("nan")
    if not _float_syntax(s):
        return None
    clean = s.replace("_", "")
    try:
        f = float.fromhex(clean) if "x" in clean[:3].lower() else float(clean)
    except (OverflowError, ValueError):
        return None
    return None if f in (float("inf"), float("-inf")) else f


def go_int64(f: float) -> int:
    """Go's `int64(f)` conversion as amd64 does it: truncation, and the int64 minimum for NaN,
    infinities and values out of range (what Ollama's release builds return there)."""
    if f != f or not -(2.0**63) <= f < 2.0**63:
        return _INT64_MIN
    return int(f)


def go_float(f: float) -> int | float:
    """A float64 as the Python value `encoding/json` would print the same way: integral values below
    1e21 (which Go prints in plain digits) become the integer those digits spell."""
    if f.is_integer() and abs(f) < 1e21:
        return int(Decimal(repr(f)))
    return f


# --- encoding/json -------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def _json_number(text: str) -> int | float:
    f = float(text)
    if f in (float("inf"), float("-inf")):
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return go_float(f)


def _go_value(v: Any) -> Any:
    """Decoded JSON as Go holds it in `any`: maps in sorted key order, lone surrogates as U+FFFD."""
    if isinstance(v, str):
        return _SURROGATE.sub("\ufffd", v)
    if isinstance(v, list):
        return [_go_value(x) for x in v]
    if isinstance(v, dict):
        return {_go_value(k): _go_value(v[k]) for k in sorted(v)}
    return v


def _loads(text: str) -> Any:
    try:
        return json.loads(
            text, parse_float=_json_number, parse_int=_json_number, parse_constant=_reject_constant
        )
    except RecursionError:  # Go's decoder stops at depth 10000; Python's recursion limit comes first
        raise ValueError("exceeded max depth") from None


def json_any(text: str) -> Any:
    """`json.Unmarshal` into `any`; raises ValueError on what Go rejects."""
    return _go_value(_loads(text))


def json_arguments(text: str) -> dict[str, Any]:
    """`json.Unmarshal` into `api.ToolCallFunctionArguments`: a JSON object, keys in the model's
    order (a repeated key keeps its first place and its last value), nested maps sorted; `null`
    leaves the arguments empty. Raises ValueError on anything else."""
    v = _loads(text)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ValueError(f"json: cannot unmarshal {type(v).__name__} into Go value of type map")
    return {_go_value(k): _go_value(x) for k, x in v.items()}


def sorted_map(d: Mapping[str, Any]) -> dict[str, Any]:
    """A Go `map[string]any` built by a parser: it marshals in sorted key order."""
    return {k: d[k] for k in sorted(d)}


# --- api.Tool ------------------------------------------------------------------------------------


def tool_function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    fn = tool.get("function")
    return fn if isinstance(fn, Mapping) else {}


def tool_name(tool: Mapping[str, Any]) -> str:
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
    any_of = prop.get("anyOf") if isinstance(prop, Mapping) else None
    return [p for p in any_of if isinstance(p, Mapping)] if isinstance(any_of, list) else []
