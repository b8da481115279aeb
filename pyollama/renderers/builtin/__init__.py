"""Ollama's built-in renderers, one module per prompt format, and the table of their RENDERER names."""

from __future__ import annotations

from collections.abc import Mapping

from pyollama.renderers import RendererFactory

RENDERERS: Mapping[str, RendererFactory] = {}
"""RENDERER name -> factory (Ollama's `renderers.rendererForName`)."""
