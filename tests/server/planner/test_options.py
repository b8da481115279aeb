"""The load-time half of a request's options: LoRA scale, draft model and n-gram speculation reach
`LoadOptions` as Ollama's modelOptions decides them, and the engine configuration from there."""

from __future__ import annotations

from typing import Any

import pytest

from pyollama.config import Settings
from pyollama.errors import BadRequest
from pyollama.runner.native import engine_config
from pyollama.server.models import ModelInfo
from pyollama.server.planner.options import load_request, merge_options


def load(info: ModelInfo, **options: Any) -> dict[str, Any]:
    lo = load_request(Settings(), info, merge_options(info, options), None).options
    return engine_config(info.model_path, lo)


def test_no_adapter_no_draft() -> None:
    cfg = load(ModelInfo(name="m", model_path="/m.gguf"), draft_num_predict=8)
    assert "lora" not in cfg and "draft_model" not in cfg and "speculative" not in cfg


def test_adapters_with_their_scale() -> None:
    info = ModelInfo(name="m", model_path="/m.gguf", adapters=("/a.gguf",))
    assert load(info)["lora"] == ["/a.gguf"]
    assert load(info, lora_scale=0.0)["lora"] == [{"path": "/a.gguf", "scale": 0.0}]
    info = ModelInfo(name="m", model_path="/m.gguf", adapters=("/a.gguf",), parameters={"lora_scale": 0.5})
    assert load(info)["lora"] == [{"path": "/a.gguf", "scale": 0.5}]  # a Modelfile PARAMETER


def test_draft_model_drafts_four_by_default_and_zero_turns_it_off() -> None:
    info = ModelInfo(name="m", model_path="/m.gguf", draft="/d.gguf")
    cfg = load(info)
    assert (cfg["draft_model"], cfg["draft_n_max"]) == ("/d.gguf", 4)
    assert load(info, draft_num_predict=2)["draft_n_max"] == 2
    assert "draft_model" not in load(info, draft_num_predict=0)


def test_ngram_speculation_option() -> None:
    info = ModelInfo(name="m", model_path="/m.gguf")
    assert load(info, draft_ngram="ngram-mod")["speculative"] == ["ngram-mod"]
    assert "speculative" not in load(info, draft_ngram="")
    with pytest.raises(BadRequest, match="invalid draft_ngram value 'ngram-x'"):
        load(info, draft_ngram="ngram-x")
    with pytest.raises(
        BadRequest, match=r'option "draft_ngram" must be of type string - at `\$.options.draft_ngram`'
    ):
        load(info, draft_ngram=1)


def test_rpc_servers_reach_every_load() -> None:
    info = ModelInfo(name="m", model_path="/m.gguf")
    settings = Settings(rpc_servers=("10.0.0.2:50052", "10.0.0.3:50052"))
    lo = load_request(settings, info, merge_options(info, {}), None).options
    assert lo.rpc_servers == ("10.0.0.2:50052", "10.0.0.3:50052")
    assert engine_config(info.model_path, lo)["rpc"] == ["10.0.0.2:50052", "10.0.0.3:50052"]
    assert "rpc" not in load(info)
