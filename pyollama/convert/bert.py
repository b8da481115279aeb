"""BERT encoders (`BertModel`: all-MiniLM, bge, ...) for embeddings (Ollama's convert_bert.go).

sentence-transformers folders say how to pool in `modules.json` (a Pooling module's config:
mean -> llama.cpp pooling type 1, CLS -> 2) and whether to normalize. The WordPiece vocabulary is
rewritten to llama.cpp's phantom-space form: a word-initial piece gets a leading `▁`, a `##`
continuation loses its `##`, `[SPECIAL]` tokens stay as they are.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pyollama.convert.base import ModelConverter, Source, cfg_or, set_f32, set_u32
from pyollama.convert.gguf_writer import STRING, OutTensor, Value, array, boolean, string, u32
from pyollama.convert.safetensors import Tensor
from pyollama.convert.tokenizer import Vocab

POOL_NONE, POOL_MEAN, POOL_CLS = 0, 1, 2


class BertConverter(ModelConverter):
    arch = "bert"
    skip = frozenset({"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"})
    replacements: ClassVar[tuple[str, ...]] = (
        "encoder.layer", "blk",
        "encoder.layers", "blk",
        "embeddings.word_embeddings", "token_embd",
        "embeddings.token_type_embeddings", "token_types",
        "embeddings.LayerNorm", "token_embd_norm",
        "embeddings.position_embeddings", "position_embd",
        "attention.self.query", "attn_q",
        "attention.self.key", "attn_k",
        "attention.self.value", "attn_v",
        "attention.output.dense", "attn_output",
        "attention.output.LayerNorm", "attn_output_norm",
        "intermediate.dense", "ffn_up",
        "output.dense", "ffn_down",
        "output.LayerNorm", "layer_output_norm",
    )  # fmt: skip

    def _modules(self) -> tuple[int, bool]:
        """(pooling type, normalize) from sentence-transformers' modules.json (Ollama's parseMore)."""
        try:
            modules = json.loads((self.folder / "modules.json").read_text())
        except (OSError, ValueError):
            return POOL_NONE, False
        pooling, normalize = "", False
        for m in modules if isinstance(modules, list) else []:
            kind = str(m.get("type", ""))
            if kind == "sentence_transformers.models.Pooling":
                pooling = str(m.get("path", ""))
            elif kind == "sentence_transformers.models.Normalize":
                normalize = True
        pool = POOL_NONE
        if pooling:
            try:
                pc: dict[str, Any] = json.loads((self.folder / pooling / "config.json").read_text())
            except (OSError, ValueError):
                pc = {}
            if pc.get("pooling_mode_mean_tokens"):
                pool = POOL_MEAN
            elif pc.get("pooling_mode_cls_token"):
                pool = POOL_CLS
        return pool, normalize

    def sources(self, tensors: list[Tensor]) -> list[Source]:
        # a BertForX checkpoint keeps the encoder under `bert.`; llama.cpp wants the bare names
        for t in tensors:
            t.name = t.name.removeprefix("bert.")
        return super().sources([t for t in tensors if not t.name.startswith("cls.")])

    def prepare(self, vocab: Vocab) -> None:
        out = []
        for tok in vocab.tokens:
            if tok.startswith("[") and tok.endswith("]"):
                out.append(tok)
            elif tok.startswith("##"):
                out.append(tok[2:])
            else:
                out.append("\u2581" + tok)
        vocab.tokens = out

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        kv = super().kv(vocab)
        c = self.cfg
        pool, normalize = self._modules()
        kv["bert.attention.causal"] = boolean(False)
        kv["bert.pooling_type"] = u32(pool)
        kv["bert.normalize_embeddings"] = boolean(normalize)
        kv["bert.block_count"] = u32(cfg_or(c, "n_layers", "num_hidden_layers", "n_layer"))
        set_u32(kv, "bert.context_length", cfg_or(c, "max_position_embeddings", "n_ctx"))
        set_u32(kv, "bert.embedding_length", cfg_or(c, "hidden_size", "n_embd"))
        set_u32(kv, "bert.feed_forward_length", cfg_or(c, "intermediate_size", "n_inner"))
        set_u32(kv, "bert.attention.head_count", cfg_or(c, "num_attention_heads", "n_head"))
        eps = cfg_or(c, "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon")
        set_f32(kv, "bert.attention.layer_norm_epsilon", eps)
        kv["tokenizer.ggml.model"] = string("bert")
        kv["tokenizer.ggml.token_type_count"] = u32(int(c.get("type_vocab_size") or 2))
        kv["tokenizer.ggml.tokens"] = array(STRING, vocab.tokens)
        return kv

    def tensors(self, sources: list[Source], vocab: Vocab) -> list[OutTensor]:
        return [s.out() for s in sources]
