"""Planning decisions that need no runner."""

from __future__ import annotations

from typing import Any

import msgspec

from pyollama.config import Settings
from pyollama.server.models import ModelInfo
from pyollama.server.planner.plan import plan_chat
from pyollama.server.schemas import ChatRequest, ModelDetails


def _info(**kw: Any) -> ModelInfo:
    details = ModelDetails(format="gguf", family="gemma3", parameter_size="1", quantization_level="Q4_K_M")
    return ModelInfo(name="g:latest", model_path="/m", digest="d" * 64, details=details, **kw)


def _chat() -> ChatRequest:
    return msgspec.convert({"model": "g", "messages": [{"role": "user", "content": "hi"}]}, ChatRequest)


def test_a_model_without_any_template_renders_ollamas_default() -> None:
    # a GGUF with no tokenizer.chat_template and no TEMPLATE: Ollama's {{ .Prompt }}, not ChatML
    p = plan_chat(Settings(), _info(prompt_source="none", capabilities=("completion",)), _chat())
    assert p.mode == "rendered" and p.template is None


def test_a_gguf_template_goes_to_llama_cpp() -> None:
    p = plan_chat(Settings(), _info(prompt_source="jinja", capabilities=("completion",)), _chat())
    assert p.mode == "jinja"
