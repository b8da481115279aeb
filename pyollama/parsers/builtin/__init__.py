"""Ollama's built-in parsers, one module per output format, and the table of their PARSER names."""

from __future__ import annotations

from collections.abc import Mapping

from pyollama.parsers import ParserFactory
from pyollama.parsers.builtin.deepseek3 import DeepSeek3Parser
from pyollama.parsers.builtin.harmony import HarmonyMessageHandler
from pyollama.parsers.builtin.passthrough import PassthroughParser
from pyollama.parsers.builtin.qwen3 import Qwen3Parser
from pyollama.parsers.builtin.qwen3coder import Qwen3CoderParser

PARSERS: Mapping[str, ParserFactory] = {
    "deepseek3": lambda: DeepSeek3Parser(thinking=True),
    "harmony": HarmonyMessageHandler,
    "passthrough": PassthroughParser,
    "qwen3": lambda: Qwen3Parser(thinking=False),
    "qwen3-coder": Qwen3CoderParser,
    "qwen3-thinking": lambda: Qwen3Parser(thinking=True),
}
"""PARSER name -> factory of a fresh parser (Ollama's `parsers.ParserForName`)."""
