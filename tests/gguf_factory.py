"""Make tiny random-weight GGUF models with the `gguf` package (fast plumbing tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _copy_tokenizer(reader: Any, writer: Any) -> int:
    import gguf

    n_vocab = 0
    for field in reader.fields.values():
        name = field.name
        if not name.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            sub = field.types[-1]
            if sub == gguf.GGUFValueType.STRING:
                value = [bytes(field.parts[i]).decode("utf-8", "replace") for i in field.data]
            else:
                value = [field.parts[i].tolist()[0] for i in field.data]
            if name == "tokenizer.ggml.tokens":
                n_vocab = len(value)
            writer.add_array(name, value)
        elif vtype == gguf.GGUFValueType.STRING:
            writer.add_string(name, bytes(field.parts[-1]).decode("utf-8", "replace"))
        else:
            writer.add_key_value(name, field.parts[-1].tolist()[0], vtype)
    return n_vocab


def make_tiny_llama(
    path: Path,
    vocab_gguf: Path,
    *,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_head_kv: int = 2,
    n_ff: int = 128,
    n_ctx: int = 512,
    chat_template: str | None = None,
    seed: int = 0,
) -> Path:
    import gguf

    reader = gguf.GGUFReader(str(vocab_gguf))
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(0)
    n_vocab = _copy_tokenizer(reader, writer)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    rng = np.random.default_rng(seed)

    def t(name: str, *shape: int) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    # tied output (no output.weight) and f16 embeddings keep the file small
    writer.add_tensor("token_embd.weight", (rng.standard_normal((n_vocab, n_embd)) * 0.02).astype(np.float16))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    kv = n_embd // n_head * n_head_kv
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        t(f"blk.{i}.attn_q.weight", n_embd, n_embd)
        t(f"blk.{i}.attn_k.weight", kv, n_embd)
        t(f"blk.{i}.attn_v.weight", kv, n_embd)
        t(f"blk.{i}.attn_output.weight", n_embd, n_embd)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        t(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def make_tiny_reranker(
    path: Path,
    vocab_gguf: Path,
    *,
    n_embd: int = 32,
    n_layer: int = 2,
    n_head: int = 2,
    n_ff: int = 64,
    n_ctx: int = 512,
    seed: int = 0,
) -> Path:
    """A tiny random-weight BERT cross-encoder with rank pooling (a reranker's shape: the [CLS]
    state through `cls` and `cls.output` gives one score per query/document pair)."""
    import gguf

    reader = gguf.GGUFReader(str(vocab_gguf))
    writer = gguf.GGUFWriter(str(path), "bert")
    writer.add_name("tiny-reranker")
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_layer_norm_eps(1e-12)
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.RANK)
    writer.add_file_type(0)
    n_vocab = _copy_tokenizer(reader, writer)
    rng = np.random.default_rng(seed)

    def t(name: str, *shape: int, scale: float = 0.05) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    def norm(name: str) -> None:
        writer.add_tensor(f"{name}.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"{name}.bias", np.zeros(n_embd, dtype=np.float32))

    t("token_embd.weight", n_vocab, n_embd)
    t("token_types.weight", 2, n_embd)
    t("position_embd.weight", n_ctx, n_embd)
    norm("token_embd_norm")
    for i in range(n_layer):
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{part}.weight", n_embd, n_embd)
            t(f"blk.{i}.{part}.bias", n_embd)
        norm(f"blk.{i}.attn_output_norm")
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.bias", n_ff)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
        t(f"blk.{i}.ffn_down.bias", n_embd)
        norm(f"blk.{i}.layer_output_norm")
    t("cls.weight", n_embd, n_embd, scale=0.5)
    t("cls.bias", n_embd)
    t("cls.output.weight", 1, n_embd, scale=1.0)
    t("cls.output.bias", 1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
