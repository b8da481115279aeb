"""Each supported architecture, from a tiny random-weight Hugging Face folder: the GGUF has the keys
and tensors llama.cpp wants, llama.cpp loads it and runs it, and it tokenizes like the Hugging Face
tokenizer the folder ships."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pyollama.convert import convert_model
from tests.conftest import requires_engine
from tests.convert.hf_factory import FAMILIES, make_hf_model

pytest.importorskip("tokenizers")

TEXTS = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "numbers 12345 and 2026, émigrés & naïve cafés",
    "  leading spaces\nand a newline",
    "unseen words: zebra quokka",
]

EXPECT: dict[str, dict[str, Any]] = {
    "llama3": {"arch": "llama", "model": "gpt2", "pre": "llama-bpe"},
    "llama2": {"arch": "llama", "model": "llama", "pre": "default"},
    "mistral": {"arch": "llama", "model": "llama", "pre": "default"},
    "mixtral": {"arch": "llama", "model": "llama", "pre": "default"},
    "qwen2": {"arch": "qwen2", "model": "gpt2", "pre": "qwen2"},
    "qwen3": {"arch": "qwen3", "model": "gpt2", "pre": "qwen2"},
    "gemma": {"arch": "gemma", "model": "llama", "pre": "default"},
    "gemma2": {"arch": "gemma2", "model": "llama", "pre": "default"},
    "gemma3": {"arch": "gemma3", "model": "llama", "pre": "default"},
    "phi3": {"arch": "phi3", "model": "llama", "pre": "default"},
}


def _convert(folder: Path) -> Path:
    out = folder.parent / f"{folder.name}.gguf"
    if not out.exists():
        with open(out, "wb") as f:
            convert_model(folder, f)
    return out


def _read(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from gguf import GGUFReader

    r = GGUFReader(str(path))
    kv = {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.")}
    return kv, {t.name: t for t in r.tensors}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_keys_and_tensors(family: str, hf_model: Callable[[str], Path]) -> None:
    gguf = _convert(hf_model(family))
    kv, tensors = _read(gguf)
    exp = EXPECT[family]
    arch = exp["arch"]
    assert kv["general.architecture"] == arch
    assert kv["tokenizer.ggml.model"] == exp["model"]
    assert kv["tokenizer.ggml.pre"] == exp["pre"]
    assert kv[f"{arch}.block_count"] == 2 and kv[f"{arch}.embedding_length"] == 64
    assert kv["general.file_type"] == 1
    assert list(kv) == sorted(kv)  # Ollama's writer sorts the keys
    down = "blk.0.ffn_down_exps.weight" if family == "mixtral" else "blk.0.ffn_down.weight"
    assert "token_embd.weight" in tensors and down.replace("blk.0", "blk.1") in tensors
    assert tensors["blk.0.attn_norm.weight"].tensor_type.name == "F32"
    assert tensors[down].tensor_type.name == "F16"
    names = list(tensors)
    assert names.index(down) < names.index("blk.1.attn_norm.weight")
    if family == "mixtral":
        assert kv["llama.expert_count"] == 4 and kv["llama.expert_used_count"] == 2
        assert [int(x) for x in tensors[down].shape] == [128, 64, 4]  # ggml: n_ff, n_embd, n_expert
        assert tensors["blk.0.ffn_gate_inp.weight"].tensor_type.name == "F32"
    if exp["model"] == "gpt2":
        assert kv["tokenizer.ggml.merges"]
    else:
        types = kv["tokenizer.ggml.token_type"]
        tokens = kv["tokenizer.ggml.tokens"]
        assert types[tokens.index("<0x41>")] == 6  # byte-fallback tokens typed BYTE
    if family.startswith("gemma"):  # norms stored as 1 + w
        src = np.zeros(64, np.float32)
        assert np.allclose(np.asarray(tensors["output_norm.weight"].data), src + 1)


def test_llama_qk_are_permuted_for_llama_cpp_rope(tmp_path: Path) -> None:
    """HF keeps each head's rotary pairs as two halves; llama.cpp's rope wants them interleaved:
    row 2j of a head is HF's row j, row 2j+1 is HF's row j + head_dim/2 (Ollama's repack)."""
    from pyollama.convert.safetensors import read_header

    folder = make_hf_model(tmp_path / "l", "llama2")
    src = {t.name: t.numpy() for t in read_header(folder / "model.safetensors")}
    _, tensors = _read(_convert(folder))
    for name, heads in (("q", 4), ("k", 2)):
        hf = src[f"model.layers.0.self_attn.{name}_proj.weight"]
        got = np.asarray(tensors[f"blk.0.attn_{name}.weight"].data, dtype=np.float32).reshape(hf.shape)
        hd = hf.shape[0] // heads
        for h in range(heads):
            for j in range(hd // 2):
                assert np.allclose(got[h * hd + 2 * j], hf[h * hd + j], atol=1e-3)
                assert np.allclose(got[h * hd + 2 * j + 1], hf[h * hd + j + hd // 2], atol=1e-3)
    v = src["model.layers.0.self_attn.v_proj.weight"]
    assert np.allclose(
        np.asarray(tensors["blk.0.attn_v.weight"].data, dtype=np.float32).reshape(v.shape), v, atol=1e-3
    )


def test_bf16_checkpoint_stays_bf16(tmp_path: Path) -> None:
    gguf = _convert(make_hf_model(tmp_path / "q", "qwen2", dtype="BF16"))
    _, tensors = _read(gguf)
    assert tensors["blk.0.ffn_down.weight"].tensor_type.name == "BF16"
    assert tensors["blk.0.attn_q.bias"].tensor_type.name == "F32"


def _engine_tokenize(path: Path, texts: list[str]) -> tuple[list[list[int]], str]:
    from pyollama import engine

    server = engine.Server(json.dumps({"model": str(path), "n_ctx": 256}))
    server.load()
    server.start()
    try:
        out = []
        for t in texts:
            stream = server.submit("/tokenize", json.dumps({"content": t, "add_special": False}).encode())
            status, _, _, data = stream.next(30_000)  # type: ignore[misc]
            stream.close()
            assert status == 200, data
            out.append(json.loads(data)["tokens"])
        stream = server.submit("/completion", json.dumps({"prompt": "Hello", "n_predict": 3}).encode())
        text = ""
        while True:
            try:
                item = stream.next(60_000)
            except EOFError:
                break
            if item is None:
                continue
            status, _, _, data = item
            assert status == 200, data
            text += json.loads(data).get("content", "")
        stream.close()
        return out, text
    finally:
        server.close()


@requires_engine
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_llama_cpp_loads_runs_and_tokenizes_like_hf(family: str, hf_model: Callable[[str], Path]) -> None:
    from tokenizers import Tokenizer

    folder = hf_model(family)
    gguf = _convert(folder)
    hf = Tokenizer.from_file(str(folder / "tokenizer.json"))
    want = [hf.encode(t, add_special_tokens=False).ids for t in TEXTS]
    got, text = _engine_tokenize(gguf, TEXTS)
    assert got == want
    assert isinstance(text, str)  # it ran: three tokens of random weights


@requires_engine
@pytest.mark.parametrize("family", ["llama2", "gemma"])
def test_sentencepiece_model_tokenizes_like_sentencepiece(family: str, tmp_path: Path) -> None:
    """A folder with only a real `tokenizer.model` (Ollama's preferred source): llama.cpp splits
    text as Google's sentencepiece does, with and without the dummy prefix."""
    spm = pytest.importorskip("sentencepiece")
    folder = make_hf_model(tmp_path / family, family, spm_model=True)
    sp = spm.SentencePieceProcessor(model_file=str(folder / "tokenizer.model"))
    gguf = _convert(folder)
    kv, _ = _read(gguf)
    assert kv["tokenizer.ggml.model"] == "llama" and kv["tokenizer.ggml.bos_token_id"] == 1
    assert kv["tokenizer.ggml.add_space_prefix"] is (family == "llama2")
    got, _ = _engine_tokenize(gguf, TEXTS)
    assert got == [sp.encode(t) for t in TEXTS]
