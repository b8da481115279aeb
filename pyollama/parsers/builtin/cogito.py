"""Deep Cogito's output format (PARSER `cogito`; Ollama's `CogitoParser`), DeepSeek-V3 style:

    reasoning</think>answer<|tool calls begin|><|tool call begin|>function<|tool sep|>NAME
    ```json
    {"arg": 1}
    ```<|tool call end|><|tool calls end|>

(in the real tags the bars are U+FF5C and the spaces U+2581).

Renderer dependency: with thinking on, Ollama's cogito renderer ends the prompt with `<think>\\n`,
so the output starts inside the reasoning. Thinking is on only when `think` is true or a level
(unset means off), no tools are offered (Cogito does not reason when it may call tools) and there
is no assistant prefill with content.

Streaming: reasoning is released less trailing whitespace and a partial `</think>`; content passes
through as it comes, partial tags included (the tool tags are single special tokens). Whitespace
next to a tag is dropped only when it comes in the tag's own piece. Each call is
released at its `<|tool call end|>`; one that does not parse is skipped with the rest of its block.
Tool outputs the model writes itself (`<|tool outputs begin|>...`) are dropped.
"""

from __future__ import annotations

import enum
from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strings import trim_left_space, trim_right_space, trim_space
from pyollama.parsers import Parsed, Think
from pyollama.parsers.common import continues_answer, overlap, trailing_whitespace_len
from pyollama.runner.types import ToolCall
from pyollama.think import think_bool


def _tag(words: str) -> str:
    # DeepSeek's tags: U+FF5C FULLWIDTH VERTICAL LINE around words joined by U+2581 LOWER ONE EIGHTH BLOCK.
    return "<\uff5c" + words.replace(" ", "\u2581") + "\uff5c>"


THINK_CLOSE = "</think>"
TOOL_CALLS_BEGIN = _tag("tool calls begin")
TOOL_CALLS_END = _tag("tool calls end")
TOOL_CALL_BEGIN = _tag("tool call begin")
TOOL_CALL_END = _tag("tool call end")
TOOL_SEP = _tag("tool sep")
TOOL_OUTPUT_BEGIN = _tag("tool output begin")
TOOL_OUTPUT_END = _tag("tool output end")
TOOL_OUTPUTS_BEGIN = _tag("tool outputs begin")
TOOL_OUTPUTS_END = _tag("tool outputs end")

_JSON_OPEN = "\n```json\n"
_JSON_CLOSE = "\n```"


class _State(enum.Enum):
    COLLECTING_THINKING = enum.auto()
    COLLECTING_CONTENT = enum.auto()
    COLLECTING_TOOL_CALLS = enum.auto()
    COLLECTING_TOOL_OUTPUT = enum.auto()


class CogitoParser:
    """One request's Cogito parser state."""

    has_tool_support: bool = True
    has_thinking_support: bool = True

    def __init__(self) -> None:
        self._state = _State.COLLECTING_THINKING
        self._buf = ""
        self._call_index = 0

    def preserved_tokens(self) -> list[str]:
        return [
            THINK_CLOSE,
            TOOL_CALLS_BEGIN,
            TOOL_CALLS_END,
            TOOL_CALL_BEGIN,
            TOOL_CALL_END,
            TOOL_SEP,
            TOOL_OUTPUT_BEGIN,
            TOOL_OUTPUT_END,
            TOOL_OUTPUTS_BEGIN,
            TOOL_OUTPUTS_END,
        ]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        self._call_index = 0
        # Cogito does not reason when it may call tools.
        if think_bool(think) and not continues_answer(last_message) and not tools:
            self._state = _State.COLLECTING_THINKING
        else:
            self._state = _State.COLLECTING_CONTENT
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buf += text
        content: list[str] = []
        thinking: list[str] = []
        calls: list[ToolCall] = []
        while self._eat(content, thinking, calls):
            pass
        for call in calls:
            call.index = self._call_index
            self._call_index += 1
        return Parsed("".join(content), "".join(thinking), calls)

    def _eat(self, content: list[str], thinking: list[str], calls: list[ToolCall]) -> bool:
        acc = self._buf
        if acc == "":
            return False
        state = self._state
        if state is _State.COLLECTING_THINKING:
            before, found, after = acc.partition(THINK_CLOSE)
            if found:
                self._buf = trim_left_space(after)
                self._state = _State.COLLECTING_CONTENT
                if trim_right_space(before):
                    thinking.append(trim_right_space(before))
                return True
            head = acc[: len(acc) - overlap(acc, THINK_CLOSE)]
            start = len(head) - trailing_whitespace_len(head)
            self._buf = acc[start:]
            if start:
                thinking.append(acc[:start])
            return False
        if state is _State.COLLECTING_CONTENT:
            for tag, next_state in (
                (TOOL_CALLS_BEGIN, _State.COLLECTING_TOOL_CALLS),
                (TOOL_OUTPUTS_BEGIN, _State.COLLECTING_TOOL_OUTPUT),
            ):
                before, found, after = acc.partition(tag)
                if found:
                    self._buf = after
                    self._state = next_state
                    if trim_right_space(before):
                        content.append(trim_right_space(before))
                    return True
            self._buf = ""
            content.append(acc)
            return False
        if state is _State.COLLECTING_TOOL_CALLS:
            idx = acc.find(TOOL_CALL_BEGIN)
            if idx != -1:
                start = idx + len(TOOL_CALL_BEGIN)
                end = acc.find(TOOL_CALL_END, start)
                if end != -1:
                    try:
                        call = parse_tool_call(acc[start:end])
                    except ValueError:
                        pass  # Ollama logs it; the block end below skips it
                    else:
                        self._buf = trim_left_space(acc[end + len(TOOL_CALL_END) :])
                        calls.append(call)
                        return True
            return self._skip_past(acc, TOOL_CALLS_END)
        # COLLECTING_TOOL_OUTPUT: drop each output, then the block.
        idx = acc.find(TOOL_OUTPUT_BEGIN)
        if idx != -1:
            end = acc.find(TOOL_OUTPUT_END, idx + len(TOOL_OUTPUT_BEGIN))
            if end != -1:
                self._buf = trim_left_space(acc[end + len(TOOL_OUTPUT_END) :])
                return True
        return self._skip_past(acc, TOOL_OUTPUTS_END)

    def _skip_past(self, acc: str, block_end: str) -> bool:
        idx = acc.find(block_end)
        if idx == -1:
            return False
        self._buf = trim_left_space(acc[idx + len(block_end) :])
        self._state = _State.COLLECTING_CONTENT
        return True


def parse_tool_call(content: str) -> ToolCall:
    """Go's `CogitoParser.parseToolCallContent`: `TYPE<|tool sep|>NAME\\n```json\\nARGS\\n````
    (the type before the separator is not checked); ValueError when the shape or the JSON is off."""
    _, sep, name_and_args = content.partition(TOOL_SEP)
    if not sep:
        raise ValueError("invalid format")
    json_start = name_and_args.find(_JSON_OPEN)
    if json_start == -1:
        raise ValueError("invalid format")
    name = trim_space(name_and_args[:json_start])
    body = name_and_args[json_start + len(_JSON_OPEN) :]
    json_end = body.find(_JSON_CLOSE)
    if json_end == -1:
        raise ValueError("invalid format")
    return ToolCall(name=name, arguments=go_json.unmarshal_arguments(body[:json_end]))
