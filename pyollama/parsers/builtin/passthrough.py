"""PARSER `passthrough` (Ollama's `PassthroughParser` in model/parsers/parsers.go): all text is
content, nothing is held back, no tools and no thinking."""

from __future__ import annotations

from typing import Any

from pyollama.parsers import Parsed, Think


class PassthroughParser:
    has_tool_support = False
    has_thinking_support = False

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        return Parsed(text, "", [])

    def preserved_tokens(self) -> list[str]:
        return []
