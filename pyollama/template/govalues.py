"""Go value model for the template engine: structs, ordered maps, `fmt` printing and `encoding/json`.

Templates are written against Go values, so printing must follow Go's `fmt` (`[a b]`, `map[k:v]`,
`1e+06`, `<nil>`) and `json` must follow `encoding/json` (HTML-safe escapes, sorted map keys, no
spaces, `3` not `3.0`) for prompts to come out byte for byte as Ollama renders them.

Python values stand for Go values like this: `None` is a nil interface, `bool`/`int`/`float`/`str`
are themselves, `list`/`tuple` are slices, `dict` is a `map[string]any` (ranged and printed in sorted
key order), `OrderedMap` is a map that keeps insertion order (Ollama's ordered argument/property
maps), `GoStruct` is a struct (a missing field is an error, as in Go). Any object with a
`go_string()` method is a `fmt.Stringer`; any object with `go_json()` marshals itself.

Scalar formatting (quoting, floats, JSON strings) comes from `pyollama.go`, shared with the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pyollama.go.fmt import float_v as go_float_v
from pyollama.go.fmt import sharp_v as go_sharp_v
from pyollama.go.json import marshal as go_json_marshal
from pyollama.go.json import string as json_string
from pyollama.go.strconv import format_float as go_format_float
from pyollama.go.strconv import quote as go_quote

__all__ = [
    "GoList",
    "GoStruct",
    "OrderedMap",
    "PropertyType",
    "go_format_float",
    "go_json",
    "go_quote",
    "go_sprint",
    "go_sprint_value",
    "go_sprintf",
    "go_sprintln",
    "go_type_name",
    "sorted_keys",
    "stringer_value",
]


class GoStruct(dict[str, Any]):
    """A Go struct value: fixed field names, `{v1 v2}` when printed unless it has a `stringer`.

    `wire` is what `json` marshals (the struct's JSON-tagged form, already with omitempty applied);
    `stringer` makes printing use JSON too, as Ollama's `Tool`/`Tools` `String()` methods do.
    """

    __slots__ = ("go_type", "stringer", "wire")

    def __init__(
        self,
        go_type: str,
        fields: Mapping[str, Any],
        *,
        wire: Any = None,
        stringer: bool = False,
    ) -> None:
        super().__init__(fields)
        self.go_type = go_type
        self.wire = wire
        self.stringer = stringer

    def go_json(self) -> str:
        if self.wire is not None:
            return go_json(self.wire)
        return "{" + ",".join(f"{json_string(k)}:{go_json(v)}" for k, v in self.items()) + "}"

    def go_string(self) -> str | None:
        return self.go_json() if self.stringer else None


class OrderedMap(dict[str, Any]):
    """A map ranged, printed and marshalled in insertion order (Ollama's orderedmap types)."""

    __slots__ = ("stringer",)
    ordered = True  # pyollama.go.json keeps the order

    def __init__(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), *, stringer: bool = False):
        super().__init__(items)
        self.stringer = stringer

    def go_string(self) -> str | None:
        return go_json(self) if self.stringer else None


class GoList(list[Any]):
    """A slice type with a `String()` method that renders JSON (Ollama's `api.Tools`).

    `nil` marks Go's nil slice, which marshals to `null` where an empty one gives `[]`.
    """

    def __init__(self, items: Iterable[Any] = (), *, nil: bool = False) -> None:
        super().__init__(items)
        self.nil = nil

    def go_string(self) -> str:
        return self.go_json()

    def go_json(self) -> str:
        if self.nil and not self:
            return "null"
        return "[" + ",".join(go_json(x) for x in self) + "]"


class PropertyType(list[str]):
    """Ollama's `PropertyType`: a JSON Schema type, one string or several."""

    def go_string(self) -> str:
        if not self:
            return ""
        if len(self) == 1:
            return self[0]
        return "[" + " ".join(self) + "]"

    def go_json(self) -> str:
        if len(self) == 1:
            return go_json(self[0])
        return go_json(list(self))


def go_type_name(v: Any) -> str:
    """The Go type name a value would have, for error messages and `%T`."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, GoStruct):
        return v.go_type
    if isinstance(v, PropertyType):
        return "api.PropertyType"
    if isinstance(v, GoList):
        return "api.Tools"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list | tuple):
        return "[]interface {}"
    if isinstance(v, bytes):
        return "[]uint8"
    return type(v).__name__


def stringer_value(v: Any) -> str | None:
    """`String()` of a value implementing fmt.Stringer, else None."""
    fn = getattr(v, "go_string", None)
    if fn is None:
        return None
    s = fn()
    return s if isinstance(s, str) else None


# --- fmt -----------------------------------------------------------------------------------------


def go_sprint_value(v: Any, *, top: bool = False) -> str:
    """fmt's `%v` of one value (`top`: a template's own print, where nil reads `<no value>`)."""
    if v is None:
        return "<no value>" if top else "<nil>"
    s = stringer_value(v)
    if s is not None:
        return s
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float_v(v)
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return "[" + " ".join(str(b) for b in v) + "]"
    if isinstance(v, GoStruct):
        return "{" + " ".join(go_sprint_value(x) for x in v.values()) + "}"
    if isinstance(v, OrderedMap):
        return "map[" + " ".join(f"{go_sprint_value(k)}:{go_sprint_value(x)}" for k, x in v.items()) + "]"
    if isinstance(v, dict):
        return (
            "map[" + " ".join(f"{go_sprint_value(k)}:{go_sprint_value(v[k])}" for k in sorted_keys(v)) + "]"
        )
    if isinstance(v, list | tuple):
        return "[" + " ".join(go_sprint_value(x) for x in v) + "]"
    return str(v)


def sorted_keys(d: Mapping[Any, Any]) -> list[Any]:
    """Go's map key order for range/printing: sorted, by value for basic types."""
    if isinstance(d, OrderedMap):
        return list(d.keys())
    try:
        return sorted(d.keys())
    except TypeError:
        return sorted(d.keys(), key=str)


