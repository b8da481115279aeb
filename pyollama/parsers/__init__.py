"""Output parsers: tool calls and thinking out of a model's raw text stream.

What Ollama's `model/parsers`, `thinking` and `tools` packages do for the rendered path (a Go
TEMPLATE or a built-in RENDERER feeding llama.cpp's `/completion`): the raw text of each streamed
piece goes in, and what comes out is split into answer `content`, `thinking` and complete tool
calls. A parser holds back text that may be the start of a tag (`<too` could open `<tool_call>`) until
the next piece decides it.

Built-in parsers are named by a model's `PARSER` (Modelfile) / `parser` (config blob): `qwen3`,
`harmony`, `deepseek3`, ... (`parser_for_name`). The generic ones that Ollama derives from a Go
TEMPLATE (thinking tags, the tool-call tag) live in `pyollama.parsers.thinking` and
`pyollama.parsers.tools`.

Messages and tools are Ollama's wire dicts (`/api/chat`'s `messages[i]` and `tools[i]`, tool-call
`arguments` as objects); the planner passes them in that shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from pyollama.runner.types import ToolCall
from pyollama.think import Think


class ParserError(Exception):
    """The model's output could not be parsed (Ollama ends the stream with this as an error line)."""


class Parsed(NamedTuple):
    """What one `add` call releases: answer text, thinking text, and tool calls now complete."""

    content: str = ""
    thinking: str = ""
    calls: list[ToolCall] = []


class BuiltinParser(Protocol):
    """One request's parser state (a new instance per request; Ollama's `parsers.Parser`)."""

    has_tool_support: bool
    has_thinking_support: bool

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        """Prepare for a request; returns the tools the renderer should see (most parsers: unchanged).

        `last_message` is the last message of the prompt (an assistant prefill continues it)."""
        ...

    def add(self, text: str, done: bool) -> Parsed:
        """Feed one streamed piece; `done` on the last one (drain what is held back).

        Tool calls carry `name`, `arguments` and `index` (0, 1, ... in order); ids are the caller's.
        Raises `ParserError` on output that cannot be parsed."""
        ...

    def preserved_tokens(self) -> list[str]:
        """Special tokens the parser must see in the text (llama.cpp drops special tokens from its
        output unless asked to keep them)."""
        ...


ParserFactory = Callable[[], BuiltinParser]


def parser_for_name(name: str) -> BuiltinParser | None:
    """A fresh parser for a model's PARSER name, or None for a name pyollama does not know."""
    from pyollama.parsers.builtin import PARSERS  # the built-ins import this module

    factory = PARSERS.get(name)
    return factory() if factory is not None else None


def parser_names() -> list[str]:
    from pyollama.parsers.builtin import PARSERS

    return sorted(PARSERS)


__all__ = [
    "BuiltinParser",
    "Parsed",
    "ParserError",
    "ParserFactory",
    "Think",
    "parser_for_name",
    "parser_names",
]
