"""What `ollama`'s client accepts as arguments, turned into the daemon's wire values: mappings or
pydantic models (`ollama.Message`, `ollama.Options`), images as bytes, paths or base64, and tools
as JSON schemas or plain Python functions (described from their signature and Google-style
docstring, as `ollama._utils.convert_function_to_tool` does)."""

from __future__ import annotations

import base64
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

_JSON_TYPES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    dict: "object",
    type(None): "null",
}


def plain(value: Any) -> Any:
    """Mappings, Structs and pydantic models as plain JSON-like values (None stays None)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def image_b64(image: Any) -> str:
    """bytes, a path, an `ollama.Image`, or base64 text, as base64 text."""
    value = getattr(image, "value", image)  # ollama.Image(value=...)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Path):
        return base64.b64encode(value.read_bytes()).decode("ascii")
    text = str(value)
    try:
        path = Path(text)
        if len(text) < 4096 and path.is_file():
            return base64.b64encode(path.read_bytes()).decode("ascii")
    except (OSError, ValueError):
        pass
    return text


def images_b64(images: Sequence[Any] | None) -> list[str] | None:
    return [image_b64(i) for i in images] if images else None


def messages_in(messages: Sequence[Any] | None) -> list[dict[str, Any]] | None:
    if messages is None:
        return None
    out = []
    for m in messages:
        d = plain(m)
        if not isinstance(d, dict):
            raise TypeError(f"a message must be a mapping, got {type(m).__name__}")
        if d.get("images"):
            d["images"] = images_b64(d["images"])
        out.append(d)
    return out


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = [_json_type(a).get("type") for a in typing.get_args(annotation)]
        return {"type": [k for k in kinds if k]}
    if origin is not None:
        annotation = origin
    kind = _JSON_TYPES.get(annotation)
    return {"type": kind} if kind else {}


def _docstring_args(doc: str) -> tuple[str, dict[str, str]]:
    """The description (text before `Args:`) and each argument's line under `Args:`."""
    head, _, rest = doc.partition("Args:")
    args: dict[str, str] = {}
    for line in rest.splitlines():
        m = re.match(r"\s*(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)", line)
        if m and not line.strip().startswith(("Returns", "Raises")):
            args[m.group(1)] = m.group(2).strip()
        elif line.strip().startswith(("Returns:", "Raises:")):
            break
    return " ".join(head.split()), args


def function_tool(fn: Callable[..., Any]) -> dict[str, Any]:
    description, arg_docs = _docstring_args(inspect.getdoc(fn) or "")
    hints = typing.get_type_hints(fn)
    properties: dict[str, Any] = {}
    required = []
    for name, param in inspect.signature(fn).parameters.items():
        prop = _json_type(hints.get(name, Any))
        if name in arg_docs:
            prop["description"] = arg_docs[name]
        properties[name] = prop
        if param.default is inspect.Parameter.empty:
            required.append(name)
    return {
        "type": "function",
        "function": {
            "name": fn.__name__,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def tools_in(tools: Sequence[Any] | None) -> list[dict[str, Any]] | None:
    if tools is None:
        return None
    return [function_tool(x) if callable(x) and not isinstance(x, type) else plain(x) for x in tools]