def go_sprint(args: list[Any]) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out: list[str] = []
    prev_string = True
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(go_sprint_value(a))
        prev_string = is_string
    return "".join(out)


def go_sprintln(args: list[Any]) -> str:
    return " ".join(go_sprint_value(a) for a in args) + "\n"


def _go_sharp_v(v: Any) -> str:
    """`%#v`: a Go-syntax representation (best effort for template values)."""
    if v is None or isinstance(v, bool | int | float | str):
        return go_sharp_v(v)
    if isinstance(v, GoStruct):
        return v.go_type + "{" + ", ".join(f"{k}:{_go_sharp_v(x)}" for k, x in v.items()) + "}"
    if isinstance(v, dict):
        return (
            "map[string]interface {}{"
            + ", ".join(f"{go_quote(str(k))}:{_go_sharp_v(v[k])}" for k in sorted_keys(v))
            + "}"
        )
    if isinstance(v, list | tuple):
        return "[]interface {}{" + ", ".join(_go_sharp_v(x) for x in v) + "}"
    return repr(v)


_VERB_RE = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+)?)?([a-zA-Z%])")


def _pad(s: str, flags: str, width: int | None) -> str:
    if width is None or len(s) >= width:
        return s
    if "-" in flags:
        return s + " " * (width - len(s))
    if "0" in flags and s[:1] in "+-" and s[1:2].isdigit():
        return s[0] + "0" * (width - len(s)) + s[1:]
    if "0" in flags and (s[:1].isdigit()):
        return "0" * (width - len(s)) + s
    return " " * (width - len(s)) + s


def _bad_verb(verb: str, a: Any) -> str:
    if a is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type_name(a)}={go_sprint_value(a)})"


def _fmt_int(n: int, verb: str, flags: str, prec: int | None) -> str:
    neg = n < 0
    m = abs(n)
    if verb == "d":
        s = str(m)
    elif verb == "x":
        s = format(m, "x")
    elif verb == "X":
        s = format(m, "X")
    elif verb == "o":
        s = format(m, "o")
    elif verb == "b":
        s = format(m, "b")
    else:
        s = str(m)
    if prec is not None and len(s) < prec:
        s = "0" * (prec - len(s)) + s
    if "#" in flags and verb in "xX":
        s = ("0x" if verb == "x" else "0X") + s
    if neg:
        s = "-" + s
    elif "+" in flags:
        s = "+" + s
    elif " " in flags:
        s = " " + s
    return s


