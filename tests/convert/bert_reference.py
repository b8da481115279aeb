"""An independent all-MiniLM-L6-v2 forward pass in numpy, straight from the safetensors file.

Reads the checkpoint with its own ten-line parser (not pyollama's), tokenizes with Hugging Face's
`tokenizers`, runs the BERT encoder (post-LN, exact-erf GELU) and sentence-transformers' mean
pooling and normalization. The reference the converted GGUF's `/api/embed` is compared against.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + a : 8 + n + b], dtype="<f4").reshape(meta["shape"])
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    out: np.ndarray = (x - mu) / np.sqrt(var + eps) * w + b
    return out


_erf = np.vectorize(math.erf)


def _gelu(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    return out


class MiniLM:
    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.cfg = json.loads((folder / "config.json").read_text())
        self.w = {k: v.astype(np.float64) for k, v in load_safetensors(folder / "model.safetensors").items()}
        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.no_truncation()

    def ids(self, text: str) -> list[int]:
        return list(self.tok.encode(text).ids)

    def embed(self, text: str) -> np.ndarray:
        w, cfg = self.w, self.cfg
        eps = float(cfg["layer_norm_eps"])
        heads = int(cfg["num_attention_heads"])
        ids = self.ids(text)
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids]
        x = (
            x
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        d = x.shape[1] // heads
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."

            def lin(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q = lin(x, "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
            k = lin(x, "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
            v = lin(x, "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
            s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(1, 0, 2).reshape(n, heads * d)
            x = _layer_norm(
                x + lin(ctx, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                eps,
            )
            h = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(
                x + lin(h, "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                eps,
            )
        pooled = x.mean(0)
        out: np.ndarray = pooled / np.linalg.norm(pooled)
        return out
