"""Ollama's built-in renderers, one module per prompt format, and the table of their RENDERER names."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from pyollama.renderers import RendererFactory
from pyollama.renderers.builtin.cogito import CogitoRenderer
from pyollama.renderers.builtin.deepseek3 import DeepSeek3Renderer
from pyollama.renderers.builtin.gemma4 import Gemma4Renderer
from pyollama.renderers.builtin.glm47 import GLM47Renderer
from pyollama.renderers.builtin.lfm2 import LFM2Renderer
from pyollama.renderers.builtin.olmo3 import Olmo3Renderer
from pyollama.renderers.builtin.olmo3_think import Olmo3ThinkRenderer
from pyollama.renderers.builtin.qwen3coder import Qwen3CoderRenderer
from pyollama.renderers.builtin.qwen3vl import Qwen3VLRenderer
from pyollama.renderers.builtin.qwen35 import Qwen35Renderer

RENDERERS: Mapping[str, RendererFactory] = {
    "qwen3-coder": Qwen3CoderRenderer,
    "qwen3-vl-instruct": partial(Qwen3VLRenderer, thinking=False),
    "qwen3-vl-thinking": partial(Qwen3VLRenderer, thinking=True),
    "qwen3.5": Qwen35Renderer,
    "cogito": CogitoRenderer,
    "deepseek3.1": DeepSeek3Renderer,
    "olmo3": Olmo3Renderer,
    "olmo3.1": partial(Olmo3Renderer, extended_system_message=True),
    "olmo3-think": Olmo3ThinkRenderer,
    "olmo3-32b-think": partial(Olmo3ThinkRenderer, variant_32b=True),
    "gemma4": Gemma4Renderer,
    "gemma4-small": Gemma4Renderer,
    "gemma4-large": partial(Gemma4Renderer, empty_block_on_nothink=True),
    "glm-4.7": GLM47Renderer,
    "lfm2": partial(LFM2Renderer, thinking=False),
    "lfm2-thinking": partial(LFM2Renderer, thinking=True),
}
"""RENDERER name -> factory (Ollama's `renderers.rendererForName`)."""
