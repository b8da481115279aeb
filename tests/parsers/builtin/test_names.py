from __future__ import annotations

import pytest

from pyollama.parsers import parser_for_name
from pyollama.parsers.builtin import PARSERS

# name -> (class, has_thinking_support), as Ollama's ParserForName sets them up
NAMES = {
    "glm-4.7": ("GLM47Parser", True),
    "olmo3": ("Olmo3Parser", False),
    "olmo3-think": ("Olmo3ThinkParser", True),
    "lfm2": ("LFM2Parser", False),
    "lfm2-thinking": ("LFM2Parser", True),
    "cogito": ("CogitoParser", True),
    "ministral": ("MinistralParser", False),
    "gemma4": ("Gemma4Parser", True),
    "gemma4-no-thinking": ("Gemma4Parser", False),
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_names_make_fresh_parsers(name: str) -> None:
    assert name in PARSERS
    a, b = parser_for_name(name), parser_for_name(name)
    assert a is not None and b is not None and a is not b
    cls, thinks = NAMES[name]
    assert type(a).__name__ == cls
    assert a.has_thinking_support is thinks
    assert a.has_tool_support is (name != "olmo3-think")
    assert all(isinstance(t, str) and t for t in a.preserved_tokens())
