"""Ollama's template functions (the `funcs` FuncMap in Ollama's `template/template.go`).

`json`, `currentDate`, `yesterdayDate` and `toTypeScriptType`, which Ollama installs on every model
template next to Go's built-ins. `FUNCS` and `ARITY` are the full tables a `Template` starts from:
Go's `BUILTINS` (funcs.py) plus these.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from pyollama.template.funcs import BUILTIN_ARITY, BUILTINS, MISSING
from pyollama.template.govalues import go_json

__all__ = [
    "ARITY",
    "FUNCS",
    "OLLAMA_ARITY",
    "OLLAMA_FUNCS",
]


def _fn_json(v: Any) -> str:
    return go_json(None if v is MISSING else v)


def _fn_current_date() -> str:
    return _dt.date.today().strftime("%Y-%m-%d")


def _fn_yesterday_date() -> str:
    return (_dt.date.today() - _dt.timedelta(days=1)).strftime("%Y-%m-%d")


def _ts_type(p: Any) -> str:
    if not isinstance(p, dict):
        return "any"
    enum = p.get("Enum", p.get("enum"))
    if enum:
        return " | ".join(go_json(e) for e in enum)
    any_of = p.get("AnyOf", p.get("anyOf"))
    if any_of:
        return " | ".join(_ts_type(x) for x in any_of)
    typ = p.get("Type", p.get("type"))
    types = [typ] if isinstance(typ, str) else list(typ or [])
    if not types:
        return "any"
    out = []
    for t in types:
        if t in ("string",):
            out.append("string")
        elif t in ("number", "integer"):
            out.append("number")
        elif t == "boolean":
            out.append("boolean")
        elif t == "null":
            out.append("null")
        elif t == "array":
            items = p.get("Items", p.get("items"))
            inner = _ts_type(items) if isinstance(items, dict) else "any"
            out.append(f"({inner})[]" if " | " in inner else inner + "[]")
        elif t == "object":
            out.append("Record<string, any>")
        else:
            out.append("any")
    return " | ".join(out)


def _fn_to_typescript_type(v: Any) -> str:
    """Ollama's `toTypeScriptType` (best effort): a JSON Schema property as a TypeScript type."""
    return _ts_type(v)


OLLAMA_FUNCS: dict[str, Callable[..., Any]] = {
    "json": _fn_json,
    "currentDate": _fn_current_date,
    "yesterdayDate": _fn_yesterday_date,
    "toTypeScriptType": _fn_to_typescript_type,
}

# fixed arities (min, max), as for the built-ins
OLLAMA_ARITY: dict[str, tuple[int, int | None]] = {
    "json": (1, 1),
    "currentDate": (0, 0),
    "yesterdayDate": (0, 0),
    "toTypeScriptType": (1, 1),
}

# what a Template starts from: Go's built-ins, then Ollama's
FUNCS: dict[str, Callable[..., Any]] = {**BUILTINS, **OLLAMA_FUNCS}
ARITY: dict[str, tuple[int, int | None]] = {**BUILTIN_ARITY, **OLLAMA_ARITY}
