"""The PARSERS table and parser_for_name: Ollama's names, a fresh parser each time."""

from __future__ import annotations

from pyollama.parsers import BuiltinParser, parser_for_name, parser_names
from pyollama.parsers.builtin import PARSERS

GROUP_1 = {"qwen3", "qwen3-thinking", "qwen3-coder", "harmony", "deepseek3", "passthrough"}


def test_names() -> None:
    assert set(PARSERS) >= GROUP_1
    assert set(parser_names()) >= GROUP_1
    assert parser_for_name("nonexistent-parser") is None


def test_a_fresh_parser_each_time() -> None:
    for name in GROUP_1:
        a, b = parser_for_name(name), parser_for_name(name)
        assert a is not None and b is not None and a is not b
        assert isinstance(a.has_tool_support, bool) and isinstance(a.has_thinking_support, bool)
        parser: BuiltinParser = a  # the protocol, statically
        assert parser.preserved_tokens() == b.preserved_tokens()
