"""Olmo 3 Think's output format (PARSER `olmo3-think`; Ollama's `Olmo3ThinkParser`):
`reasoning</think>answer`, no tool calls.

Renderer dependency: Ollama's olmo3-think renderer always ends the prompt with
`<|im_start|>assistant\\n<think>`, so the output starts inside the reasoning (whatever `think` says);
only an assistant prefill with content starts in the answer.

Streaming: reasoning is released as it comes, less trailing whitespace and a partial `</think>`;
whitespace before `</think>` is dropped, and after it what comes in the tag's own piece; the answer
passes through untouched. Ollama
never flushes reasoning held back at the end of the stream, and neither does this parser.
"""

from __future__ import annotations

import enum
from typing import Any

from pyollama.go.strings import trim_left_space, trim_right_space
from pyollama.parsers import Parsed, Think
from pyollama.parsers.common import continues_answer, overlap, trailing_whitespace_len

THINK_CLOSE = "</think>"


class _State(enum.Enum):
    COLLECTING_THINK = enum.auto()
    COLLECTING_CONTENT = enum.auto()


class Olmo3ThinkParser:
    """One request's Olmo 3 Think parser state."""

    has_tool_support: bool = False
    has_thinking_support: bool = True

    def __init__(self) -> None:
        self._state = _State.COLLECTING_THINK
        self._buf = ""

    def preserved_tokens(self) -> list[str]:
        return [THINK_CLOSE]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        continues = continues_answer(last_message)
        self._state = _State.COLLECTING_CONTENT if continues else _State.COLLECTING_THINK
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buf += text
        content: list[str] = []
        thinking: list[str] = []
        while self._eat(content, thinking):
            pass
        return Parsed("".join(content), "".join(thinking))

    def _eat(self, content: list[str], thinking: list[str]) -> bool:
        acc = self._buf
        if acc == "":
            return False
        if self._state is _State.COLLECTING_CONTENT:
            self._buf = ""
            content.append(acc)
            return False
        before, found, after = acc.partition(THINK_CLOSE)
        if found:
            self._buf = trim_left_space(after)
            self._state = _State.COLLECTING_CONTENT
            if trim_right_space(before):
                thinking.append(trim_right_space(before))
            return True
        # Hold back a partial </think> and the whitespace before it (or just trailing whitespace).
        head = acc[: len(acc) - overlap(acc, THINK_CLOSE)]
        start = len(head) - trailing_whitespace_len(head)
        self._buf = acc[start:]
        if start:
            thinking.append(acc[:start])
        return False
