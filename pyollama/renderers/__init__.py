"""Built-in prompt renderers: Ollama's `model/renderers`, named by a model's `RENDERER`.

A renderer turns a chat (messages, tools, think) into the exact prompt text a model family was
trained on, where a Go TEMPLATE cannot express it (qwen3-coder's XML tool calls, gpt-oss's Harmony
channels, ...). Its output goes to llama.cpp's `/completion` as the prompt; the matching output
parser (`pyollama.parsers`) reads the answer.

Messages and tools are Ollama's wire dicts (`/api/chat`'s `messages[i]`, `tools[i]`; tool-call
`arguments` as objects). Images in a message are written as `[img-N]` tags (`N` counting every
image of the chat from 0, in order) where the model's own image placeholder goes; the runner swaps
them for llama.cpp's media marker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pyollama.think import Think


class RendererError(Exception):
    """A chat the renderer cannot express (Ollama answers 500 with this message)."""


class Renderer(Protocol):
    """Ollama's `renderers.Renderer`."""

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        """The prompt for these messages, ending where the model's answer begins."""
        ...

    def leading_bos(self) -> str:
        """Text the prompt must start with (a BOS written as text), or ""."""
        ...


RendererFactory = Callable[[], Renderer]


def renderer_for_name(name: str) -> Renderer | None:
    """A renderer for a model's RENDERER name, or None for a name pyollama does not know."""
    from pyollama.renderers.builtin import RENDERERS  # the built-ins import this module

    factory = RENDERERS.get(name)
    return factory() if factory is not None else None


def renderer_names() -> list[str]:
    from pyollama.renderers.builtin import RENDERERS

    return sorted(RENDERERS)


__all__ = ["Renderer", "RendererError", "RendererFactory", "Think", "renderer_for_name", "renderer_names"]
