"""A GGUF v3 writer: typed key/values, tensor infos, aligned tensor data, streamed one tensor at a time.

The format (ggml's docs/gguf.md): magic `GGUF`, version, tensor and KV counts, the KVs, one info per
tensor (name, dims innermost first, ggml type, offset into the data section), padding to
`general.alignment` (32), then each tensor's bytes padded to the alignment. Values carry their GGUF
type explicitly (`Value`), as Ollama's converter types each Go value, so a `uint32` stays a `uint32`
where llama.cpp reads one.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

ALIGNMENT = 32

# gguf_type
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
_SCALAR = {
    UINT8: "<B",
    INT8: "<b",
    UINT16: "<H",
    INT16: "<h",
    UINT32: "<I",
    INT32: "<i",
    FLOAT32: "<f",
    BOOL: "<?",
    UINT64: "<Q",
    INT64: "<q",
    FLOAT64: "<d",
}
_NUMPY = {UINT8: "<u1", INT8: "<i1", UINT32: "<u4", INT32: "<i4", FLOAT32: "<f4", UINT64: "<u8", INT64: "<i8"}

# ggml_type of the tensors a converter writes
GGML_F32, GGML_F16, GGML_BF16 = 0, 1, 30
_GGML_DTYPE: dict[int, str] = {GGML_F32: "<f4", GGML_F16: "<f2"}


@dataclass(frozen=True)
class Value:
    """A typed GGUF value; `type` ARRAY takes `elem` and a list."""

    type: int
    value: Any
    elem: int = 0


def u32(v: int) -> Value:
    return Value(UINT32, int(v))


def f32(v: float) -> Value:
    return Value(FLOAT32, float(v))


def boolean(v: bool) -> Value:
    return Value(BOOL, bool(v))


def string(v: str) -> Value:
    return Value(STRING, str(v))


def array(elem: int, values: Iterable[Any]) -> Value:
    return Value(ARRAY, list(values), elem)


def _string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _scalar(t: int, v: Any) -> bytes:
    if t == STRING:
        return _string(v)
    return struct.pack(_SCALAR[t], v)


def encode_value(v: Value) -> bytes:
    out = struct.pack("<I", v.type)
    if v.type != ARRAY:
        return out + _scalar(v.type, v.value)
    out += struct.pack("<IQ", v.elem, len(v.value))
    if v.elem in _NUMPY:  # long numeric arrays (scores, token types) in one go
        return out + np.asarray(v.value, dtype=_NUMPY[v.elem]).tobytes()
    if v.elem == STRING:
        return out + b"".join(_string(s) for s in v.value)
    return out + b"".join(_scalar(v.elem, x) for x in v.value)


@dataclass
class OutTensor:
    """One tensor to write: `shape` in numpy (row-major) order; `load` gives its values when the
    data is written, so only one tensor is in memory at a time."""

    name: str
    shape: tuple[int, ...]
    kind: int
    load: Callable[[], np.ndarray]

    @property
    def nbytes(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n * (4 if self.kind == GGML_F32 else 2)


def _to_kind(a: np.ndarray, kind: int) -> bytes:
    if kind == GGML_BF16:
        u = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype("<u8")
        # round to nearest even, as ggml's fp32->bf16 does; a NaN stays a (quiet) NaN
        rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
        rounded = np.where((u & 0x7FFFFFFF) > 0x7F800000, (u >> 16) | 64, rounded)
        return rounded.astype("<u2").tobytes()
    return bytes(np.ascontiguousarray(a, dtype=_GGML_DTYPE[kind]).tobytes())


def _pad(n: int) -> int:
    return -n % ALIGNMENT


def write_gguf(out: IO[bytes], kv: dict[str, Value], tensors: list[OutTensor]) -> None:
    """Write a whole GGUF file; KVs in the given order, tensors in the given order."""
    head = bytearray(b"GGUF")
    head += struct.pack("<IQQ", 3, len(tensors), len(kv))
    for k, v in kv.items():
        head += _string(k) + encode_value(v)
    offset = 0
    for t in tensors:
        head += _string(t.name) + struct.pack("<I", len(t.shape))
        head += b"".join(struct.pack("<Q", d) for d in reversed(t.shape))  # ggml: innermost first
        head += struct.pack("<IQ", t.kind, offset)
        offset += t.nbytes + _pad(t.nbytes)
    head += b"\0" * _pad(len(head))
    out.write(head)
    for t in tensors:
        a = t.load()
        if tuple(a.shape) != t.shape:
            raise ValueError(f"tensor {t.name}: shape {tuple(a.shape)} is not {t.shape}")
        data = _to_kind(a, t.kind)
        out.write(data)
        out.write(b"\0" * _pad(len(data)))
