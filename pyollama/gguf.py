"""GGUF header reading (key/values and tensor list) without loading any weights.

Used by `show`, `list` and `create` to fill Ollama's details. The parsing is done by ggml's own
`gguf_init_from_file(no_alloc=true)` through the engine, so pyollama agrees with llama.cpp about
what a valid GGUF is; corrupt or hostile files raise `GGUFError`, never crash the process.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Any

from pyollama.errors import GGUFError

# ggml's llama_ftype names for general.file_type (Ollama shows these as quantization_level).
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4",
}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    type: str  # Ollama's type name, e.g. "Q4_1", "Q4_K", "F32"
    shape: tuple[int, ...]

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class GGUFInfo:
    version: int
    kv: dict[str, Any]
    tensors: list[TensorInfo] = field(default_factory=list)

    @property
    def architecture(self) -> str:
        return str(self.kv.get("general.architecture", ""))

    def arch_value(self, suffix: str, default: Any = None) -> Any:
        return self.kv.get(f"{self.architecture}.{suffix}", default)

    @property
    def parameter_count(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    @property
    def file_type(self) -> str:
        ft = self.kv.get("general.file_type")
        if isinstance(ft, int):
            return FILE_TYPES.get(ft, f"unknown({ft})")
        return ""

    @property
    def context_length(self) -> int:
        return int(self.arch_value("context_length", 0) or 0)

    @property
    def embedding_length(self) -> int:
        return int(self.arch_value("embedding_length", 0) or 0)

    @property
    def chat_template(self) -> str:
        return str(self.kv.get("tokenizer.chat_template", "") or "")


def read_gguf_info(path: str | os.PathLike[str]) -> GGUFInfo:
    """Read a GGUF file's header. Raises `GGUFError` for anything that is not a valid GGUF."""
    from pyollama.engine import read_gguf  # the native reader (ggml's gguf parser)

    p = os.fspath(path)
    if not os.path.isfile(p):
        raise GGUFError(f"no such file: {p}")
    raw = read_gguf(p)
    tensors = [TensorInfo(t["name"], tensor_type_name(t["type"]), tuple(t["shape"])) for t in raw["tensors"]]
    kv = {k: _unwiden(v) for k, v in raw["kv"].items()}
    return GGUFInfo(version=int(raw["version"]), kv=kv, tensors=tensors)


def tensor_type_name(ggml_name: str) -> str:
    """ggml's type names (`q4_K`, `f32`, `iq2_xxs`) as Ollama prints them (`Q4_K`, `F32`, `IQ2_XXS`)."""
    return ggml_name.upper()


_F32 = struct.Struct("<f")


def _unwiden_float(x: float) -> float:
    """A float32 the reader widened to float64, as the shortest decimal naming the float32.

    Ollama keeps GGUF float32 values as float32, so show prints `0.00001`, not
    `9.999999747378752e-06`. The reader does not say which floats were float32; a value that a
    float32 holds exactly is taken to be one (a float64 key rarely is).
    """
    if x.is_integer():
        return x  # already the shortest; the fast path for vocabulary scores
    try:
        if _F32.unpack(_F32.pack(x))[0] != x:
            return x  # a real float64 (or NaN)
    except OverflowError:
        return x
    from pyollama.go.strconv import float32_shortest

    return float32_shortest(x)


def _unwiden(v: Any) -> Any:
    if isinstance(v, float):
        return _unwiden_float(v)
    if isinstance(v, list) and v and isinstance(v[0], float | list):  # GGUF arrays hold one type
        return [_unwiden(x) for x in v]
    return v
