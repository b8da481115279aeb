"""The RENDERER name table: every name Ollama's rendererForName maps for these renderers."""

from __future__ import annotations

import pytest

from pyollama.renderers import renderer_for_name, renderer_names
from pyollama.renderers.builtin import RENDERERS

BOS = {
    "qwen3-coder": "",
    "qwen3-vl-instruct": "",
    "qwen3-vl-thinking": "",
    "qwen3.5": "",
    "cogito": "<｜begin▁of▁sentence｜>",  # noqa: RUF001
    "deepseek3.1": "<｜begin▁of▁sentence｜>",  # noqa: RUF001
    "olmo3": "",
    "olmo3.1": "",
    "olmo3-think": "",
    "olmo3-32b-think": "",
    "gemma4": "<bos>",
    "gemma4-small": "<bos>",
    "gemma4-large": "<bos>",
    "glm-4.7": "",
    "lfm2": "<|startoftext|>",
    "lfm2-thinking": "<|startoftext|>",
}


def test_table_names() -> None:
    assert set(BOS) <= set(RENDERERS)
    assert set(BOS) <= set(renderer_names())
    assert renderer_for_name("no-such-renderer") is None


@pytest.mark.parametrize("name", sorted(BOS))
def test_each_renderer_renders_and_has_its_bos(name: str) -> None:
    r = renderer_for_name(name)
    assert r is not None
    assert r.leading_bos() == BOS[name]
    prompt = r.render([{"role": "user", "content": "Hi"}], None, None)
    assert "Hi" in prompt
    assert prompt.startswith(BOS[name])
