"""Gemma 4's tool-call syntax, `call:NAME{key:value,...}`, into a name and JSON arguments
(Ollama's `parseGemma4ToolCall` and its repairs in `model/parsers/gemma4.go`).

Strings are fenced by `<|"|>` and taken verbatim (quotes and backslashes included); keys are bare
words; everything else is JSON (`42`, `true`, `null`, nested `{}`/`[]`, JSON-quoted strings). When
the converted text is not valid JSON a few repairs are tried, each still checked by the JSON
decoder: single-quoted values, an unclosed final `<|"|>`, and — only where the tool schema says the
argument is a string — a raw unquoted final value, with the object's closing brace added.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strings import SPACE, trim_left_space, trim_space
from pyollama.parsers.common import find_tool, property_any_of, property_types, tool_properties
from pyollama.runner.types import ToolCall

STRING_DELIMITER = '<|"|>'
_D = STRING_DELIMITER
_QUOTED_RE = re.compile(r'<\|"\|>(.*?)<\|"\|>', re.DOTALL)


def parse_tool_call(content: str, tools: list[dict[str, Any]] | None) -> ToolCall:
    """Go's `parseGemma4ToolCall`; ValueError when neither the text nor a repair is valid."""
    if not content.startswith("call:"):
        raise ValueError("expected 'call:' prefix")
    content = content[len("call:") :]
    brace = content.find("{")
    if brace == -1:
        raise ValueError("expected '{' in tool call")
    name = trim_space(content[:brace])
    args_str = content[brace:]
    try:
        arguments = go_json.unmarshal_arguments(args_to_json(args_str))
    except ValueError as e:
        for candidate in repair_candidates(args_str, name, tools):
            try:
                arguments = go_json.unmarshal_arguments(args_to_json(candidate))
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{e}\nrepair failed to produce valid JSON arguments") from None
    return ToolCall(name=name, arguments=arguments)


def _placeholder(i: int) -> str:
    # Go's "\x00" + string(rune(i)) + "\x00"; a surrogate code point there becomes U+FFFD.
    return "\x00" + ("\ufffd" if 0xD800 <= i <= 0xDFFF else chr(i)) + "\x00"


def args_to_json(s: str) -> str:
    """Go's `gemma4ArgsToJSON`: fenced strings out (as placeholders), bare keys quoted, the strings
    back in as JSON strings."""
    strings: list[str] = []

    def stash(m: re.Match[str]) -> str:
        strings.append(m.group(1))
        return _placeholder(len(strings) - 1)

    text = _quote_bare_keys(_QUOTED_RE.sub(stash, s))
    for i, value in enumerate(strings):
        text = text.replace(_placeholder(i), go_json.string(value))
    return text


def _is_key_char(c: str) -> bool:
    # Go: r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
    return c == "_" or c.isalpha() or c.isdecimal()


def _key_end(s: str, start: int) -> int:
    i = start
    while i < len(s) and _is_key_char(s[i]):
        i += 1
    return i


def _skip_space(s: str, i: int) -> int:
    while i < len(s) and s[i] in SPACE:
        i += 1
    return i


def _trim_right_index(s: str) -> int:
    return len(s.rstrip(SPACE))


def _json_string_end(s: str, start: int) -> int:
    """Go's `gemma4JSONQuotedStringEnd`: the index after the `"` closing the one at `start`, or -1."""
    escaped = False
    for i in range(start + 1, len(s)):
        c = s[i]
        if c == '"' and not escaped:
            return i + 1
        escaped = c == "\\" and not escaped
    return -1


def _quote_bare_keys(s: str) -> str:
    """Go's `quoteGemma4BareKeys`: after each `{` or `,` (and spaces), a word followed by `:` is
    quoted; JSON strings are passed over."""
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == '"':
            end = _json_string_end(s, i)
            if end != -1:
                out.append(s[i:end])
                i = end
                continue
        out.append(c)
        i += 1
        if c not in "{,":
            continue
        space_end = _skip_space(s, i)
        out.append(s[i:space_end])
        i = space_end
        key_end = _key_end(s, i)
        if i < key_end < n and s[key_end] == ":":
            out.append(f'"{s[i:key_end]}":')
            i = key_end + 1
    return "".join(out)


# --- repairs -------------------------------------------------------------------------------------


def repair_candidates(args_str: str, tool_name: str, tools: list[dict[str, Any]] | None) -> list[str]:
    """Go's `gemma4RepairCandidates`: the few repaired texts worth a try, in order, without
    repeats. The closing brace is added only where another repair changed the text or the raw
    string repair applied."""
    candidates: list[str] = []

    def add(candidate: str, allow_missing_close: bool) -> None:
        original = candidate
        candidate = repair_missing_string_delimiter(repair_single_quoted_values(candidate))
        if allow_missing_close or candidate != original:
            candidate = repair_missing_object_close(candidate)
        if candidate not in candidates:
            candidates.append(candidate)

    add(args_str, False)
    raw = repair_raw_terminal_string_value(args_str, tool_name, tools)
    if raw is not None:
        add(raw, True)
    return candidates


