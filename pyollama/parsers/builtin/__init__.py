"""Ollama's built-in parsers, one module per output format, and the table of their PARSER names."""

from __future__ import annotations

from collections.abc import Mapping

from pyollama.parsers import ParserFactory

PARSERS: Mapping[str, ParserFactory] = {}
"""PARSER name -> factory of a fresh parser (Ollama's `parsers.ParserForName`)."""
