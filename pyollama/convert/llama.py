"""Llama-family decoders: Llama 2/3/3.1, Mistral 7B and Mixtral (Ollama's convert_llama.go,
convert_mixtral.go).

Mistral's `MistralForCausalLM` is the same network under another name, so llama.cpp (and this
converter) treat it as `llama`. Q and K projections are permuted from Hugging Face's rotary layout
(two halves) to llama.cpp's interleaved pairs, as Ollama's `repack` does.
"""

from __future__ import annotations

import math
import re
from typing import ClassVar

import numpy as np

from pyollama.convert.base import ModelConverter, Source, cfg_or, set_f32, set_u32
from pyollama.convert.gguf_writer import GGML_F32, OutTensor, Value, string, u32
from pyollama.convert.safetensors import Tensor
from pyollama.convert.tokenizer import Vocab

LLAMA_NAMES: tuple[str, ...] = (
    "lm_head", "output",
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
    "post_attention_layernorm", "ffn_norm",
)  # fmt: skip


def permute_rotary(w: np.ndarray, heads: int) -> np.ndarray:
    """Rows of each head from [first half, second half] to interleaved pairs (llama.cpp's rope)."""
    rows = w.shape[0]
    return w.reshape(heads, 2, rows // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


class LlamaConverter(ModelConverter):
    arch = "llama"
    replacements: ClassVar[tuple[str, ...]] = LLAMA_NAMES

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        kv = super().kv(vocab)
        c = self.cfg
        a = self.a
        kv[a("vocab_size")] = u32(int(c.get("vocab_size") or len(vocab.tokens)))
        kv[a("block_count")] = u32(cfg_or(c, "n_layers", "num_hidden_layers", "n_layer"))
        set_u32(kv, a("context_length"), cfg_or(c, "max_position_embeddings", "n_ctx"))
        hidden = int(cfg_or(c, "hidden_size", "n_embd"))
        set_u32(kv, a("embedding_length"), hidden)
        set_u32(kv, a("feed_forward_length"), cfg_or(c, "intermediate_size", "n_inner"))
        heads = int(cfg_or(c, "num_attention_heads", "n_head"))
        if heads:
            kv[a("attention.head_count")] = u32(heads)
            kv[a("rope.dimension_count")] = u32(int(c.get("hidden_size") or 0) // heads)
        set_f32(kv, a("rope.freq_base"), c.get("rope_theta"))
        scaling = c.get("rope_scaling") or {}
        if scaling.get("type") == "linear":
            kv[a("rope.scaling.type")] = string("linear")
            set_f32(kv, a("rope.scaling.factor"), scaling.get("factor"))
        set_u32(kv, a("attention.head_count_kv"), c.get("num_key_value_heads"))
        set_f32(kv, a("attention.layer_norm_rms_epsilon"), c.get("rms_norm_eps"))
        eps = cfg_or(c, "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon")
        set_f32(kv, a("attention.layer_norm_epsilon"), eps)
        if c.get("head_dim"):
            kv[a("attention.key_length")] = u32(int(c["head_dim"]))
            kv[a("attention.value_length")] = u32(int(c["head_dim"]))
        return kv

    def _heads(self, name: str) -> int:
        c = self.cfg
        if name.endswith("attn_q.weight"):
            return int(c["num_attention_heads"])
        return int(c.get("num_key_value_heads") or c["num_attention_heads"])

    def tensors(self, sources: list[Source], vocab: Vocab) -> list[OutTensor]:
        out = []
        factors = self.rope_factors()
        if factors is not None:
            out.append(OutTensor("rope_freqs.weight", factors.shape, GGML_F32, lambda: factors))
        for s in sources:
            if s.name.endswith(("attn_q.weight", "attn_k.weight")):
                heads = self._heads(s.name)
                s.repack = lambda w, h=heads: permute_rotary(w, h)
            out.append(s.out())
        return out

    def rope_factors(self) -> np.ndarray | None:
        """Llama 3.1's frequency factors (`rope_scaling.rope_type == "llama3"`), as Ollama computes."""
        c = self.cfg
        sc = c.get("rope_scaling") or {}
        hidden, heads, theta = c.get("hidden_size"), c.get("num_attention_heads"), c.get("rope_theta")
        if sc.get("rope_type") != "llama3" or not hidden or not heads or not theta:
            return None
        dim = int(hidden) // int(heads)
        factor = float(sc.get("factor") or 8)
        low = float(sc.get("low_freq_factor") or 1)
        high = float(sc.get("high_freq_factor") or 4)
        original = float(sc.get("original_max_position_embeddings") or 8192)
        lambda_low, lambda_high = original / low, original / high
        out = []
        for i in range(0, dim, 2):
            lam = 2 * math.pi * math.pow(float(theta), i / dim)
            if lam < lambda_high:
                out.append(1.0)
            elif lam > lambda_low:
                out.append(factor)
            else:
                smooth = (original / lam - low) / (high - low)
                out.append(1 / ((1 - smooth) / factor + smooth))
        return np.asarray(out, dtype=np.float32)


_EXPERT = re.compile(r"model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.w([123])\.weight")
# Mixtral's expert matrices: w1 gates, w2 projects down, w3 projects up (llama.cpp's names; Ollama's
# convert_mixtral.go swaps w2 and w3, a layout only its own engine reads)
_EXPERT_NAMES = {"1": "ffn_gate_exps", "2": "ffn_down_exps", "3": "ffn_up_exps"}


class MixtralConverter(LlamaConverter):
    """Mixtral (Ollama's convert_mixtral.go): a Llama whose FFN is a mixture of experts; each
    layer's per-expert matrices are stacked into one 3-D tensor, as llama.cpp loads them."""

    replacements: ClassVar[tuple[str, ...]] = (*LLAMA_NAMES, "block_sparse_moe.gate", "ffn_gate_inp")

    def sources(self, tensors: list[Tensor]) -> list[Source]:
        self._experts: dict[tuple[int, str], dict[int, Tensor]] = {}
        rest = []
        for t in tensors:
            m = _EXPERT.fullmatch(t.name)
            if m is None:
                rest.append(t)
                continue
            self._experts.setdefault((int(m.group(1)), m.group(3)), {})[int(m.group(2))] = t
        return super().sources(rest)

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        kv = super().kv(vocab)
        set_u32(kv, self.a("expert_count"), self.cfg.get("num_local_experts"))
        set_u32(kv, self.a("expert_used_count"), self.cfg.get("num_experts_per_tok"))
        return kv

    def tensors(self, sources: list[Source], vocab: Vocab) -> list[OutTensor]:
        out = super().tensors(sources, vocab)
        for (layer, w), experts in sorted(self._experts.items()):
            parts = [experts[e] for e in sorted(experts)]
            shape = (len(parts), *parts[0].shape)
            kind = Source("x.weight", parts[0], parts[0].shape).kind()

            def load(ps: list[Tensor] = parts) -> np.ndarray:
                return np.stack([p.numpy().astype(np.float32, copy=False) for p in ps])

            out.append(OutTensor(f"blk.{layer}.{_EXPERT_NAMES[w]}.weight", shape, kind, load))
        return out
