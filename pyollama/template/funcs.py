"""Go's `text/template/funcs.go`: the built-in functions (`eq`, `len`, `index`, `printf`...).

Each takes Python stand-ins for Go values (see `govalues`) and raises `ExecError` with Go's message,
which exec wraps as `error calling NAME: ...`. `BUILTINS` and `BUILTIN_ARITY` are Go's
`builtins()` table and the argument counts Go derives from each function's signature.

`MISSING` (Go's invalid `reflect.Value`) and `truth` (Go's `isTrue`, in exec.go) live here rather
than in exec because `not` needs `truth` and `len`/`index`/`slice` need `MISSING`, and exec imports
this module, not the other way round.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from pyollama.template.govalues import (
    GoStruct,
    go_sprint,
    go_sprint_value,
    go_sprintf,
    go_sprintln,
    go_type_name,
)

__all__ = [
    "BUILTINS",
    "BUILTIN_ARITY",
    "MISSING",
    "ExecError",
    "truth",
]


class _Missing:
    """No value at all (Go's invalid reflect.Value), as opposed to nil."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class ExecError(Exception):
    """A built-in function's failure; exec reports it as `error calling NAME: ...`."""


def truth(v: Any) -> bool:
    """Go's `truth`: zero values are false; structs are always true."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, GoStruct):
        return True
    if isinstance(v, str | bytes | list | tuple | dict):
        return len(v) > 0
    return True


def _kind(v: Any) -> str:
    if v is None or v is MISSING:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "other"


def _fn_eq(arg1: Any, *arg2: Any) -> bool:
    if not arg2:
        raise ExecError("missing argument for comparison")
    k1 = _kind(arg1)
    for arg in arg2:
        k2 = _kind(arg)
        if k1 != k2:
            if k1 != "invalid" and k2 != "invalid":
                raise ExecError("incompatible types for comparison")
            continue
        if k1 == "invalid":
            return True
        if k1 == "other":
            if isinstance(arg1, dict | list) or isinstance(arg, dict | list):
                raise ExecError(
                    f"non-comparable types {go_sprint_value(arg1)}: {go_type_name(arg1)}, "
                    f"{go_type_name(arg)}: {go_sprint_value(arg)}"
                )
            if arg1 is arg or arg1 == arg:
                return True
            continue
        if arg1 == arg:
            return True
    return False


def _fn_ne(a: Any, b: Any) -> bool:
    return not _fn_eq(a, b)


def _fn_lt(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka in ("invalid", "other", "bool") or kb in ("invalid", "other", "bool"):
        raise ExecError("invalid type for comparison")
    if ka != kb:
        raise ExecError("incompatible types for comparison")
    return bool(a < b)


def _fn_le(a: Any, b: Any) -> bool:
    return _fn_lt(a, b) or _fn_eq(a, b)


def _fn_gt(a: Any, b: Any) -> bool:
    return not _fn_le(a, b)


def _fn_ge(a: Any, b: Any) -> bool:
    return not _fn_lt(a, b)


def _fn_not(a: Any) -> bool:
    return not truth(a)


def _fn_len(item: Any) -> int:
    if item is None or item is MISSING:
        raise ExecError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode("utf-8"))
    if isinstance(item, bytes | list | tuple) or (isinstance(item, dict) and not isinstance(item, GoStruct)):
        return len(item)
    raise ExecError(f"len of type {go_type_name(item)}")


def _int_index(v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if v is None:
        raise ExecError("cannot index slice/array with nil")
    raise ExecError(f"cannot index slice/array with type {go_type_name(v)}")


def _fn_index(item: Any, *indexes: Any) -> Any:
    if item is None or item is MISSING:
        raise ExecError("index of untyped nil")
    for ix in indexes:
        if item is None:
            raise ExecError("index of nil pointer")
        if isinstance(item, str | bytes):
            i = _int_index(ix)
            b = item.encode("utf-8") if isinstance(item, str) else item
            if i < 0 or i >= len(b):
                raise ExecError(f"index out of range: {i}")
            item = b[i]
        elif isinstance(item, list | tuple):
            i = _int_index(ix)
            if i < 0 or i >= len(item):
                raise ExecError(f"index out of range: {i}")
            item = item[i]
        elif isinstance(item, dict) and not isinstance(item, GoStruct):
            if ix is None:
                raise ExecError("value is nil; should be of type string")
            item = item.get(ix)
        else:
            raise ExecError(f"can't index item of type {go_type_name(item)}")
    return item


def _fn_slice(item: Any, *indexes: Any) -> Any:
    if item is None or item is MISSING:
        raise ExecError("slice of untyped nil")
    if len(indexes) > 3:
        raise ExecError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise ExecError("cannot 3-index slice a string")
        b = item.encode("utf-8")
        cap = len(b)
    elif isinstance(item, list | tuple):
        b = item  # type: ignore[assignment]
        cap = len(item)
    else:
        raise ExecError(f"can't slice item of type {go_type_name(item)}")
    idx = [0, len(b)]
    for i, ix in enumerate(indexes):
        n = _int_index(ix)
        if n < 0 or n > cap:
            raise ExecError(f"index out of range: {n}")
        if i < 2:
            idx[i] = n
    if idx[0] > idx[1]:
        raise ExecError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if isinstance(item, str):
        return bytes(b[idx[0] : idx[1]]).decode("utf-8", errors="replace")
    return list(item[idx[0] : idx[1]])


def _fn_printf(fmt: Any, *args: Any) -> str:
    if not isinstance(fmt, str):
        raise ExecError(f"wrong type for value; expected string; got {go_type_name(fmt)}")
    return go_sprintf(fmt, list(args))


def _html_escape(s: str) -> str:
    return (
        s.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("\x00", "\ufffd")
    )


def _eval_args_string(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return go_sprint(list(args))


def _fn_html(*args: Any) -> str:
    return _html_escape(_eval_args_string(args))


def _fn_js(*args: Any) -> str:
    s = _eval_args_string(args)
    out = []
    for ch in s:
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=" or ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _fn_urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args_string(args), safe="")


# name -> callable; `and`/`or` are special-cased in exec for short-circuit evaluation.
BUILTINS: dict[str, Callable[..., Any]] = {
    "and": lambda *a: None,
    "or": lambda *a: None,
    "eq": _fn_eq,
    "ne": _fn_ne,
    "lt": _fn_lt,
    "le": _fn_le,
    "gt": _fn_gt,
    "ge": _fn_ge,
    "not": _fn_not,
    "len": _fn_len,
    "index": _fn_index,
    "slice": _fn_slice,
    "print": lambda *a: go_sprint(list(a)),
    "printf": _fn_printf,
    "println": lambda *a: go_sprintln(list(a)),
    "html": _fn_html,
    "js": _fn_js,
    "urlquery": _fn_urlquery,
}

# fixed arities (min, max); None = variadic
BUILTIN_ARITY: dict[str, tuple[int, int | None]] = {
    "eq": (1, None),
    "ne": (2, 2),
    "lt": (2, 2),
    "le": (2, 2),
    "gt": (2, 2),
    "ge": (2, 2),
    "not": (1, 1),
    "len": (1, 1),
    "index": (1, None),
    "slice": (1, None),
    "printf": (1, None),
    "and": (1, None),
    "or": (1, None),
}
