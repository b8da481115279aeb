"""Qwen3's output: `<think>` thinking and JSON `<tool_call>`s (Ollama's model/parsers/qwen3.go).

PARSER `qwen3` (no thinking support) and `qwen3-thinking` (thinks unless the request says not to).

Renderer detail: with thinking on, the prompt (the model's template or renderer) ends with
`<think>`, so the output starts inside the thinking, without an opening tag; some checkpoints
repeat the tag anyway, and one leading `<think>` is dropped. A `<tool_call>` before `</think>`
ends the thinking too.

Calls are `{"name": ..., "arguments": {...}}` between `<tool_call>` and `</tool_call>`, decoded
as Go decodes them into a struct (field names matched ignoring case, other members ignored);
output that does not decode ends the stream with Go's error. The last `add` (`done`) is not
special: trailing whitespace held back for a possible tag is never released, as in Ollama.
"""

from __future__ import annotations

import enum
from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strings import trim_left_space
from pyollama.parsers import Parsed, ParserError, Think
from pyollama.parsers.common import overlap, split_at_tag, trailing_whitespace_len
from pyollama.runner.types import ToolCall
from pyollama.think import think_bool

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
TOOL_OPEN = "<tool_call>"
TOOL_CLOSE = "</tool_call>"

# reflect's name of the anonymous struct qwen3.go decodes a call into, as Go's errors print it
_CALL_STRUCT = (
    'struct { Name string "json:\\"name\\""; Arguments api.ToolCallFunctionArguments "json:\\"arguments\\"" }'
)


class _State(enum.Enum):
    LOOKING_FOR_THINKING_OPEN = 0
    THINKING_STARTED_EATING_WHITESPACE = 1
    COLLECTING_THINKING = 2
    THINKING_DONE_EATING_WHITESPACE = 3
    COLLECTING_CONTENT = 4
    TOOL_STARTED_EATING_WHITESPACE = 5
    COLLECTING_TOOL_CONTENT = 6


# events between `_eat` and `add` (Go's qwen3Event types)
_THINKING, _CONTENT, _RAW_CALL = "thinking", "content", "call"
_Event = tuple[str, str]


