"""Reading `*.safetensors` files: an 8-byte little-endian header length, a JSON header, raw data.

Each header entry names a dtype, a shape and `data_offsets` relative to the end of the header
(Ollama's `parseSafetensors`). Tensors are memory-mapped and decoded on demand, so a converter
holds one tensor at a time however large the checkpoint is. The header is checked before use:
offsets inside the file, sizes that match dtype x shape, no duplicate names across shards.
"""

from __future__ import annotations

import json
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pyollama.errors import BadRequest

MAX_HEADER = 100 << 20

# safetensors dtypes as numpy dtypes (BF16 is decoded by hand: numpy has no bfloat16)
_DTYPES: dict[str, str] = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}


class SafetensorsError(BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(f"invalid safetensors file: {message}")


@dataclass
class Tensor:
    """One tensor of a checkpoint, not yet read."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    path: Path
    start: int  # absolute file offsets
    end: int

    def numpy(self) -> np.ndarray:
        """The values as float32 (integers keep their type)."""
        with open(self.path, "rb") as f:
            if self.end == self.start:
                raw = np.zeros(0, dtype=_DTYPES[self.dtype])
            else:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                raw = np.frombuffer(mm, dtype=_DTYPES[self.dtype], count=self._count(), offset=self.start)
        shape = self.shape or (1,)  # a scalar becomes a 1-element vector (Ollama does the same)
        if self.dtype == "BF16":
            return (raw.astype("<u4") << 16).view("<f4").reshape(shape)
        if self.dtype in ("F16", "F64"):
            return raw.astype("<f4").reshape(shape)
        return raw.reshape(shape)

    def _count(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def read_header(path: Path) -> list[Tensor]:
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise SafetensorsError(f"{path.name}: too short")
        (n,) = struct.unpack("<Q", raw)
        if n > MAX_HEADER or 8 + n > size:
            raise SafetensorsError(f"{path.name}: header length {n} is out of range")
        try:
            header = json.loads(f.read(n))
        except ValueError as exc:
            raise SafetensorsError(f"{path.name}: header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path.name}: header is not an object")
    out = []
    base = 8 + n
    for name in sorted(header):  # Ollama sorts the keys too
        if name == "__metadata__":
            continue
        meta = header[name]
        try:
            dtype = str(meta["dtype"])
            shape = tuple(int(d) for d in meta["shape"])
            begin, end = (int(x) for x in meta["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"{path.name}: bad entry for {name!r}") from None
        if dtype not in _DTYPES:
            raise SafetensorsError(f"{path.name}: {name}: unsupported dtype {dtype}")
        count = 1
        for d in shape:
            if d < 0:
                raise SafetensorsError(f"{path.name}: {name}: negative dimension")
            count *= d
        if not 0 <= begin <= end <= size - base or end - begin != count * np.dtype(_DTYPES[dtype]).itemsize:
            raise SafetensorsError(f"{path.name}: {name}: data offsets do not match its shape")
        out.append(Tensor(name, dtype, shape, path, base + begin, base + end))
    return out


def read_tensors(paths: list[Path]) -> list[Tensor]:
    """The tensors of every shard, by name; a name in two shards is an error."""
    seen: dict[str, Tensor] = {}
    for p in sorted(paths):
        for t in read_header(p):
            if t.name in seen:
                raise SafetensorsError(f"tensor {t.name!r} is in two files")
            seen[t.name] = t
    return list(seen.values())
