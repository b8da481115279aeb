"""Ollama's built-in parsers, one module per output format, and the table of their PARSER names."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from pyollama.parsers import ParserFactory
from pyollama.parsers.builtin.cogito import CogitoParser
from pyollama.parsers.builtin.deepseek3 import DeepSeek3Parser
from pyollama.parsers.builtin.gemma4 import Gemma4Parser
from pyollama.parsers.builtin.glm47 import GLM47Parser
from pyollama.parsers.builtin.harmony import HarmonyMessageHandler
from pyollama.parsers.builtin.lfm2 import LFM2Parser
from pyollama.parsers.builtin.ministral import MinistralParser
from pyollama.parsers.builtin.olmo3 import Olmo3Parser
from pyollama.parsers.builtin.olmo3_think import Olmo3ThinkParser
from pyollama.parsers.builtin.passthrough import PassthroughParser
from pyollama.parsers.builtin.qwen3 import Qwen3Parser
from pyollama.parsers.builtin.qwen3coder import Qwen3CoderParser

PARSERS: Mapping[str, ParserFactory] = {
    # qwen3, qwen3-coder, harmony, deepseek3, passthrough
    "deepseek3": lambda: DeepSeek3Parser(thinking=True),
    "harmony": HarmonyMessageHandler,
    "passthrough": PassthroughParser,
    "qwen3": lambda: Qwen3Parser(thinking=False),
    "qwen3-coder": Qwen3CoderParser,
    "qwen3-thinking": lambda: Qwen3Parser(thinking=True),
    # glm-4.7, olmo3, lfm2, cogito, ministral, gemma4 (the names in Ollama's ParserForName)
    "glm-4.7": GLM47Parser,
    "olmo3": Olmo3Parser,
    "olmo3-think": Olmo3ThinkParser,
    "lfm2": partial(LFM2Parser, thinking=False),
    "lfm2-thinking": partial(LFM2Parser, thinking=True),
    "cogito": CogitoParser,
    "ministral": partial(MinistralParser, thinking=False),
    "gemma4": partial(Gemma4Parser, thinking=True),
    "gemma4-no-thinking": partial(Gemma4Parser, thinking=False),
}
"""PARSER name -> factory of a fresh parser (Ollama's `parsers.ParserForName`)."""
