"""Gemma 4's output format (PARSERs `gemma4` and `gemma4-no-thinking`; Ollama's `Gemma4Parser`).

    <|channel>thought\\nreasoning<channel|>answer<|tool_call>call:get_weather{city:<|"|>Paris<|"|>}<tool_call|>

Thinking is on only for `gemma4` with `think` true or a level; a `<|channel>...<channel|>` block
written with thinking off is dropped, not shown as content. The `thought\\n` channel name after
`<|channel>` is stripped. The argument syntax and its repairs live in `_gemma4_args`.

Renderer dependency: with thinking on, Ollama's gemma4 renderer prefills `<|channel>thought\\n`
after a tool response, so when the last message is a tool result the output starts inside the
reasoning, channel name already written. An assistant prefill with content starts in the answer.

Streaming: content is released less a partial `<|channel>`/`<|tool_call>` and the whitespace before
it; reasoning less trailing whitespace and a partial `<channel|>`; on the final piece all of it is
released. Whitespace next to a tag is trimmed only within the tag's own piece. A call is released at
`<tool_call|>`, or at the end of the stream if it was not closed; one that does not parse is dropped
(Ollama logs it). Right after a call, stray `<tool_call|>` and `<|tool_response>` markers are
dropped."""

from __future__ import annotations

import contextlib
import enum
from typing import Any

from pyollama.go.strings import trim_left_space, trim_right_space
from pyollama.parsers import Parsed, Think
from pyollama.parsers.builtin._gemma4_args import STRING_DELIMITER, parse_tool_call
from pyollama.parsers.common import overlap, trailing_whitespace_len
from pyollama.runner.types import ToolCall
from pyollama.think import think_bool

THINKING_OPEN = "<|channel>"
THINKING_CLOSE = "<channel|>"
TOOL_CALL_OPEN = "<|tool_call>"
TOOL_CALL_CLOSE = "<tool_call|>"
TOOL_RESPONSE = "<|tool_response>"
_CHANNEL_NAME = "thought\n"


class _State(enum.Enum):
    COLLECTING_CONTENT = enum.auto()
    COLLECTING_THINKING = enum.auto()
    COLLECTING_TOOL_CALL = enum.auto()
    IGNORING_POST_TOOL_CALL_NOISE = enum.auto()


