"""Olmo 3's output format (PARSER `olmo3`; Ollama's `Olmo3Parser`): content, and Python-style calls
one per line inside `<function_calls>...</function_calls>`:

    <function_calls>get_weather(location="Paris", days=3)
    get_time(tz='CET')</function_calls>

No thinking. Content streams as it comes, less a partial `<function_calls>`. The calls are released
together at `</function_calls>`; a block that does not parse is dropped, as Ollama drops it (it only
logs). What follows a block — the rest of its piece, or else the whole next piece — is content
without a look for tags (Ollama's "calls done" state), so a second block there is not parsed. On the
final piece (`done`) Ollama does not parse at all: it hands back whatever is buffered as content when
outside a call block, and drops it otherwise — so a call must be closed before the stream's last
piece to be seen.
"""

from __future__ import annotations

import contextlib
import enum
import re
from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strings import trim_space
from pyollama.parsers import Parsed, Think
from pyollama.parsers.common import overlap, parse_number
from pyollama.runner.types import ToolCall

CALLS_OPEN = "<function_calls>"
CALLS_CLOSE = "</function_calls>"

# Go's `^(\w+)\((.*)\)$`: RE2's \w is ASCII, and `.` stops at newlines as Python's does.
_CALL_RE = re.compile(r"(\w+)\((.*)\)", re.ASCII)


class _State(enum.Enum):
    CONTENT = enum.auto()
    TOOL_CALLS = enum.auto()
    TOOL_CALLS_DONE = enum.auto()


class Olmo3Parser:
    """One request's Olmo 3 parser state."""

    has_tool_support: bool = True
    has_thinking_support: bool = False

    def __init__(self) -> None:
        self._state = _State.CONTENT
        self._buf = ""
        self._call_index = 0

    def preserved_tokens(self) -> list[str]:
        return [CALLS_OPEN, CALLS_CLOSE]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        self._state = _State.CONTENT
        self._call_index = 0
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buf += text
        if done:
            # Olmo3Parser.Add drains without parsing on the last piece.
            rest, self._buf = self._buf, ""
            return Parsed(rest if self._state is _State.CONTENT else "", "", [])
        content: list[str] = []
        calls: list[ToolCall] = []
        while self._eat(content, calls):
            pass
        for call in calls:
            call.index = self._call_index
            self._call_index += 1
        return Parsed("".join(content), "", calls)

    def _eat(self, content: list[str], calls: list[ToolCall]) -> bool:
        acc = self._buf
        if acc == "":
            return False
        if self._state is _State.CONTENT:
            before, found, after = acc.partition(CALLS_OPEN)
            if found:
                self._buf = after
                self._state = _State.TOOL_CALLS
                if before:
                    content.append(before)
                return True
            n = overlap(acc, CALLS_OPEN)
            self._buf = acc[len(acc) - n :] if n else ""
            if acc[: len(acc) - n]:
                content.append(acc[: len(acc) - n])
            return False
        if self._state is _State.TOOL_CALLS:
            block, found, after = acc.partition(CALLS_CLOSE)
            if not found:
                return False  # wait for the close tag
            self._buf = after
            self._state = _State.TOOL_CALLS_DONE
            # Ollama only logs a block it cannot parse (deep nesting: Python's recursion limit).
            with contextlib.suppress(ValueError, RecursionError):
                calls.extend(parse_function_calls(block))
            return True
        # TOOL_CALLS_DONE: what follows the block is content again.
        self._buf = ""
        self._state = _State.CONTENT
        content.append(acc)
        return False


def parse_function_calls(s: str) -> list[ToolCall]:
    """Go's `parseOlmo3FunctionCalls`: one `name(args)` per non-blank line; ValueError if any line
    does not parse (the whole block is then dropped)."""
    calls: list[ToolCall] = []
    for line in trim_space(s).split("\n"):
        line = trim_space(line)
        if line == "":
            continue
        m = _CALL_RE.fullmatch(line)
        if m is None:
            raise ValueError(f"failed to parse function call {line!r}: invalid function call format")
        calls.append(ToolCall(name=m.group(1), arguments=_parse_arguments(m.group(2))))
    return calls


def _parse_arguments(s: str) -> dict[str, Any]:
    """Go's `parseOlmo3Arguments`: `key=value` pairs split at top-level commas."""
    args: dict[str, Any] = {}
    s = trim_space(s)
    if s == "":
        return args
    for part in split_arguments(s):
        part = trim_space(part)
        if part == "":
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"invalid argument format: {part}")
        args[trim_space(key)] = _parse_value(trim_space(value))
    return args


def split_arguments(s: str) -> list[str]:
    """Go's `splitArguments`: split at commas outside quotes and brackets (a backslash inside a
    string escapes the next character)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    quote = ""
    escaped = False
    for c in s:
        if escaped:
            escaped = False
        elif quote and c == "\\":
            escaped = True
        elif not quote and c in "\"'":
            quote = c
        elif quote and c == quote:
            quote = ""
        elif not quote:
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "," and depth == 0:
                parts.append("".join(current))
                current = []
                continue
        current.append(c)
    if current:
        parts.append("".join(current))
    return parts


def _parse_value(s: str) -> Any:
    """Go's `parseOlmo3Value`: quoted string, Python or JSON literal, number, list, dict, or else
    the bare text as a string."""
    s = trim_space(s)
    if (s.startswith('"') and s.endswith('"')) or (s.startswith("'") and s.endswith("'")):
        # A lone quote character makes Go slice s[1:0] and panic; here it reads as "".
        return _unescape(s[1:-1])
    if s in ("true", "True"):
        return True
    if s in ("false", "False"):
        return False
    if s in ("null", "None", "nil"):
        return None
    n = parse_number(s)
    if n is not None:
        return n
    if s.startswith("[") and s.endswith("]"):
        return _parse_array(s[1:-1])
    if s.startswith("{") and s.endswith("}"):
        return _parse_object(s[1:-1])
    return s


def _parse_array(s: str) -> list[Any]:
    s = trim_space(s)
    if s == "":
        return []
    return [_parse_value(part) for part in split_arguments(s)]


def _parse_object(s: str) -> dict[str, Any]:
    """Go's `parseOlmo3Object`: `key: value` entries, the key optionally quoted (a Go map, so it
    marshals in sorted key order)."""
    s = trim_space(s)
    obj: dict[str, Any] = {}
    if s == "":
        return obj
    for part in split_arguments(s):
        part = trim_space(part)
        if part == "":
            continue
        key, colon, value = part.partition(":")
        if not colon:
            raise ValueError(f"invalid object entry: {part}")
        key = trim_space(key)
        if len(key) >= 2 and ((key[0] == key[-1] == '"') or (key[0] == key[-1] == "'")):
            key = key[1:-1]
        elif key in ('"', "'"):
            key = ""  # Go's key[1:0] on a lone quote (a panic there)
        obj[key] = _parse_value(trim_space(value))
    return go_json.sorted_map(obj)


def _unescape(s: str) -> str:
    """Go's `unescapeString`: the common backslash escapes, `\\\\` first."""
    s = s.replace("\\\\", "\x00")
    for esc, ch in (('\\"', '"'), ("\\'", "'"), ("\\n", "\n"), ("\\t", "\t"), ("\\r", "\r")):
        s = s.replace(esc, ch)
    return s.replace("\x00", "\\")
