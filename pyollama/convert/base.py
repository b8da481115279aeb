"""What every architecture converter shares (Ollama's convert.go `ModelParameters`, tensor.go kinds).

A converter reads config.json into typed fields, names its tensors with a replacement table (Go's
`strings.Replacer` semantics: leftmost match, the earlier pair wins at one position), chooses each
tensor's output type as Ollama does (1-D and a few named tensors F32, BF16 stays BF16, others F16),
and writes the tokenizer keys every GGUF needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pyollama.convert.gguf_writer import (
    FLOAT32,
    GGML_BF16,
    GGML_F16,
    GGML_F32,
    INT32,
    STRING,
    OutTensor,
    Value,
    array,
    boolean,
    string,
    u32,
)
from pyollama.convert.safetensors import Tensor
from pyollama.convert.tokenizer import SPECIAL_KEYS, Vocab
from pyollama.errors import BadRequest


class ConvertError(BadRequest):
    pass


Repack = Callable[[np.ndarray], np.ndarray]


@dataclass
class Source:
    """A checkpoint tensor under its GGUF name, with the repacking its converter asked for."""

    name: str
    tensor: Tensor
    shape: tuple[int, ...]
    repack: Repack | None = None

    def kind(self) -> int:
        """Ollama's `tensorBase.Kind` and `safetensor.Kind`."""
        n = self.name
        if n.endswith((".ffn_gate_inp.weight", ".bias")) or n == "token_types.weight" or len(self.shape) <= 1:
            return GGML_F32
        if self.tensor.dtype == "BF16" and not n.startswith(("v.", "s.", "mm.")):
            return GGML_BF16
        return GGML_F16

    def out(self, shape: tuple[int, ...] | None = None, kind: int | None = None) -> OutTensor:
        def load() -> np.ndarray:
            a = self.tensor.numpy().astype(np.float32, copy=False).reshape(self.shape)
            return self.repack(a) if self.repack is not None else a

        return OutTensor(self.name, shape or self.shape, self.kind() if kind is None else kind, load)


def replacer(pairs: tuple[str, ...]) -> Callable[[str], str]:
    """Go's `strings.NewReplacer(pairs...).Replace`: scan left to right; at each position the first
    pair (in argument order) whose old string matches is replaced, and scanning resumes after it."""
    olds = pairs[0::2]
    news = pairs[1::2]
    pattern = re.compile("|".join(re.escape(o) for o in olds)) if olds else None

    def replace(s: str) -> str:
        if pattern is None:
            return s
        out = []
        i = 0
        while i < len(s):
            for o, n in zip(olds, news, strict=True):
                if o and s.startswith(o, i):
                    out.append(n)
                    i += len(o)
                    break
            else:
                out.append(s[i])
                i += 1
        return "".join(out)

    return replace


def cfg_or(cfg: dict[str, Any], *keys: str, default: Any = 0) -> Any:
    """Go's `cmp.Or` over config fields: the first one that is set and non-zero."""
    for k in keys:
        v = cfg.get(k)
        if v:
            return v
    return default


def block_sort_key(t: OutTensor) -> tuple[int, str]:
    """Ollama's WriteGGUF order: by block number (non-block tensors last), then by name."""
    m = re.match(r"blk\.(\d+)\.", t.name)
    return (int(m.group(1)) if m else 1 << 62, t.name)


class ModelConverter:
    """One architecture; subclasses set `arch`, `replacements` and extend `kv` / `tensors`."""

    arch: ClassVar[str] = ""
    replacements: ClassVar[tuple[str, ...]] = ()
    special_types: ClassVar[tuple[str, ...]] = ("bos", "eos", "unk", "sep", "pad", "cls", "mask")
    skip: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: dict[str, Any], folder: Path) -> None:
        self.cfg = config
        self.folder = folder

    def prepare(self, vocab: Vocab) -> None:
        """Adjust the tokenizer before keys are written (BERT's phantom spaces)."""

    def sources(self, tensors: list[Tensor]) -> list[Source]:
        rename = replacer(self.replacements)
        out = []
        names: set[str] = set()
        for t in tensors:
            if t.name in self.skip:
                continue
            name = rename(t.name)
            if name in names:
                raise ConvertError(f"duplicate tensor name '{name}' was found for this model")
            names.add(name)
            out.append(Source(name, t, t.shape or (1,)))
        return out

    def tensors(self, sources: list[Source], vocab: Vocab) -> list[OutTensor]:
        return [s.out() for s in sources]

    def kv(self, vocab: Vocab) -> dict[str, Value]:
        """Ollama's `ModelParameters.KV`: file type, the tokenizer and its special tokens."""
        kv: dict[str, Value] = {
            "general.architecture": string(self.arch),
            "general.file_type": u32(1),
            "general.quantization_version": u32(2),
            "tokenizer.ggml.pre": string(vocab.pre),
            "tokenizer.ggml.model": string(vocab.model),
            "tokenizer.ggml.tokens": array(STRING, vocab.tokens),
            "tokenizer.ggml.scores": array(FLOAT32, vocab.scores),
            "tokenizer.ggml.token_type": array(INT32, vocab.types),
        }
        if vocab.merges:
            kv["tokenizer.ggml.merges"] = array(STRING, vocab.merges)
        if vocab.chat_template:
            kv["tokenizer.chat_template"] = string(vocab.chat_template)
        if vocab.add_space_prefix is not None and vocab.model == "llama":
            kv["tokenizer.ggml.add_space_prefix"] = boolean(vocab.add_space_prefix)
        for sp in vocab.specials:
            key = SPECIAL_KEYS[sp.type]
            if sp.add is not None:  # llama.cpp reads add_sep_token (Ollama writes add_seperator_token)
                kv[f"tokenizer.ggml.add_{'sep' if sp.type == 'sep' else key}_token"] = boolean(sp.add)
            kv[f"tokenizer.ggml.{key}_token_id"] = u32(sp.id)
            if sp.ids:
                kv[f"tokenizer.ggml.{key}_token_ids"] = array(INT32, sp.ids)
        return kv

    def a(self, key: str) -> str:
        """`<arch>.<key>`, as Ollama's writer prefixes bare keys."""
        return f"{self.arch}.{key}"


def set_u32(kv: dict[str, Value], key: str, v: Any) -> None:
    """Set an unsigned key only when the config has it (Ollama's `if x > 0` guards)."""
    if v:
        kv[key] = u32(int(v))


def set_f32(kv: dict[str, Value], key: str, v: Any) -> None:
    if v:
        kv[key] = Value(FLOAT32, float(v))