class Gemma4Parser:
    """One request's Gemma 4 parser state; `thinking` is the model's capability (`gemma4`)."""

    has_tool_support: bool = True
    has_thinking_support: bool

    def __init__(self, thinking: bool = True) -> None:
        self.has_thinking_support = thinking
        self._state = _State.COLLECTING_CONTENT
        self._buf = ""
        self._tools: list[dict[str, Any]] | None = None
        self._call_index = 0
        self._thinking_enabled = False
        self._strip_channel_name = False  # just entered a channel: "thought\n" may follow

    def preserved_tokens(self) -> list[str]:
        return [
            THINKING_OPEN,
            THINKING_CLOSE,
            TOOL_CALL_OPEN,
            TOOL_CALL_CLOSE,
            TOOL_RESPONSE,
            STRING_DELIMITER,
        ]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        self._tools = tools
        self._call_index = 0
        self._thinking_enabled = self.has_thinking_support and think_bool(think)
        if self._thinking_enabled and last_message is not None and last_message.get("role") == "tool":
            # The renderer reopened the thought channel after the tool result.
            self._state = _State.COLLECTING_THINKING
            self._strip_channel_name = False
        else:
            # Thinking or not, the output opens in content; a <|channel> switches to thinking.
            self._state = _State.COLLECTING_CONTENT
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buf += text
        content: list[str] = []
        thinking: list[str] = []
        calls: list[ToolCall] = []
        while self._eat(done, content, thinking, calls):
            pass
        for call in calls:
            call.index = self._call_index
            self._call_index += 1
        # With thinking off the channel's text is dropped.
        return Parsed("".join(content), "".join(thinking) if self._thinking_enabled else "", calls)

    def _eat(self, done: bool, content: list[str], thinking: list[str], calls: list[ToolCall]) -> bool:
        acc = self._buf
        if acc == "":
            return False
        state = self._state
        if state is _State.COLLECTING_CONTENT:
            return self._eat_content(acc, done, content)
        if state is _State.COLLECTING_THINKING:
            return self._eat_thinking(acc, done, thinking)
        if state is _State.COLLECTING_TOOL_CALL:
            body, found, rest = acc.partition(TOOL_CALL_CLOSE)
            if found:
                self._buf = trim_left_space(rest)
                self._state = _State.IGNORING_POST_TOOL_CALL_NOISE
                self._parse_call(body, calls)
                return True
            if done:
                # The model may stop before <tool_call|>: take the call as it stands.
                self._buf = ""
                self._state = _State.COLLECTING_CONTENT
                self._parse_call(acc, calls)
            return False
        return self._eat_post_call_noise(acc, done)

    def _parse_call(self, body: str, calls: list[ToolCall]) -> None:
        with contextlib.suppress(ValueError):  # Ollama logs a call it cannot parse and goes on
            calls.append(parse_tool_call(body, self._tools))

    def _eat_content(self, acc: str, done: bool, content: list[str]) -> bool:
        for tag, next_state in (
            (THINKING_OPEN, _State.COLLECTING_THINKING),
            (TOOL_CALL_OPEN, _State.COLLECTING_TOOL_CALL),
        ):
            before, found, after = acc.partition(tag)
            if found:
                self._buf = after
                self._state = next_state
                if next_state is _State.COLLECTING_THINKING:
                    self._strip_channel_name = True
                if trim_right_space(before):
                    content.append(trim_right_space(before))
                return True
        if not done:
            n = max(overlap(acc, THINKING_OPEN), overlap(acc, TOOL_CALL_OPEN))
            if n > 0:
                head = acc[: len(acc) - n]
                start = len(head) - trailing_whitespace_len(head)
                self._buf = acc[start:]
                if start:
                    content.append(acc[:start])
                return False
        self._buf = ""
        content.append(acc)
        return False

    def _eat_thinking(self, acc: str, done: bool, thinking: list[str]) -> bool:
        if self._strip_channel_name:
            if acc.startswith(_CHANNEL_NAME):
                acc = self._buf = acc[len(_CHANNEL_NAME) :]
                self._strip_channel_name = False
            elif not done and _CHANNEL_NAME.startswith(acc):
                return False  # "thought" and its newline may come in separate pieces
            else:
                self._strip_channel_name = False  # another channel name: keep it
        before, found, after = acc.partition(THINKING_CLOSE)
        if found:
            self._buf = trim_left_space(after)
            self._state = _State.COLLECTING_CONTENT
            if trim_right_space(before):
                thinking.append(trim_right_space(before))
            return True
        if done:
            self._buf = ""
            if acc:
                thinking.append(acc)
            return False
        # Hold back a partial <channel|> with the whitespace before it, or just trailing whitespace.
        head = acc[: len(acc) - overlap(acc, THINKING_CLOSE)]
        start = len(head) - trailing_whitespace_len(head)
        self._buf = acc[start:]
        if start:
            thinking.append(acc[:start])
        return False

    def _eat_post_call_noise(self, acc: str, done: bool) -> bool:
        """Gemma 4 sometimes repeats <tool_call|> after a call, and the upstream template uses
        <|tool_response> as the boundary after one: drop those markers (a reply that really begins
        with one of them loses it, the trade Ollama makes)."""
        acc = trim_left_space(acc)
        while True:
            for marker in (TOOL_CALL_CLOSE, TOOL_RESPONSE):
                if acc.startswith(marker):
                    acc = trim_left_space(acc[len(marker) :])
                    break
            else:
                break
        self._buf = acc
        if acc == "":
            return False
        if TOOL_CALL_CLOSE.startswith(acc) or TOOL_RESPONSE.startswith(acc):
            if done:  # a marker's start at the very end is dropped too
                self._buf = ""
                self._state = _State.COLLECTING_CONTENT
            return False
        self._state = _State.COLLECTING_CONTENT
        return True
