"""PARSER passthrough: everything is content, at once."""

from __future__ import annotations

from pyollama.parsers import parser_for_name
from tests.parsers.streaming import run, splits


def test_everything_is_content() -> None:
    text = "<think>x</think> <tool_call>{}</tool_call>  "
    for pieces in splits(text, ("<think>",)):
        assert run("passthrough", pieces, think=True) == (text, "", [])
    p = parser_for_name("passthrough")
    assert p is not None
    assert p.add("  a ", False) == ("  a ", "", [])
    assert (p.has_tool_support, p.has_thinking_support, p.preserved_tokens()) == (False, False, [])
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert p.init(tools, None, None) is tools
