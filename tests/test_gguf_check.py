"""The pre-load header checks: each refusal names its field; the real test models pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyollama.errors import GGUFError
from pyollama.gguf_check import check_model
from tests.conftest import requires_engine

TOKENS = [f"t{i}" for i in range(100)]


def llama(**over: Any) -> dict[str, Any]:
    kv: dict[str, Any] = {
        "general.architecture": "llama",
        "llama.context_length": 2048,
        "llama.embedding_length": 64,
        "llama.block_count": 2,
        "llama.feed_forward_length": 128,
        "llama.attention.head_count": 4,
        "llama.attention.head_count_kv": 2,
        "llama.rope.freq_base": 10000.0,
        "llama.attention.layer_norm_rms_epsilon": 1e-5,
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.tokens": list(TOKENS),
        "tokenizer.ggml.token_type": [1] * 100,
        "tokenizer.ggml.bos_token_id": 1,
        "tokenizer.ggml.eos_token_id": 2,
    }
    for k, v in over.items():
        key = k.replace("__", ".")
        if v is ...:
            kv.pop(key, None)
        else:
            kv[key] = v
    return kv


def tensors(
    n_layer: int = 2, n_vocab: int = 100, over: dict[str, list[int]] | None = None
) -> list[tuple[str, list[int], str]]:
    out = {"token_embd.weight": [64, n_vocab], "output_norm.weight": [64]}
    for i in range(n_layer):
        out |= {
            f"blk.{i}.attn_norm.weight": [64],
            f"blk.{i}.attn_q.weight": [64, 64],
            f"blk.{i}.attn_k.weight": [64, 32],
            f"blk.{i}.attn_v.weight": [64, 32],
            f"blk.{i}.ffn_down.weight": [128, 64],
            f"blk.{i}.ffn_norm.weight": [64],
        }
    out |= over or {}
    return [(name, shape, "f32" if len(shape) == 1 else "q4_0") for name, shape in out.items()]


def refused(kv: dict[str, Any], t: list[tuple[str, list[int], str]] | None = None, **kw: Any) -> str:
    with pytest.raises(GGUFError) as info:
        check_model(kv, tensors() if t is None else t, **kw)
    assert info.value.status == 400
    return info.value.message


def test_a_consistent_header_passes() -> None:
    check_model(llama(), tensors())
    check_model({"general.architecture": "clip", "clip.vision.block_count": 0}, [])  # projectors: floats only
    check_model({"general.architecture": "llama", "general.type": "adapter"}, [("blk.7.x", [1], "f16")])


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("llama.rope.freq_base", None, "llama.rope.freq_base is not a finite number"),
        ("llama.rope.freq_base", 0.0, "llama.rope.freq_base is 0; it must be > 0"),
        ("llama.attention.layer_norm_rms_epsilon", -1.0, "layer_norm_rms_epsilon is -1; it must be >= 0"),
        ("llama.attention.layer_norm_rms_epsilon", 3.0, "it must be >= 0 and < 1"),
        ("llama.block_count", 0, "llama.block_count is 0; it must be between 1 and 512"),
        ("llama.block_count", 100000, "llama.block_count is 100000"),
        ("llama.block_count", 3, "llama.block_count is 3 but the tensor table has 2 blocks"),
        ("llama.context_length", 0, "llama.context_length is 0"),
        (
            "llama.embedding_length",
            65,
            "tensor token_embd.weight has shape [64, 100] but llama.embedding_length is 65",
        ),
        ("llama.attention.head_count", 0, "llama.attention.head_count is 0 but the model has attention"),
        ("llama.attention.head_count_kv", 3, "head_count_kv (3) does not divide head_count (4)"),
        ("llama.attention.head_count_kv", 8, "head_count_kv (8) does not divide head_count (4)"),
        ("llama.attention.head_count_kv", [2, 2, 2], "head_count_kv has 3 entries for 2 blocks"),
        (
            "llama.feed_forward_length",
            64,
            "tensor blk.0.ffn_down.weight has shape [128, 64]; the hyperparameters say [64, 64]",
        ),
        (
            "llama.attention.key_length",
            32,
            "tensor blk.0.attn_k.weight has shape [64, 32]; the hyperparameters say [64, 64]",
        ),
        ("llama.expert_used_count", 2, "llama.expert_used_count is 2 but the model has no experts"),
        ("llama.rope.scaling.type", "spiral", "llama.rope.scaling.type is 'spiral'"),
        ("llama.block_count", "2", "llama.block_count must be an integer"),
        ("llama.vocab_size", 99, "llama.vocab_size is 99 but the vocabulary has 100 tokens"),
        ("tokenizer.ggml.tokens", [*TOKENS[:99], "t0"], "tokenizer.ggml.tokens has the token 't0' twice"),
        ("tokenizer.ggml.tokens", [], "tokenizer.ggml.tokens is empty"),
        ("tokenizer.ggml.token_type", [1] * 99, "tokenizer.ggml.token_type has 99 entries for 100 tokens"),
        (
            "tokenizer.ggml.scores",
            [0.0] * 99 + [None],
            "tokenizer.ggml.scores has an entry that is not a finite",
        ),
        (
            "tokenizer.ggml.eos_token_id",
            100,
            "tokenizer.ggml.eos_token_id is 100; the vocabulary has 100 tokens",
        ),
        ("tokenizer.ggml.padding_token_id", 2**31, "padding_token_id is 2147483648"),
    ],
)
def test_each_refusal_names_its_field(field: str, value: Any, words: str) -> None:
    message = refused(llama(**{field.replace(".", "__"): value}))
    assert message.startswith("invalid model: ") and words in message, message


def test_experts_must_fit_together() -> None:
    base = {"llama__expert_count": 8, "llama__expert_used_count": 2}
    check_model(llama(**base), tensors())
    assert "expert_used_count is 0" in refused(llama(llama__expert_count=8, llama__expert_used_count=0))
    assert "expert_used_count is 9" in refused(llama(llama__expert_count=8, llama__expert_used_count=9))
    assert "expert_count is 2000" in refused(llama(llama__expert_count=2000))
    assert "expert_group_count is 8" in refused(llama(**base, llama__expert_group_count=8))


def test_tensor_shapes_follow_the_hyperparameters() -> None:
    assert "token_embd.weight has shape [64, 99] but the vocabulary has 100" in refused(
        llama(), tensors(n_vocab=99)
    )
    assert "output_norm.weight has shape [32]" in refused(llama(), tensors(over={"output_norm.weight": [32]}))
    assert "blk.1.attn_norm.weight" in refused(llama(), tensors(over={"blk.1.attn_norm.weight": [64, 1]}))
    assert "blk.1.attn_v.weight" in refused(llama(), tensors(over={"blk.1.attn_v.weight": [64, 31]}))
    t = [(n, s, "bf16" if n == "blk.1.ffn_norm.weight" else ty) for n, s, ty in tensors()]
    assert "tensor blk.1.ffn_norm.weight is BF16; a 1-D tensor (a norm, a bias) must be F32" in refused(
        llama(), t
    )
    # a tensor beyond the block count
    assert "tensor table has 10 blocks" in refused(llama(), tensors(over={"blk.9.attn_norm.weight": [64]}))


def test_without_arrays_the_vocabulary_is_not_checked() -> None:
    kv = llama(tokenizer__ggml__tokens=[], tokenizer__ggml__token_type=[], tokenizer__ggml__eos_token_id=500)
    check_model(kv, tensors(), arrays=False)  # what the load-time reader gives
    assert "eos_token_id is 500" in refused(llama(tokenizer__ggml__eos_token_id=500))


@requires_engine
def test_the_real_test_models_pass(smollm2_path: Path, gemma_path: Path, tiny_gguf: Path) -> None:
    from pyollama import engine
    from pyollama.gguf import read_gguf_info
    from pyollama.gguf_check import check_gguf

    for path in (smollm2_path, gemma_path, tiny_gguf):
        check_gguf(read_gguf_info(path))
        header = engine.read_gguf(str(path), 0)
        check_model(
            header["kv"], [(t["name"], t["shape"], t["type"]) for t in header["tensors"]], arrays=False
        )
