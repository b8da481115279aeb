"""Hugging Face safetensors folders to GGUF, at `create` time (Ollama's convert package).

`convert_model(folder, out)` reads config.json, the `*.safetensors` shards and the tokenizer files,
picks the converter for `architectures[0]` and writes one F16/BF16 GGUF. The converters need
numpy, which the default install does not bring: it is the `convert` extra
(`pip install 'pyollama[convert]'`), and without it a create from safetensors fails with that hint
instead of an ImportError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from pyollama.errors import BadRequest

ERR_NO_NUMPY = (
    "converting safetensors needs numpy, which this install does not have: pip install 'pyollama[convert]'"
)

# architectures[0] -> "module:Class" (imported only when used)
ARCHITECTURES: dict[str, str] = {
    "LlamaForCausalLM": "llama:LlamaConverter",
    "MistralForCausalLM": "llama:LlamaConverter",
    "MixtralForCausalLM": "llama:MixtralConverter",
    "Qwen2ForCausalLM": "qwen:Qwen2Converter",
    "Qwen3ForCausalLM": "qwen:Qwen3Converter",
    "GemmaForCausalLM": "gemma:GemmaConverter",
    "Gemma2ForCausalLM": "gemma:Gemma2Converter",
    "Gemma3ForCausalLM": "gemma:Gemma3Converter",
    "Phi3ForCausalLM": "phi3:Phi3Converter",
    "BertModel": "bert:BertConverter",
}


class ConverterUnavailable(BadRequest):
    """The `convert` extra is not installed."""


def numpy_available() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def _load_config(folder: Path) -> dict[str, Any]:
    try:
        text = (folder / "config.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadRequest("open config.json: file does not exist") from None
    # Ollama's sanitizeNonFiniteJSON: Python's json already reads NaN/Infinity
    try:
        cfg = json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"parse config.json: {exc}") from None
    if not isinstance(cfg, dict):
        raise BadRequest("parse config.json: not an object")
    return cfg


def convert_model(folder: Path, out: IO[bytes]) -> None:
    """Write the GGUF for the Hugging Face model in `folder` to `out` (blocking: run in a thread)."""
    if not numpy_available():
        raise ConverterUnavailable(ERR_NO_NUMPY)
    import importlib

    from pyollama.convert.base import ConvertError, block_sort_key
    from pyollama.convert.gguf_writer import write_gguf
    from pyollama.convert.safetensors import read_tensors
    from pyollama.convert.tokenizer import USER_DEFINED, parse_tokenizer

    cfg = _load_config(folder)
    archs = cfg.get("architectures") or []
    if not archs:
        raise ConvertError("unknown architecture")
    target = ARCHITECTURES.get(str(archs[0]))
    if target is None:
        raise ConvertError(f'unsupported architecture "{archs[0]}"')
    module, _, cls = target.partition(":")
    conv = getattr(importlib.import_module(f"pyollama.convert.{module}"), cls)(cfg, folder)

    vocab = parse_tokenizer(folder, conv.special_types)
    want = int(cfg.get("vocab_size") or (cfg.get("text_config") or {}).get("vocab_size") or 0)
    for i in range(max(0, want - len(vocab.tokens))):  # Ollama pads a short vocabulary
        vocab.tokens.append(f"[PAD{i}]")
        vocab.scores.append(-1.0)
        vocab.types.append(USER_DEFINED)
    conv.prepare(vocab)

    shards = sorted(folder.glob("*.safetensors"))
    if not shards:
        raise ConvertError("unknown tensor format")
    sources = conv.sources(read_tensors(shards))
    tensors = sorted(conv.tensors(sources, vocab), key=block_sort_key)
    kv = dict(sorted(conv.kv(vocab).items()))
    write_gguf(out, kv, tensors)
