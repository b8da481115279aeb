"""Store fixtures: fake-metadata GGUFs, a pure-Python GGUF reader, and an Ollama-written store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pyollama.gguf import GGUFInfo, TensorInfo
from pyollama.store import Store


def gguf_py_reader(path: Any) -> GGUFInfo:
    """GGUFInfo through the PyPI `gguf` package (tests only; the daemon uses the engine)."""
    from gguf import GGUFReader

    r = GGUFReader(str(path))
    kv: dict[str, Any] = {}
    for name, field in r.fields.items():
        if name.startswith("GGUF."):
            continue
        v = field.contents()
        kv[name] = v
    tensors = [TensorInfo(t.name, t.tensor_type.name, tuple(int(x) for x in t.shape)) for t in r.tensors]
    return GGUFInfo(version=3, kv=kv, tensors=tensors)


def make_gguf(
    path: Path,
    *,
    arch: str = "llama",
    chat_template: str | None = None,
    file_type: int = 1,
    context_length: int = 2048,
    embedding_length: int = 16,
    extra: dict[str, Any] | None = None,
    general_type: str | None = None,
    n_tokens: int = 8,
    n_params: int = 64,
    block_count: int | None = 1,
) -> Path:
    """A tiny GGUF with fake metadata: enough for create/show, not for inference."""
    import gguf

    w = gguf.GGUFWriter(str(path), arch)
    w.add_name("fake-model")
    if general_type:
        w.add_type(general_type)
    w.add_context_length(context_length)
    w.add_embedding_length(embedding_length)
    if block_count is not None:
        w.add_block_count(block_count)
    w.add_file_type(file_type)
    w.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(n_tokens)])
    if chat_template is not None:
        w.add_chat_template(chat_template)
    for k, v in (extra or {}).items():
        if isinstance(v, bool):
            w.add_bool(k, v)
        elif isinstance(v, int):
            w.add_uint32(k, v)
        elif isinstance(v, float):
            w.add_float32(k, v)
        elif isinstance(v, str):
            w.add_string(k, v)
        elif isinstance(v, list):
            w.add_array(k, v)
    w.add_tensor("token_embd.weight", np.zeros(n_params, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "models")


@pytest.fixture
def fake_gguf(tmp_path: Path) -> Path:
    return make_gguf(tmp_path / "fake.gguf")


@pytest.fixture
def upload(store: Store) -> Callable[[Path], str]:
    """Put a local file into the store as a blob (what the client's POST /api/blobs does)."""

    def _upload(p: Path) -> str:
        digest, _, _ = store.write_blob_file(p)
        return digest

    return _upload


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_ollama_blob(root: Path, data: bytes, *, colon: bool = False) -> tuple[str, int]:
    d = sha(data)
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / (d if colon else d.replace(":", "-"))).write_bytes(data)
    return d, len(data)


@pytest.fixture
def ollama_store(tmp_path: Path) -> Path:
    """A store laid out exactly as Ollama writes it (Go encoding/json bytes), one pulled-style
    model `llama3.2:latest` and one created model `alice/Mine:v1`."""
    root = tmp_path / "ollama-models"
    model = make_gguf(tmp_path / "m.gguf", file_type=15, chat_template="{{ bos_token }}")
    md, mn = write_ollama_blob(root, model.read_bytes())
    tmpl = b"{{- if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}<|assistant|>"
    td, tn = write_ollama_blob(root, tmpl)
    pd, pn = write_ollama_blob(root, b'{"stop":["\\u003c|eot_id|\\u003e"],"temperature":0.6}\n')
    ld, ln = write_ollama_blob(root, b"LLAMA 3.2 COMMUNITY LICENSE", colon=True)  # old `sha256:` name
    cfg = (
        '{"model_format":"gguf","model_family":"llama","model_families":["llama"],'
        '"model_type":"64","file_type":"Q4_K_M","architecture":"amd64","os":"linux",'
        f'"rootfs":{{"type":"layers","diff_ids":["{md}","{td}","{ld}","{pd}"]}}}}\n'
    ).encode()
    cd, cn = write_ollama_blob(root, cfg)

    def layer(mt: str, d: str, n: int, extra: str = "") -> str:
        return f'{{"mediaType":"application/vnd.ollama.image.{mt}","digest":"{d}","size":{n}{extra}}}'

    manifest = (
        '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        f'"config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{cd}","size":{cn}}},'
        f'"layers":[{layer("model", md, mn)},{layer("template", td, tn)},{layer("license", ld, ln)},'
        f"{layer('params', pd, pn)}]}}"
    )
    p = root / "manifests" / "registry.ollama.ai" / "library" / "llama3.2" / "latest"
    p.parent.mkdir(parents=True)
    p.write_bytes(manifest.encode())  # pulled manifests are the registry's bytes, no newline
    sd, sn = write_ollama_blob(root, b"You are Mario.")
    from_extra = ',"from":"llama3.2:latest"'
    manifest2 = (
        '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        f'"config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{cd}","size":{cn}}},'
        f'"layers":[{layer("model", md, mn, from_extra)},{layer("system", sd, sn)}]}}\n'
    )
    p2 = root / "manifests" / "registry.ollama.ai" / "alice" / "Mine" / "v1"
    p2.parent.mkdir(parents=True)
    p2.write_bytes(manifest2.encode())
    return root