class Qwen3Parser:
    """Go's `Qwen3Parser`; a new instance per request."""

    has_tool_support = True

    def __init__(self, *, thinking: bool) -> None:
        self.has_thinking_support = thinking
        self._default_thinking = thinking
        # Go's zero value: a parser used without Init looks for an opening tag
        self._state = _State.LOOKING_FOR_THINKING_OPEN
        self._buffer = ""
        self._call_index = 0
        self._maybe_thinking_open_at_bol = False

    def preserved_tokens(self) -> list[str]:
        return [THINK_OPEN, THINK_CLOSE, TOOL_OPEN, TOOL_CLOSE]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        self._buffer = ""
        self._call_index = 0
        enabled = self._default_thinking if think is None else think_bool(think)
        if self.has_thinking_support and enabled:
            self._state = _State.COLLECTING_THINKING
            self._maybe_thinking_open_at_bol = True
        else:
            self._state = _State.COLLECTING_CONTENT
            self._maybe_thinking_open_at_bol = False
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buffer += text
        content: list[str] = []
        thinking: list[str] = []
        calls: list[ToolCall] = []
        for kind, value in self._parse_events():
            if kind == _RAW_CALL:
                call = parse_tool_call(value)  # raises ParserError: this piece's output is dropped
                call.index = self._call_index
                self._call_index += 1
                calls.append(call)
            elif kind == _THINKING:
                thinking.append(value)
            else:
                content.append(value)
        return Parsed("".join(content), "".join(thinking), calls)

    def _parse_events(self) -> list[_Event]:
        events: list[_Event] = []
        keep_going = True
        while keep_going:
            new, keep_going = self._eat()
            events.extend(new)
        return events

    def _eat_leading_whitespace_and_transition_to(self, state: _State) -> tuple[list[_Event], bool]:
        trimmed = trim_left_space(self._buffer)
        self._buffer = ""
        if trimmed == "":
            return [], False
        self._state = state
        self._buffer = trimmed
        return [], True

    def _split_at_tag(self, tag: str, trim_after: bool) -> tuple[str, str]:
        before, self._buffer = split_at_tag(self._buffer, tag, trim_after)
        return before, self._buffer

    def _emit_unambiguous(self, kind: str, overlap_len: int) -> list[_Event]:
        """Emit all but a possible partial tag of `overlap_len` and the whitespace before it."""
        acc = self._buffer
        before_partial = acc[: len(acc) - overlap_len]
        start = len(before_partial) - trailing_whitespace_len(before_partial)
        unambiguous, self._buffer = acc[:start], acc[start:]
        return [(kind, unambiguous)] if unambiguous else []

    def _eat(self) -> tuple[list[_Event], bool]:
        st = self._state
        events: list[_Event] = []
        if st is _State.LOOKING_FOR_THINKING_OPEN:
            trimmed = trim_left_space(self._buffer)
            if trimmed.startswith(THINK_OPEN):
                after = trim_left_space(trimmed[len(THINK_OPEN) :])
                self._buffer = after
                self._state = (
                    _State.THINKING_STARTED_EATING_WHITESPACE if after == "" else _State.COLLECTING_THINKING
                )
                return events, True
            if THINK_OPEN.startswith(trimmed):
                return events, False
            self._state = _State.COLLECTING_CONTENT
            return events, True

        if st is _State.THINKING_STARTED_EATING_WHITESPACE:
            return self._eat_leading_whitespace_and_transition_to(_State.COLLECTING_THINKING)

        if st is _State.COLLECTING_THINKING:
            acc = self._buffer
            # some checkpoints write <think> although the prompt ended with it: drop one
            if self._maybe_thinking_open_at_bol:
                trimmed = trim_left_space(acc)
                if trimmed.startswith(THINK_OPEN):
                    after = trim_left_space(trimmed[len(THINK_OPEN) :])
                    self._buffer = after
                    if after == "":
                        return events, False
                    self._maybe_thinking_open_at_bol = False
                    return events, True
                if THINK_OPEN.startswith(trimmed):
                    return events, False
                self._maybe_thinking_open_at_bol = False
            close_idx = acc.find(THINK_CLOSE)
            tool_idx = acc.find(TOOL_OPEN)
            # a tool call before </think> ends the thinking
            if tool_idx != -1 and (close_idx == -1 or tool_idx < close_idx):
                before, after = self._split_at_tag(TOOL_OPEN, True)
                if before:
                    events.append((_THINKING, before))
                self._state = (
                    _State.TOOL_STARTED_EATING_WHITESPACE if after == "" else _State.COLLECTING_TOOL_CONTENT
                )
                return events, True
            if close_idx != -1:
                thinking, remaining = self._split_at_tag(THINK_CLOSE, True)
                if thinking:
                    events.append((_THINKING, thinking))
                self._state = (
                    _State.THINKING_DONE_EATING_WHITESPACE if remaining == "" else _State.COLLECTING_CONTENT
                )
                return events, True
            n = max(overlap(acc, THINK_CLOSE), overlap(acc, TOOL_OPEN))
            return self._emit_unambiguous(_THINKING, n), False

        if st is _State.THINKING_DONE_EATING_WHITESPACE:
            return self._eat_leading_whitespace_and_transition_to(_State.COLLECTING_CONTENT)

        if st is _State.COLLECTING_CONTENT:
            if TOOL_OPEN in self._buffer:
                before, after = self._split_at_tag(TOOL_OPEN, True)
                if before:
                    events.append((_CONTENT, before))
                self._state = (
                    _State.TOOL_STARTED_EATING_WHITESPACE if after == "" else _State.COLLECTING_TOOL_CONTENT
                )
                return events, True
            return self._emit_unambiguous(_CONTENT, overlap(self._buffer, TOOL_OPEN)), False

        if st is _State.TOOL_STARTED_EATING_WHITESPACE:
            return self._eat_leading_whitespace_and_transition_to(_State.COLLECTING_TOOL_CONTENT)

        # COLLECTING_TOOL_CONTENT: nothing streams from inside a call; wait for the closing tag
        if TOOL_CLOSE in self._buffer:
            raw, _ = self._split_at_tag(TOOL_CLOSE, True)
            events.append((_RAW_CALL, raw))
            self._state = _State.COLLECTING_CONTENT
            return events, True
        return events, False


def parse_tool_call(raw: str) -> ToolCall:
    """`parseQwen3ToolCall`: Go's `json.Unmarshal` of `raw` into `{Name string; Arguments
    api.ToolCallFunctionArguments}`, with Go's error messages."""
    try:
        v = go_json.decode(raw)
        name, args = _decode_call(v)
    except go_json.JSONError as e:
        raise ParserError(f"failed to parse JSON: {e}") from None
    if name == "":
        raise ParserError("empty function name")
    return ToolCall(name=name, arguments=args)


def _decode_call(v: Any) -> tuple[str, dict[str, Any]]:
    name = ""
    args: dict[str, Any] = {}
    saved: str | None = None  # Go's decoder keeps the first type error and goes on
    if v is None:
        return name, args  # null into a struct: no effect
    if not isinstance(v, dict):
        raise go_json.JSONError(
            f"json: cannot unmarshal {go_json.kind(v)} into Go value of type {_CALL_STRUCT}"
        )
    for key, value in v.items():
        field = go_json.fold_name(key)
        if field == "NAME":
            if value is None:
                continue
            if isinstance(value, str) and not isinstance(value, go_json.Overflow):
                name = value
            elif saved is None:
                kind = go_json.kind(value)
                saved = f"json: cannot unmarshal {kind} into Go struct field .name of type string"
        elif field == "ARGUMENTS":
            # the ordered map's errors are not deferred; Go names the field in a number's error
            overflow = go_json.first_overflow(value)
            if overflow is not None and isinstance(value, dict):
                where = "Go struct field .arguments of type float64"
                raise go_json.JSONError(f"json: cannot unmarshal number {overflow} into {where}")
            args = go_json.arguments_from_value(value)
    if saved is not None:
        raise go_json.JSONError(saved)
    return name, args
