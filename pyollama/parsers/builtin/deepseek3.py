"""DeepSeek-V3's output (Ollama's model/parsers/deepseek3.go).

PARSER `deepseek3`. With thinking on, the output starts inside the thinking (the renderer ends the
prompt with `<think>`) and `</think>` ends it; otherwise, or when a prefilled assistant message has
content, it is all content. Calls are (tags written here with ASCII `|` and `_`; DeepSeek's tokens
use U+FF5C FULLWIDTH VERTICAL LINE and U+2581 LOWER ONE EIGHTH BLOCK)

    <|tool_calls_begin|><|tool_call_begin|>NAME<|tool_sep|>{JSON}<|tool_call_end|>...<|tool_calls_end|>

and `<|tool_output_begin|>...<|tool_output_end|>` text is passed on as content.

As in Ollama: content streams at once, with no holding back of a partial tag (a tag split across
pieces reaches the user as text); thinking holds back a partial `</think>` and trailing whitespace.
A call whose JSON does not decode is skipped with a warning (not an error) and stays in the buffer,
so later calls wait until `<|tool_calls_end|>`. The last `add` (`done`) is not special.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strings import trim_left_space, trim_right_space, trim_space
from pyollama.parsers import Parsed, Think
from pyollama.parsers.common import overlap, trailing_whitespace_len
from pyollama.runner.types import ToolCall
from pyollama.think import think_bool

log = logging.getLogger(__name__)

THINK_CLOSE = "</think>"


def _tag(name: str) -> str:
    """A DeepSeek special token: `<|name|>` with U+FF5C bars and U+2581 for each `_`."""
    return "<\uff5c" + name.replace("_", "\u2581") + "\uff5c>"


TOOL_CALLS_BEGIN = _tag("tool_calls_begin")
TOOL_CALLS_END = _tag("tool_calls_end")
TOOL_CALL_BEGIN = _tag("tool_call_begin")
TOOL_CALL_END = _tag("tool_call_end")
TOOL_SEP = _tag("tool_sep")
TOOL_OUTPUT_BEGIN = _tag("tool_output_begin")
TOOL_OUTPUT_END = _tag("tool_output_end")


class _State(enum.Enum):
    COLLECTING_THINKING = 0
    COLLECTING_CONTENT = 1
    COLLECTING_TOOL_CALLS = 2
    COLLECTING_TOOL_OUTPUT = 3


_THINKING, _CONTENT = "thinking", "content"
_Event = tuple[str, str] | ToolCall


class DeepSeek3Parser:
    """Go's `DeepSeek3Parser`; a new instance per request."""

    has_tool_support = True

    def __init__(self, *, thinking: bool = True) -> None:
        self.has_thinking_support = thinking
        self._state = _State.COLLECTING_THINKING  # Go's zero value
        self._buffer = ""
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
        ]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        self._call_index = 0
        prefill = last_message is not None and last_message.get("role") == "assistant"
        thinking = self.has_thinking_support and think_bool(think)
        if not thinking or (prefill and last_message is not None and last_message.get("content")):
            self._state = _State.COLLECTING_CONTENT
        else:
            self._state = _State.COLLECTING_THINKING
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buffer += text
        content: list[str] = []
        thinking: list[str] = []
        calls: list[ToolCall] = []
        keep_going = True
        while keep_going:
            events, keep_going = self._eat()
            for event in events:
                if isinstance(event, ToolCall):
                    calls.append(event)
                elif event[0] == _THINKING:
                    thinking.append(event[1])
                else:
                    content.append(event[1])
        for call in calls:
            call.index = self._call_index
            self._call_index += 1
        return Parsed("".join(content), "".join(thinking), calls)

    def _eat(self) -> tuple[list[_Event], bool]:
        buf = self._buffer
        if buf == "":
            return [], False
        st = self._state
        if st is _State.COLLECTING_THINKING:
            thinking, found, rest = buf.partition(THINK_CLOSE)
            if found:
                thinking = trim_right_space(thinking)
                self._buffer = trim_left_space(rest)
                self._state = _State.COLLECTING_CONTENT
                return ([(_THINKING, thinking)] if thinking else []), True
            # hold back a partial </think> and the whitespace before it (or trailing whitespace)
            before_partial = buf[: len(buf) - overlap(buf, THINK_CLOSE)]
            start = len(before_partial) - trailing_whitespace_len(before_partial)
            unambiguous, self._buffer = buf[:start], buf[start:]
            return ([(_THINKING, unambiguous)] if unambiguous else []), False

        if st is _State.COLLECTING_CONTENT:
            if TOOL_CALLS_BEGIN in buf:
                before, _, rest = buf.partition(TOOL_CALLS_BEGIN)
                before = trim_right_space(before)
                self._buffer = rest
                self._state = _State.COLLECTING_TOOL_CALLS
                return ([(_CONTENT, before)] if before else []), True
            if TOOL_OUTPUT_BEGIN in buf:
                before, _, rest = buf.partition(TOOL_OUTPUT_BEGIN)  # spaces before it are kept
                self._buffer = rest
                self._state = _State.COLLECTING_TOOL_OUTPUT
                return ([(_CONTENT, before)] if before else []), True
            self._buffer = ""
            return [(_CONTENT, buf)], False

        if st is _State.COLLECTING_TOOL_CALLS:
            idx = buf.find(TOOL_CALL_BEGIN)
            if idx != -1:
                start = idx + len(TOOL_CALL_BEGIN)
                end = buf.find(TOOL_CALL_END, start)
                if end != -1:
                    try:
                        call = parse_tool_call_content(buf[start:end])
                    except ValueError as e:
                        log.warning("deepseek tool call parsing failed: %s", e)
                    else:
                        self._buffer = trim_left_space(buf[end + len(TOOL_CALL_END) :])
                        return [call], True
            idx = buf.find(TOOL_CALLS_END)
            if idx != -1:
                self._buffer = trim_left_space(buf[idx + len(TOOL_CALLS_END) :])
                self._state = _State.COLLECTING_CONTENT
                return [], True
            return [], False

        # COLLECTING_TOOL_OUTPUT: passed on as content once it ends (spaces after it are kept)
        output, found, rest = buf.partition(TOOL_OUTPUT_END)
        if found:
            self._buffer = rest
            self._state = _State.COLLECTING_CONTENT
            return ([(_CONTENT, output)] if output else []), True
        return [], False


def parse_tool_call_content(content: str) -> ToolCall:
    """`parseToolCallContent`: `NAME<|tool_sep|>{JSON}`; ValueError (GoJSONError) if malformed."""
    name, found, args_json = content.partition(TOOL_SEP)
    if not found:
        raise ValueError("invalid format")
    args = go_json.unmarshal_arguments(trim_space(args_json))
    return ToolCall(name=trim_space(name), arguments=args)
