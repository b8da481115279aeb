"""The prompt planner: for any generate/chat request, how its prompt is built and its output read.

One place decides, per request, which renderer builds the prompt (a Go TEMPLATE, an Ollama
built-in RENDERER, or the GGUF's Jinja template inside llama.cpp), fits it to the context with one
algorithm, chooses the sampling, format/grammar and tool-choice constraints, and which output
parsers turn the raw stream into content, thinking and tool calls. Routes (Ollama, OpenAI,
Anthropic) only decode, plan, run and write.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class ToolChoice(msgspec.Struct, frozen=True, kw_only=True):
    """OpenAI's / Anthropic's `tool_choice`, normalised: `auto` (the model decides), `none` (no
    tools offered), `required` (at least one call), or `required` with `name` (that function)."""

    mode: Literal["auto", "none", "required"] = "auto"
    name: str | None = None


AUTO = ToolChoice()