def _format_one(verb: str, flags: str, width: int | None, prec: int | None, a: Any) -> str:
    if verb == "v":
        s = _go_sharp_v(a) if "#" in flags else go_sprint_value(a)
        if "+" in flags and isinstance(a, int | float) and not isinstance(a, bool) and a >= 0:
            s = "+" + s
        return _pad(s, flags, width)
    if verb == "T":
        return _pad(go_type_name(a), flags, width)
    if verb in "sq":
        st = stringer_value(a)
        if isinstance(a, str) or st is not None:
            s = a if isinstance(a, str) else (st or "")
            if prec is not None:
                s = s[:prec]
            if verb == "q":
                s = go_quote(s)
            return _pad(s, flags, width)
        if verb == "q" and isinstance(a, int) and not isinstance(a, bool):
            return _pad("'" + go_quote(chr(a))[1:-1].replace("'", "\\'") + "'", flags, width)
        if verb == "s" and isinstance(a, list | tuple):
            return "[" + " ".join(_format_one("s", flags, width, prec, x) for x in a) + "]"
        if verb == "s" and isinstance(a, GoStruct | dict) and not isinstance(a, GoStruct):
            return go_sprint_value(a)
        return _bad_verb(verb, a)
    if verb == "t":
        if isinstance(a, bool):
            return _pad("true" if a else "false", flags, width)
        return _bad_verb(verb, a)
    if verb in "dxXobc":
        if isinstance(a, int) and not isinstance(a, bool):
            if verb == "c":
                return _pad(chr(a), flags, width)
            return _pad(_fmt_int(a, verb, flags, prec), flags, width)
        if verb in "xX" and isinstance(a, str):
            h = a.encode().hex()
            return _pad(h.upper() if verb == "X" else h, flags, width)
        if isinstance(a, list | tuple):
            return "[" + " ".join(_format_one(verb, flags, width, prec, x) for x in a) + "]"
        return _bad_verb(verb, a)
    if verb in "feEgG":
        if isinstance(a, float):  # Go: %f of an int is %!f(int=5)
            f = a
            if verb == "f":
                s = go_format_float(f, "f", 6 if prec is None else prec)
            elif verb in "eE":
                s = go_format_float(f, "e", 6 if prec is None else prec)
                if verb == "E":
                    s = s.upper()
            else:
                s = go_format_float(f, "g", -1 if prec is None else prec)
                if verb == "G":
                    s = s.upper()
            if "+" in flags and f >= 0:
                s = "+" + s
            elif " " in flags and f >= 0:
                s = " " + s
            return _pad(s, flags, width)
        return _bad_verb(verb, a)
    return f"%!{verb}({go_type_name(a)}={go_sprint_value(a)})"


def go_sprintf(fmt: str, args: list[Any]) -> str:
    """fmt.Sprintf for the common verbs (%s %d %v %q %#v %x %f %e %g %t %c %T %%)."""
    out: list[str] = []
    argi = 0
    pos = 0
    for m in _VERB_RE.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width_s, prec_s, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        width: int | None = None
        prec: int | None = None
        if width_s == "*":
            if argi < len(args) and isinstance(args[argi], int):
                width = args[argi]
            argi += 1
        elif width_s:
            width = int(width_s)
        if m.group(0).find(".") >= 0:
            if prec_s == "*":
                if argi < len(args) and isinstance(args[argi], int):
                    prec = args[argi]
                argi += 1
            else:
                prec = int(prec_s) if prec_s else 0
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_format_one(verb, flags, width, prec, args[argi]))
        argi += 1
    out.append(fmt[pos:])
    if argi < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{go_type_name(a)}={go_sprint_value(a)}" for a in args[argi:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


# --- encoding/json -------------------------------------------------------------------------------


def go_json(v: Any) -> str:
    """encoding/json.Marshal of a template value: maps sorted, ordered maps as they are."""
    return go_json_marshal(v, maps_sorted=True, nan_null=True)