def repair_missing_string_delimiter(s: str) -> str:
    """Close an odd `<|"|>`, before a final `}`/`]` if the value is followed by one."""
    if s.count(_D) % 2 == 0:
        return s
    at = _trim_right_index(s)
    if at > 0 and s[at - 1] in "}]":
        at -= 1
    return s[:at] + _D + s[at:]


def repair_missing_object_close(s: str) -> str:
    """Add the final `}` to a text that opens an object and does not end with one."""
    if not trim_left_space(s).startswith("{"):
        return s
    end = _trim_right_index(s)
    if end > 0 and s[end - 1] == "}":
        return s
    return s[:end] + "}" + s[end:]


def repair_single_quoted_values(s: str) -> str:
    """Go's `repairGemma4SingleQuotedValues`: `key:'value'` becomes a fenced string, dropping a
    stray `<|"|>` right after the closing quote; fenced and JSON strings are left alone."""
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        if s.startswith(_D, i):
            end = s.find(_D, i + len(_D))
            if end == -1:
                out.append(s[i:])
                break
            end += len(_D)
            out.append(s[i:end])
            i = end
            continue
        if s[i] == '"':
            end = _json_string_end(s, i)
            if end != -1:
                out.append(s[i:end])
                i = end
                continue
        if s[i] != ":":
            out.append(s[i])
            i += 1
            continue
        out.append(":")
        i += 1
        space_end = _skip_space(s, i)
        out.append(s[i:space_end])
        i = space_end
        if i >= n or s[i] != "'":
            continue
        quoted = _single_quoted_value(s, i)
        if quoted is None:
            continue
        value, i = quoted
        out.append(_D + value + _D)
        if s.startswith(_D, i):
            i += len(_D)
    return "".join(out)


def _single_quoted_value(s: str, start: int) -> tuple[str, int] | None:
    """The text of the `'...'` at `start` (backslash escapes kept) and the index after it."""
    escaped = False
    for i in range(start + 1, len(s)):
        c = s[i]
        if c == "'" and not escaped:
            return s[start + 1 : i], i + 1
        escaped = c == "\\" and not escaped
    return None


def _property_accepts_string(prop: Any) -> bool:
    return any(t.casefold() == "string" for t in property_types(prop)) or any(
        _property_accepts_string(p) for p in property_any_of(prop)
    )


def repair_raw_terminal_string_value(
    args_str: str, tool_name: str, tools: list[dict[str, Any]] | None
) -> str | None:
    """Go's `repairGemma4RawTerminalStringValue`: fence a raw value given to a string-typed
    parameter (schema-gated: raw text is too ambiguous otherwise); None when nothing applies."""
    props = tool_properties(find_tool(tools, tool_name))
    if props is None:
        return None
    for key, prop in props.items():
        if _property_accepts_string(prop):
            repaired = _repair_raw_value_for_key(args_str, key, props)
            if repaired is not None:
                return repaired
    return None


def _repair_raw_value_for_key(s: str, key: str, props: Mapping[str, Any]) -> str | None:
    search = 0
    while search < len(s):
        start = _find_value_start(s, key, search)
        if start is None:
            return None
        check = _skip_space(s, start)
        if check < len(s) and _value_starts_structured(s, check):
            search = start
            continue
        end = _raw_string_value_end(s, start, props)
        return s[:start] + _D + s[start:end] + _D + s[end:]
    return None


def _find_value_start(s: str, key: str, search: int) -> int | None:
    """Where the value of `key` starts (after its `:`), from `search` on, outside strings."""
    i = search
    while i < len(s):
        if s.startswith(_D, i):
            end = s.find(_D, i + len(_D))
            if end == -1:
                return None
            i = end + len(_D)
            continue
        if s[i] == '"':
            end = _json_string_end(s, i)
            if end != -1:
                i = end
                continue
        if s[i] in "{,":
            key_start = _skip_space(s, i + 1)
            if s.startswith(key, key_start):
                colon = _skip_space(s, key_start + len(key))
                if colon < len(s) and s[colon] == ":":
                    return colon + 1
        i += 1
    return None


def _raw_string_value_end(s: str, start: int, props: Mapping[str, Any]) -> int:
    """A raw value runs to the `,` before the next declared parameter, else to the final `}`, else
    to the end."""
    for i in range(start, len(s)):
        if s[i] != ",":
            continue
        key_start = _skip_space(s, i + 1)
        key_end = _key_end(s, key_start)
        if key_end == key_start:
            continue
        colon = _skip_space(s, key_end)
        if colon < len(s) and s[colon] == ":" and s[key_start:key_end] in props:
            return i
    end = _trim_right_index(s)
    if end > start and s[end - 1] == "}":
        return end - 1
    return len(s)


def _value_starts_structured(s: str, pos: int) -> bool:
    if pos >= len(s):
        return False
    if s.startswith(_D, pos):
        return True
    # A quote, a bracket, or what could begin a JSON literal (number, true, false, null).
    return s[pos] in "'\"{[-tfn0123456789"
