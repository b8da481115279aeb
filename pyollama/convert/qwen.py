"""Qwen 2 / 2.5 and Qwen 3 dense decoders (Ollama's convert_qwen2.go, convert_qwen3.go).

No rotary permutation here: llama.cpp runs Qwen's rope in NEOX mode, Hugging Face's own layout.
Qwen 2 has biases on Q/K/V; Qwen 3 adds per-head Q/K RMS norms and an explicit head size.
"""

from __future__ import annotations

from typing import ClassVar

from pyollama.convert.base import ModelConverter
from pyollama.convert.gguf_writer import INT32, Value, array, string, u32
from pyollama.convert.tokenizer import Vocab

QWEN_NAMES: tuple[str, ...] = (
    "lm_head", "output",
    "model.embed_tokens", "token_embd",
    "model.layers", "blk",
    "input_layernorm", "attn_norm",
    "self_attn.k_proj", "attn_k",
    "self_attn.k_norm", "attn_k_norm",
    "self_attn.v_proj", "attn_v",
    "self_attn.q_proj", "attn_q",
    "self_attn.q_norm", "attn_q_norm",
    "self_attn.o_proj", "attn_output",
    "mlp.down_proj", "ffn_down",
    "mlp.gate_proj", "ffn_gate",
    "mlp.up_proj", "ffn_up",
    "post_attention_layernorm", "ffn_norm",
    "model.norm", "output_norm",
)  # fmt: skip


class Qwen2Converter(ModelConverter):
    arch = "qwen2"
    replacements: ClassVar[tuple[str, ...]] = QWEN_NAMES

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        kv = super().kv(vocab)
        c = self.cfg
        a = self.a
        kv[a("block_count")] = u32(int(c.get("num_hidden_layers") or 0))
        kv[a("context_length")] = u32(int(c.get("max_position_embeddings") or 0))
        kv[a("embedding_length")] = u32(int(c.get("hidden_size") or 0))
        kv[a("feed_forward_length")] = u32(int(c.get("intermediate_size") or 0))
        kv[a("attention.head_count")] = u32(int(c.get("num_attention_heads") or 0))
        kv[a("attention.head_count_kv")] = u32(int(c.get("num_key_value_heads") or 0))
        if self.arch == "qwen3":
            head_dim = int(c.get("head_dim") or 0)
            kv[a("attention.key_length")] = u32(head_dim)
            kv[a("attention.value_length")] = u32(head_dim)
        kv[a("rope.freq_base")] = Value(6, float(c.get("rope_theta") or 0))
        kv[a("attention.layer_norm_rms_epsilon")] = Value(6, float(c.get("rms_norm_eps") or 0))
        sc = c.get("rope_scaling") or {}
        kind = sc.get("type") or ""
        if kind == "yarn":
            kv[a("rope.scaling.type")] = string("yarn")
            kv[a("rope.scaling.factor")] = Value(6, float(sc.get("factor") or 0))
        elif kind in ("mrope", "default") and sc.get("mrope_section"):
            kv[a("rope.mrope_section")] = array(INT32, [int(x) for x in sc["mrope_section"]])
        return kv


class Qwen3Converter(Qwen2Converter):
    arch = "qwen3"

    def __init__(self, config: dict[str, object], folder: object) -> None:
        super().__init__(config, folder)  # type: ignore[arg-type]
        if config.get("num_experts"):
            from pyollama.convert.base import ConvertError

            raise ConvertError("Qwen 3 mixture-of-experts models are not supported by the converter")
