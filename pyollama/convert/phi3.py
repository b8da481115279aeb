"""Phi-3 / Phi-3.5 decoders (Ollama's convert_phi3.go): fused QKV and gate-up projections, and the
long/short rope factors of the 128k models as their own tensors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from pyollama.convert.base import ModelConverter, Source, cfg_or
from pyollama.convert.gguf_writer import GGML_F32, OutTensor, Value, u32
from pyollama.convert.tokenizer import Vocab


def _f32(v: object) -> Value:
    return Value(6, float(v or 0))  # type: ignore[arg-type]


def _const(a: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: a


class Phi3Converter(ModelConverter):
    arch = "phi3"
    replacements: ClassVar[tuple[str, ...]] = (
        "lm_head", "output",
        "model.embed_tokens", "token_embd",
        "model.norm", "output_norm",
        "model.layers", "blk",
        "input_layernorm", "attn_norm",
        "self_attn.qkv_proj", "attn_qkv",
        "self_attn.o_proj", "attn_output",
        "mlp.down_proj", "ffn_down",
        "mlp.gate_up_proj", "ffn_up",
        "post_attention_layernorm", "ffn_norm",
    )  # fmt: skip

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        kv = super().kv(vocab)
        c = self.cfg
        a = self.a
        hidden = int(cfg_or(c, "hidden_size", "n_embd"))
        heads = int(cfg_or(c, "num_attention_heads", "n_head"))
        kv[a("context_length")] = u32(int(c.get("max_position_embeddings") or 0))
        kv[a("embedding_length")] = u32(hidden)
        kv[a("feed_forward_length")] = u32(int(c.get("intermediate_size") or 0))
        kv[a("block_count")] = u32(int(cfg_or(c, "num_hidden_layers", "n_layers")))
        kv[a("attention.head_count")] = u32(heads)
        kv[a("attention.head_count_kv")] = u32(int(cfg_or(c, "num_key_value_heads", "n_head_kv")))
        kv[a("attention.layer_norm_rms_epsilon")] = _f32(c.get("rms_norm_eps"))
        kv[a("rope.dimension_count")] = u32(int(c.get("hidden_size") or 0) // heads if heads else 0)
        kv[a("rope.freq_base")] = _f32(c.get("rope_theta"))
        original = int(c.get("original_max_position_embeddings") or 0)
        kv[a("rope.scaling.original_context_length")] = u32(original)
        kv[a("attention.sliding_window")] = u32(int(c.get("sliding_window") or 0))
        sc = c.get("rope_scaling") or {}
        kind = sc.get("type") or ""
        if kind and original:
            scale = float(c.get("max_position_embeddings") or 0) / original
            if kind in ("su", "longrope"):
                factor = max(math.sqrt(1 + math.log(scale) / math.log(original)), 1.0)
            else:  # yarn
                factor = max(0.1 * math.log(scale) + 1.0, 1.0)
            kv[a("rope.scaling.attn_factor")] = _f32(factor)
        return kv

    def tensors(self, sources: list[Source], vocab: Vocab) -> list[OutTensor]:
        out: list[OutTensor] = []
        sc = self.cfg.get("rope_scaling") or {}
        for key, name in (
            ("long_factor", "rope_factors_long.weight"),
            ("short_factor", "rope_factors_short.weight"),
        ):
            if sc.get(key):
                f = np.asarray(sc[key], dtype=np.float32)
                out.append(OutTensor(name, f.shape, GGML_F32, _const(f)))
        return out + [s.out() for s in sources]
