"""Tiny random-weight Hugging Face model folders (config.json + model.safetensors + tokenizer.json).

The tokenizers are trained here with Hugging Face's `tokenizers` on a few sentences: byte-level BPE
with the Llama 3 / Qwen 2 split regex (as those models ship), or SentencePiece-style BPE with byte
fallback and `▁` spaces (Llama 2, Mistral, Gemma, Phi-3). Weights are small random tensors under
each architecture's Hugging Face names, written with a hand-rolled safetensors writer.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

_SPLIT_HEAD = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|"
_SPLIT_TAIL = r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3_SPLIT = _SPLIT_HEAD + r"\p{N}{1,3}" + _SPLIT_TAIL  # the regexes those models ship
QWEN2_SPLIT = _SPLIT_HEAD + r"\p{N}" + _SPLIT_TAIL
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! Hello there, how are you doing today?",
    "pyollama converts safetensors folders into GGUF files at create time.",
    "Numbers like 12345 and 2026 appear in text; so do émigrés and naïve cafés.",
    "def add(a, b):\n    return a + b\n",
] * 4


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], dtype: str = "F32") -> None:
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, a in tensors.items():
        if dtype == "BF16":
            raw = (np.ascontiguousarray(a, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
        elif dtype == "F16":
            raw = np.ascontiguousarray(a, dtype="<f2").tobytes()
        else:
            raw = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def byte_level_tokenizer(split: str, specials: list[str], vocab_size: int = 400) -> Any:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(split), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok


def spm_tokenizer(specials: list[str], *, prefix: bool = True, vocab_size: int = 600) -> Any:
    """SentencePiece-style BPE: `▁` for spaces, `<0xNN>` byte-fallback tokens in the vocabulary
    right after the specials (as Llama 2's and Gemma's tokenizer.json lay them out)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, trainers

    norm: list[normalizers.Normalizer] = [normalizers.Replace(" ", "\u2581")]
    if prefix:
        norm.insert(0, normalizers.Prepend("\u2581"))
    trained = Tokenizer(models.BPE())
    trained.normalizer = normalizers.Sequence(norm)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False)
    trained.train_from_iterator(CORPUS, trainer=trainer)
    spec = json.loads(trained.to_str())
    learned = sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab: dict[str, int] = {}
    for t in [*specials, *(f"<0x{i:02X}>" for i in range(256)), *(t for t, _ in learned)]:
        vocab.setdefault(t, len(vocab))
    pairs = (m.split(" ") if isinstance(m, str) else m for m in spec["model"]["merges"])
    merges = [(a, b) for a, b in pairs]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=True, unk_token=specials[0]))
    tok.normalizer = normalizers.Sequence(norm)
    dec = [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()]
    if prefix:
        dec.append(decoders.Strip(content=" ", left=1, right=0))
    tok.decoder = decoders.Sequence(dec)
    tok.add_special_tokens(specials)
    return tok


def sentencepiece_model(*, prefix: bool = True, vocab_size: int = 400) -> bytes:
    """A real `tokenizer.model`, trained by Google's sentencepiece (BPE with byte fallback, no
    normalization, spaces kept as typed): what Llama 2, Mistral and Gemma checkpoints ship."""
    import io

    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS),
        model_writer=out,
        vocab_size=vocab_size,
        model_type="bpe",
        byte_fallback=True,
        character_coverage=1.0,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=prefix,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        minloglevel=2,
    )
    return out.getvalue()


