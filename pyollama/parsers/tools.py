"""Tool calls found in a model's text by the tag its Go TEMPLATE writes (Ollama's tools/tools.go).

The generic tool-call parser Ollama runs for a model with a Go TEMPLATE and no built-in PARSER. The
tag is the first text the template writes inside `{{if .ToolCalls}}` (`<tool_call>`, `[TOOL_CALLS]`,
...), or `{` when it writes none (JSON objects are tried as calls); the planner derives it with
`pyollama.template`'s port of `parseTag`. Nothing here reads a template.

How it reads the text, as Go does:

- Text before the tag is content; a piece that may be the start of the tag is held back. After the
  tag the text is never content again (except for the `{` / `[` tags, below).
- A call is the first tool *name* in the text (the earliest, the longest at the same place; while
  the text ends with a prefix of a name, it waits) together with the first JSON *object* in the
  text: its `arguments` or `parameters` when it has a `name` (an object or a JSON string holding
  one), or the member named after the tool, or the same looked up in nested objects, or else the
  object itself. Braces inside strings do not count.
- With the `{` / `[` tags, calls are parsed only if the first non-space text is `{` / `[`: any other
  text first makes everything content. Once the outermost braces / brackets close, the parser is
  done and the rest is content; if no call was found by the end, `content()` returns the text.
- Calls are numbered 0, 1, ... in order; arguments keep the model's key order (Ollama's ordered
  map), objects nested in them are sorted as Go marshals its maps.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strings import trim_space
from pyollama.parsers.common import tool_name
from pyollama.runner.types import ToolCall

__all__ = ["ToolCallParser", "find_arguments", "find_tool"]


_BRACES = re.compile(r'[\\"{}]')
_BRACKETS = re.compile(r'[\\"\[\]]')


class _State(enum.Enum):
    LOOKING_FOR_TAG = 0
    TOOL_CALLING = 1
    DONE = 2


class ToolCallParser:
    """One response's tool-call parser for a tag (Go's `tools.Parser`, `NewParserWithTag`)."""

    def __init__(self, tag: str, tools: list[dict[str, Any]] | None) -> None:
        self._tag = tag
        self._tools = list(tools or [])
        self._state = _State.LOOKING_FOR_TAG
        self._buffer = ""
        self._n = 0

    @property
    def tag(self) -> str:
        """The tool-call tag looked for in the output (`Tag`)."""
        return self._tag

    @property
    def buffer(self) -> str:
        """Text held back so far (`GetBuffer`)."""
        return self._buffer

    def add(self, s: str) -> tuple[list[ToolCall], str]:
        """Feed a piece; returns the calls now complete and the content to send (`Add`)."""
        if self._state is _State.DONE:
            return [], s
        self._buffer += s
        content = ""
        if self._state is _State.LOOKING_FOR_TAG:
            i, found = self._find_tag()
            if i == -1:
                content, self._buffer = self._buffer, ""
            else:
                content, self._buffer = self._buffer[:i], self._buffer[i:]
            # with { or [ as the tag, calls are parsed only if the first non-space text is { or [
            if self._tag in ("{", "[") and trim_space(content) != "":
                self._state = _State.DONE
                # Go leaves the buffer as it is (from the tag on), so a later content() returns it
                # again: Ollama repeats that text when the stream's last piece is empty
                return [], content + self._buffer
            if not found:
                return [], content
            self._state = _State.TOOL_CALLING
        calls: list[ToolCall] = []
        while (call := self._parse_tool_call()) is not None:
            calls.append(call)
        if self._done():
            self._state = _State.DONE
            content, self._buffer = self._buffer, ""
        return calls, content

    def content(self) -> str:
        """What is left for the user at the end (`Content`): the held-back text for the `{` / `[`
        tags when no call was found, else nothing."""
        if self._n > 0:
            return ""
        if self._tag in ("{", "["):
            return self._buffer
        return ""

    def _find_tag(self) -> tuple[int, bool]:
        """`findTag`: where the tag starts, or where a partial tag at the end starts (found False)."""
        i = self._buffer.find(self._tag)
        if i > -1:
            return i, True
        buf, tag = self._buffer, self._tag
        for n in range(min(len(buf), len(tag)), 0, -1):
            if buf.endswith(tag[:n]):
                return len(buf) - n, False
        return -1, False

    def _parse_tool_call(self) -> ToolCall | None:
        """`parseToolCall`: the next complete call in the buffer, which then moves past it."""
        tool, end = find_tool(self._tools, self._buffer)
        if tool is None:
            return None
        args, i = find_arguments(tool, self._buffer)
        if args is None:
            return None
        # Go cuts at the index of the arguments' closing brace, not after it: the brace stays in the
        # buffer (harmless to the brace matching, and it keeps `done` from firing on the { tag)
        end = max(end, i)
        call = ToolCall(
            name=tool_name(tool),
            arguments={str(k): go_json.sort_maps(v) for k, v in args.items()},
            index=self._n,
        )
        self._n += 1
        self._buffer = self._buffer[end:]
        return call

    def _done(self) -> bool:
        """`done`: for the { / [ tags, whether the first brace / bracket opened has closed."""
        if self._tag == "{":
            open_c, close_c = "{", "}"
        elif self._tag == "[":
            open_c, close_c = "[", "]"
        else:
            return False
        count = 0
        in_string = False
        buf = self._buffer
        specials = _BRACES if open_c == "{" else _BRACKETS
        i = 0
        # Go walks every byte; only backslashes, quotes and the two brackets matter
        while (m := specials.search(buf, i)) is not None:
            c, i = m[0], m.end()
            if c == "\\":
                i += 1  # the escaped character is skipped, whatever it is (outside strings too)
            elif c == '"':
                in_string = not in_string
            elif in_string:
                continue
            elif c == open_c:
                count += 1
            elif c == close_c:
                count -= 1
                if count == 0:
                    return True
        return False


def find_tool(tools: list[dict[str, Any]], buf: str) -> tuple[dict[str, Any] | None, int]:
    """`findTool`: the tool whose name appears first in `buf` (the longest name at the same place)
    and the end of that name; (None, 0) if none does or `buf` ends with a proper prefix of a name,
    which more text may turn into a longer name (`get` before `get_weather`)."""
    if not buf:
        return None, 0
    names = [tool_name(t) for t in tools]
    longest = max((len(n) for n in names), default=0)
    for i in range(1, min(len(buf), longest) + 1):
        tail = buf[-i:]
        for name in names:
            if len(tail) < len(name) and name.startswith(tail):
                return None, 0
    found: dict[str, Any] | None = None
    found_name = ""
    start = end = -1
    for tool, name in zip(tools, names, strict=True):
        pos = buf.find(name)
        if pos == -1:
            continue
        if start != -1 and (pos > start or (pos == start and len(name) <= len(found_name))):
            continue
        found, found_name, start, end = tool, name, pos, pos + len(name)
    if found is not None:
        return found, end
    return None, 0


def _find_map(name: str, obj: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """`findMap`: obj[name] as an object, or a JSON string that decodes to one (or to null)."""
    v = obj.get(name)
    if isinstance(v, dict):
        return v, True
    if isinstance(v, str) and not isinstance(v, go_json.Overflow):
        try:
            data = go_json.unmarshal_ordered(v)
        except go_json.JSONError:
            return None, False
        if data is None:
            return None, True  # Go: "null" unmarshals into a nil map without error
        if isinstance(data, dict):
            return data, True
    return None, False


def _find_object(tool: str, obj: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """`findObject`: the arguments inside a decoded object, searched depth first.

    Go ranges over a map (random order) for the nested search; we take the text's order."""
    if "name" in obj:
        for key in ("arguments", "parameters"):
            args, ok = _find_map(key, obj)
            if ok:
                return args, True
        return None, True
    args, ok = _find_map(tool, obj)
    if ok:
        return args, True
    for v in obj.values():
        if isinstance(v, dict):
            result, found = _find_object(tool, v)
            if found:
                return result, True
        elif isinstance(v, list):
            for item in v:
                if isinstance(item, dict):
                    result, found = _find_object(tool, item)
                    if found:
                        return result, True
    return None, False


def find_arguments(tool: dict[str, Any], buffer: str) -> tuple[dict[str, Any] | None, int]:
    """`findArguments`: the arguments in the first JSON object of `buffer` and the index of that
    object's closing brace; (None, 0) if no complete object has them yet.

    Objects that are not valid JSON are skipped. An object whose `name` has no usable arguments
    stops the search with None (Go's TODO: `{"name": "f"}` without arguments is not a call)."""
    if not buffer:
        return None, 0
    name = tool_name(tool)
    start = -1
    braces = 0
    in_string = False
    pos = 0
    # Go walks every byte; only backslashes, quotes and braces matter, so jump between those
    while (m := _BRACES.search(buffer, pos)) is not None:
        c, i, pos = m[0], m.start(), m.end()
        if c == "\\":
            pos += 1  # the escaped character is skipped, whatever it is (outside strings too)
            continue
        if c == '"':
            in_string = not in_string
            continue
        if in_string:
            continue
        if c == "{":
            if braces == 0:
                start = i
            braces += 1
        else:
            braces -= 1
            if braces == 0 and start != -1:
                try:
                    data = go_json.unmarshal_ordered(buffer[start : i + 1])
                except go_json.JSONError:
                    start = -1  # not a valid object, keep looking
                    continue
                if not isinstance(data, dict):
                    start = -1
                    continue
                args, found = _find_object(name, data)
                if found:
                    return args, i
                return data, i
            if braces < 0:
                braces = 0
    return None, 0
