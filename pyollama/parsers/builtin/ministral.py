"""Mistral's Ministral 3 output format (PARSER `ministral`; Ollama's `MinistralParser`):

    [THINK]reasoning[/THINK]answer[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}

Ollama registers `ministral` without thinking support, so the parser starts in the answer; a
`[THINK]` block the model writes anyway still comes out as thinking (with thinking support, which
no registered name has, it would start inside the reasoning).

Streaming: content is released less trailing whitespace and a partial `[TOOL_CALLS]`/`[THINK]`;
reasoning is released less a partial `[/THINK]`; the whitespace after `[/THINK]` is dropped when it
comes in the tag's own piece. Nothing held
back is flushed at the end of the stream (Ollama does not either). A call is released when its
JSON arguments close; a name that is not a declared tool, or arguments that are not a JSON object,
end the stream with an error.
"""

from __future__ import annotations

import enum
from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strings import trim_left_space, trim_right_space
from pyollama.parsers import Parsed, ParserError, Think
from pyollama.parsers.common import continues_answer, find_tool, overlap, tool_name, trailing_whitespace_len
from pyollama.runner.types import ToolCall

TOOL_CALLS = "[TOOL_CALLS]"
THINK = "[THINK]"
THINK_END = "[/THINK]"
ARGS = "[ARGS]"


class _State(enum.Enum):
    COLLECTING_CONTENT = enum.auto()
    COLLECTING_THINKING = enum.auto()
    COLLECTING_TOOL_NAME = enum.auto()
    COLLECTING_TOOL_ARGS = enum.auto()


class MinistralParser:
    """One request's Ministral parser state; `thinking` is the model's capability."""

    has_tool_support: bool = True
    has_thinking_support: bool

    def __init__(self, thinking: bool = False) -> None:
        self.has_thinking_support = thinking
        self._state = _State.COLLECTING_CONTENT
        self._buf = ""
        self._tools: list[dict[str, Any]] | None = None
        self._call_index = 0
        self._pending_name = ""

    def preserved_tokens(self) -> list[str]:
        return [TOOL_CALLS, THINK, THINK_END, ARGS]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        self._tools = tools
        self._call_index = 0
        if self.has_thinking_support and not continues_answer(last_message):
            self._state = _State.COLLECTING_THINKING
        else:
            self._state = _State.COLLECTING_CONTENT
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buf += text
        content: list[str] = []
        thinking: list[str] = []
        raw_calls: list[tuple[str, str]] = []
        while self._eat(content, thinking, raw_calls):
            pass
        calls: list[ToolCall] = []
        for name, raw_args in raw_calls:
            tool = find_tool(self._tools, name)
            if tool is None:
                raise ParserError(f"tool '{name}' not found")
            try:
                arguments = go_json.unmarshal_arguments(raw_args)
            except ValueError as e:
                raise ParserError(str(e)) from None
            calls.append(ToolCall(name=tool_name(tool), arguments=arguments))
        for call in calls:
            call.index = self._call_index
            self._call_index += 1
        return Parsed("".join(content), "".join(thinking), calls)

    def _eat(self, content: list[str], thinking: list[str], raw_calls: list[tuple[str, str]]) -> bool:
        acc = self._buf
        state = self._state
        if state is _State.COLLECTING_CONTENT:
            for tag, next_state in (
                (TOOL_CALLS, _State.COLLECTING_TOOL_NAME),
                (THINK, _State.COLLECTING_THINKING),
            ):
                before, found, after = acc.partition(tag)
                if found:
                    if trim_right_space(before):
                        content.append(trim_right_space(before))
                    self._buf = after
                    self._state = next_state
                    return True
            # Hold back a partial tag with the whitespace before it, or just trailing whitespace.
            head = acc[: len(acc) - max(overlap(acc, TOOL_CALLS), overlap(acc, THINK))]
            start = len(head) - trailing_whitespace_len(head)
            self._buf = acc[start:]
            if start:
                content.append(acc[:start])
            return False
        if state is _State.COLLECTING_THINKING:
            before, found, after = acc.partition(THINK_END)
            if found:
                self._buf = trim_left_space(after)
                if before:
                    thinking.append(before)
                self._state = _State.COLLECTING_CONTENT
                return True
            start = len(acc) - overlap(acc, THINK_END)
            self._buf = acc[start:]
            if start:
                thinking.append(acc[:start])
            return False
        if state is _State.COLLECTING_TOOL_NAME:
            name, found, after = acc.partition(ARGS)
            if not found:
                return False
            self._pending_name = name
            self._buf = after
            self._state = _State.COLLECTING_TOOL_ARGS
            return True
        # COLLECTING_TOOL_ARGS
        end = find_json_end(acc)
        if end == -1:
            return False
        raw_calls.append((self._pending_name, acc[: end + 1]))
        self._pending_name = ""
        self._buf = acc[end + 1 :]
        self._state = _State.COLLECTING_CONTENT
        return True


def find_json_end(s: str) -> int:
    """Go's `findJSONEnd`: the index of the bracket closing the first JSON object or array (strings
    and escapes skipped), or -1 while it is still open."""
    depth = 0
    in_string = escaped = False
    for i, c in enumerate(s):
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i
    return -1
