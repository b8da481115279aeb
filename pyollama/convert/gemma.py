"""Gemma, Gemma 2 and Gemma 3 (text) decoders (Ollama's convert_gemma*.go).

Gemma's RMS norms scale by `1 + weight`; llama.cpp multiplies by the stored weight, so every
`*_norm.weight` gets one added (Ollama's `addOne`). The embedding is tied (no `lm_head`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from pyollama.convert.base import ConvertError, ModelConverter, Source, cfg_or
from pyollama.convert.gguf_writer import BOOL, OutTensor, Value, array, u32
from pyollama.convert.tokenizer import Vocab

_GEMMA_NAMES: tuple[str, ...] = (
    "model.embed_tokens", "token_embd",
    "model.norm", "output_norm",
    "model.layers", "blk",
    "input_layernorm", "attn_norm",
    "self_attn.q_proj", "attn_q",
    "self_attn.k_proj", "attn_k",
    "self_attn.v_proj", "attn_v",
    "self_attn.o_proj", "attn_output",
    "mlp.gate_proj", "ffn_gate",
    "mlp.down_proj", "ffn_down",
    "mlp.up_proj", "ffn_up",
)  # fmt: skip
_GEMMA2_NORMS: tuple[str, ...] = (
    "post_attention_layernorm", "post_attention_norm",
    "pre_feedforward_layernorm", "ffn_norm",
    "post_feedforward_layernorm", "post_ffw_norm",
)  # fmt: skip


def _f32(v: object) -> Value:
    return Value(6, float(v or 0))  # type: ignore[arg-type]


def _rows(load: Callable[[], np.ndarray], n: int) -> Callable[[], np.ndarray]:
    return lambda: load()[:n]


def _add_one(w: np.ndarray) -> np.ndarray:
    return w + np.float32(1)


class GemmaConverter(ModelConverter):
    arch = "gemma"
    replacements: ClassVar[tuple[str, ...]] = (*_GEMMA_NAMES, "post_attention_layernorm", "ffn_norm")

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        kv = super().kv(vocab)
        c = self.cfg
        a = self.a
        kv[a("context_length")] = u32(int(c.get("max_position_embeddings") or 0))
        kv[a("embedding_length")] = u32(int(c.get("hidden_size") or 0))
        kv[a("block_count")] = u32(int(c.get("num_hidden_layers") or 0))
        kv[a("feed_forward_length")] = u32(int(c.get("intermediate_size") or 0))
        kv[a("attention.head_count")] = u32(int(c.get("num_attention_heads") or 0))
        kv[a("attention.head_count_kv")] = u32(int(c.get("num_key_value_heads") or 0))
        kv[a("attention.layer_norm_rms_epsilon")] = _f32(c.get("rms_norm_eps"))
        kv[a("attention.key_length")] = u32(int(c.get("head_dim") or 0))
        kv[a("attention.value_length")] = u32(int(c.get("head_dim") or 0))
        if self.arch in ("gemma", "gemma2"):
            # Gemma's fixed special ids (Ollama writes them for every Gemma / Gemma 2)
            for key, tid in (("eot", 107), ("middle", 68), ("prefix", 67), ("suffix", 69)):
                if tid < len(vocab.tokens):
                    kv[f"tokenizer.ggml.{key}_token_id"] = u32(tid)
        return kv

    def tensors(self, sources: list[Source], vocab: Vocab) -> list[OutTensor]:
        out = []
        for s in sources:
            if not s.name.startswith("v.") and s.name.endswith("_norm.weight"):
                s.repack = _add_one
            out.append(s.out())
        return out


class Gemma2Converter(GemmaConverter):
    arch = "gemma2"
    replacements: ClassVar[tuple[str, ...]] = (*_GEMMA_NAMES, *_GEMMA2_NORMS)

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        kv = super().kv(vocab)
        c = self.cfg
        kv[self.a("attention.sliding_window")] = u32(int(c.get("sliding_window") or 0))
        kv[self.a("attn_logit_softcapping")] = _f32(c.get("attn_logit_softcapping"))
        kv[self.a("final_logit_softcapping")] = _f32(c.get("final_logit_softcapping"))
        return kv


class Gemma3Converter(GemmaConverter):
    """`Gemma3ForCausalLM` (the text-only checkpoints: 270M, 1B)."""

    arch = "gemma3"
    replacements: ClassVar[tuple[str, ...]] = (
        "lm_head", "output",
        "language_model.", "",
        *_GEMMA_NAMES,
        "self_attn.q_norm", "attn_q_norm",
        "self_attn.k_norm", "attn_k_norm",
        *_GEMMA2_NORMS,
    )  # fmt: skip

    def __init__(self, config: dict[str, object], folder: object) -> None:
        super().__init__(config, folder)  # type: ignore[arg-type]
        if config.get("vision_config"):
            raise ConvertError("Gemma 3 vision checkpoints are not supported by the converter; use a GGUF")

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        kv = super().kv(vocab)
        c = self.cfg
        a = self.a
        blocks = int(c.get("num_hidden_layers") or 0)
        kv[a("attention.sliding_window")] = u32(int(c.get("sliding_window") or 0))
        pattern = c.get("sliding_window_pattern")
        layer_types = c.get("layer_types") or []
        if pattern is not None or layer_types:
            local = []
            for i in range(blocks):
                if layer_types and i < len(layer_types):
                    local.append(layer_types[i] == "sliding_attention")
                else:
                    local.append(bool(pattern) and (i + 1) % int(pattern or 1) != 0)
            kv[a("attention.sliding_window_pattern")] = array(BOOL, local)
        if c.get("final_logit_softcapping"):
            kv[a("final_logit_softcapping")] = _f32(c["final_logit_softcapping"])
        kv[a("rope.local.freq_base")] = _f32(cfg_or(c, "rope_local_base_freq", default=10000.0))
        kv[a("rope.freq_base")] = _f32(cfg_or(c, "rope_theta", default=1000000.0))
        sc = c.get("rope_scaling") or {}
        if sc.get("rope_type") == "yarn" and sc.get("factor"):
            kv[a("rope.scaling.type")] = Value(8, "yarn")
            kv[a("rope.scaling.factor")] = _f32(sc["factor"])
            kv[a("rope.scaling.original_context_length")] = u32(
                int(sc.get("original_max_position_embeddings") or 0)
            )
        return kv

    def tensors(self, sources: list[Source], vocab: Vocab) -> list[OutTensor]:
        out = super().tensors(sources, vocab)
        n = len(vocab.tokens)
        for i, t in enumerate(out):
            if t.name == "token_embd.weight" and t.shape[0] > n:  # padded embedding rows go
                out[i] = OutTensor(t.name, (n, *t.shape[1:]), t.kind, _rows(t.load, n))
        return out