def _rand(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return (rng.standard_normal(shape) * 0.02).astype(np.float32)


# architectures[0] -> (family, tokenizer kind, specials, extra config)
FAMILIES: dict[str, dict[str, Any]] = {
    "llama3": {"arch": "LlamaForCausalLM", "tok": "bpe", "split": LLAMA3_SPLIT},
    "llama2": {"arch": "LlamaForCausalLM", "tok": "spm"},
    "mistral": {"arch": "MistralForCausalLM", "tok": "spm"},
    "mixtral": {"arch": "MixtralForCausalLM", "tok": "spm"},
    "qwen2": {"arch": "Qwen2ForCausalLM", "tok": "bpe", "split": QWEN2_SPLIT},
    "qwen3": {"arch": "Qwen3ForCausalLM", "tok": "bpe", "split": QWEN2_SPLIT},
    "gemma": {"arch": "GemmaForCausalLM", "tok": "spm-noprefix"},
    "gemma2": {"arch": "Gemma2ForCausalLM", "tok": "spm-noprefix"},
    "gemma3": {"arch": "Gemma3ForCausalLM", "tok": "spm-noprefix"},
    "phi3": {"arch": "Phi3ForCausalLM", "tok": "spm"},
}


def make_hf_model(
    folder: Path,
    family: str,
    *,
    seed: int = 0,
    dtype: str = "F32",
    chat_template: str = "",
    spm_model: bool = False,
) -> Path:
    """Write a tiny model folder for `family` (a key of FAMILIES); returns the folder.

    `spm_model=True` ships a sentencepiece `tokenizer.model` and no tokenizer.json (SentencePiece
    families only), as older Llama 2 / Mistral checkpoints do."""
    spec = FAMILIES[family]
    folder.mkdir(parents=True, exist_ok=True)
    tok: Any = None
    if spm_model:
        unk, bos, eos = "<unk>", "<s>", "</s>"
        (folder / "tokenizer.model").write_bytes(sentencepiece_model(prefix=spec["tok"] == "spm"))
    elif spec["tok"] == "bpe":
        bos, eos = "<|begin_of_text|>", "<|end_of_text|>"
        specials = [bos, eos, "<|eot_id|>"]
        tok = byte_level_tokenizer(spec["split"], specials)
        unk = None
    else:
        unk, bos, eos = "<unk>", "<s>", "</s>"
        specials = [unk, bos, eos]
        if family.startswith("gemma"):
            specials = ["<pad>", eos, bos, unk, "<start_of_turn>", "<end_of_turn>"]
        tok = spm_tokenizer(specials, prefix=spec["tok"] == "spm")
    if tok is not None:
        tok.save(str(folder / "tokenizer.json"))
    tc: dict[str, Any] = {"bos_token": bos, "eos_token": eos, "add_bos_token": True, "add_eos_token": False}
    if unk:
        tc["unk_token"] = unk
    if chat_template:
        tc["chat_template"] = chat_template
    (folder / "tokenizer_config.json").write_text(json.dumps(tc))

    V = tok.get_vocab_size() if tok is not None else 400
    H, L, heads, kv, inter = 64, 2, 4, 2, 128
    hd = 16 if family not in ("qwen3", "gemma", "gemma2", "gemma3") else 32
    cfg: dict[str, Any] = {
        "architectures": [spec["arch"]],
        "hidden_size": H,
        "num_hidden_layers": L,
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "intermediate_size": inter,
        "max_position_embeddings": 512,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "vocab_size": V,
    }
    if family in ("qwen3", "gemma", "gemma2", "gemma3"):
        cfg["head_dim"] = hd
    if family == "gemma2":
        cfg.update(sliding_window=256, attn_logit_softcapping=50.0, final_logit_softcapping=30.0)
    if family == "gemma3":
        cfg.update(sliding_window=256, sliding_window_pattern=2, rope_local_base_freq=10000.0)
    if family == "phi3":
        cfg.update(original_max_position_embeddings=512, sliding_window=512)
    if family == "mixtral":
        cfg.update(num_local_experts=4, num_experts_per_tok=2)
    (folder / "config.json").write_text(json.dumps(cfg))

    rng = np.random.default_rng(seed)
    t: dict[str, np.ndarray] = {"model.embed_tokens.weight": _rand(rng, V, H)}
    for i in range(L):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = np.ones(H, np.float32) * (0 if family.startswith("gemma") else 1)
        t[p + "post_attention_layernorm.weight"] = np.ones(H, np.float32) * (
            0 if family.startswith("gemma") else 1
        )
        if family == "phi3":
            t[p + "self_attn.qkv_proj.weight"] = _rand(rng, heads * hd + 2 * kv * hd, H)
            t[p + "mlp.gate_up_proj.weight"] = _rand(rng, 2 * inter, H)
        else:
            t[p + "self_attn.q_proj.weight"] = _rand(rng, heads * hd, H)
            t[p + "self_attn.k_proj.weight"] = _rand(rng, kv * hd, H)
            t[p + "self_attn.v_proj.weight"] = _rand(rng, kv * hd, H)
        if family == "mixtral":
            t[p + "block_sparse_moe.gate.weight"] = _rand(rng, 4, H)
            for e in range(4):
                q = f"{p}block_sparse_moe.experts.{e}."
                t[q + "w1.weight"] = _rand(rng, inter, H)
                t[q + "w2.weight"] = _rand(rng, H, inter)
                t[q + "w3.weight"] = _rand(rng, inter, H)
        else:
            if family != "phi3":
                t[p + "mlp.gate_proj.weight"] = _rand(rng, inter, H)
                t[p + "mlp.up_proj.weight"] = _rand(rng, inter, H)
            t[p + "mlp.down_proj.weight"] = _rand(rng, H, inter)
        t[p + "self_attn.o_proj.weight"] = _rand(rng, H, heads * hd)
        if family == "qwen2":
            for k, n in (("q", heads * hd), ("k", kv * hd), ("v", kv * hd)):
                t[p + f"self_attn.{k}_proj.bias"] = _rand(rng, n)
        if family in ("qwen3", "gemma3"):
            t[p + "self_attn.q_norm.weight"] = np.ones(hd, np.float32)
            t[p + "self_attn.k_norm.weight"] = np.ones(hd, np.float32)
        if family in ("gemma2", "gemma3"):
            t[p + "pre_feedforward_layernorm.weight"] = np.zeros(H, np.float32)
            t[p + "post_feedforward_layernorm.weight"] = np.zeros(H, np.float32)
    t["model.norm.weight"] = np.ones(H, np.float32) * (0 if family.startswith("gemma") else 1)
    if not family.startswith("gemma"):
        t["lm_head.weight"] = _rand(rng, V, H)
    write_safetensors(folder / "model.safetensors", t, dtype)
    return folder
