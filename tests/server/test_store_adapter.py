"""The model routes over a real on-disk `Store` (the route tests elsewhere use an in-memory one)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pyollama.config import Settings
from pyollama.gguf import GGUFInfo, read_gguf_info
from pyollama.go.time import rfc3339
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.app import make_app
from pyollama.server.schemas import encode
from pyollama.server.store_adapter import StoreAdapter, model_info
from pyollama.store import Layer, ModelName, Store, create_model
from pyollama.store.create import collect
from pyollama.store.store import MEDIA_CONFIG
from tests.conftest import requires_engine
from tests.store.conftest import gguf_py_reader, make_gguf


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "models")


@pytest.fixture
async def client(aiohttp_client: Any, store: Store) -> Any:
    app = make_app(Settings(), StoreAdapter(store), FakeRunnerFactory(), host_guard=False)
    return await aiohttp_client(app)


def blob_files(store: Store) -> list[str]:
    return sorted(p.name for p in store.blobs_dir.iterdir()) if store.blobs_dir.is_dir() else []


async def test_upload_is_a_durable_world_readable_blob(client: Any, store: Store) -> None:
    data = os.urandom(3 << 20)
    resp = await client.post(f"/api/blobs/{sha(data)}", data=io.BytesIO(data))
    assert resp.status == 201
    path = store.blob_path(sha(data))
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # as Ollama writes blobs
    assert blob_files(store) == [path.name]
    again = await client.post(f"/api/blobs/{sha(data)}", data=io.BytesIO(data))
    assert again.status == 200
    assert (await client.head(f"/api/blobs/{sha(data)}")).status == 200


async def test_upload_with_the_wrong_content_leaves_nothing(client: Any, store: Store) -> None:
    want = sha(b"the real thing")
    resp = await client.post(f"/api/blobs/{want}", data=b"something else")
    assert resp.status == 400
    assert await resp.json() == {
        "error": f'digest mismatch, expected "{want}", got "{sha(b"something else")}"'
    }
    assert blob_files(store) == []


async def test_truncated_upload_leaves_nothing(client: Any, store: Store) -> None:
    data = os.urandom(1 << 20)
    _, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        f"POST /api/blobs/{sha(data)} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data[: len(data) // 2]
    )
    await writer.drain()
    writer.close()  # the client goes away mid-body
    await writer.wait_closed()
    seen = False  # the handler's temp file, once it started writing
    for i in range(300):
        await asyncio.sleep(0.01)
        files = blob_files(store)
        seen = seen or bool(files)
        if (seen or i > 100) and not files:
            break
    assert blob_files(store) == []


@pytest.mark.parametrize("digest", [f"sha256:{'a' * 64}%0A", f"sha256-{'a' * 64}%0A", "sha256:..%2F..%2Fx"])
async def test_digest_must_be_exactly_sha256_and_64_hex(client: Any, store: Store, digest: str) -> None:
    resp = await client.post(f"/api/blobs/{digest}", data=b"x")
    assert resp.status == 400
    assert await resp.json() == {"error": "invalid digest format"}
    assert blob_files(store) == []


async def upload(client: Any, data: bytes) -> str:
    # a file-like body: aiohttp warns (ResourceWarning) on a multi-MB `bytes` body
    assert (await client.post(f"/api/blobs/{sha(data)}", data=io.BytesIO(data))).status in (200, 201)
    return sha(data)


async def create(client: Any, gguf: Path, **extra: Any) -> Any:
    """`/api/create` of model `m` from an uploaded GGUF, with `extra` fields; the response."""
    digest = await upload(client, gguf.read_bytes())
    body = {"model": "m", "files": {"m.gguf": digest}, "stream": False, **extra}
    if extra.get("draft_files") == "same":
        body["draft_files"] = {"d.gguf": digest}
    return await client.post("/api/create", json=body)


async def test_create_with_a_draft_resolves_it(client: Any, tiny_gguf: Path, store: Store) -> None:
    resp = await create(client, tiny_gguf, draft_files="same")
    assert resp.status == 200 and await resp.json() == {"status": "success"}
    info = StoreAdapter(store).resolve("m")
    assert info.draft is not None and info.draft == info.model_path  # the same blob, as a draft layer


async def test_create_takes_info_and_show_takes_system_and_options(client: Any, tiny_gguf: Path) -> None:
    assert (await create(client, tiny_gguf, info={"context_length": 99})).status == 200
    shown = await (await client.post("/api/show", json={"model": "m"})).json()
    assert shown["details"]["context_length"] == 99
    shown = await (
        await client.post("/api/show", json={"model": "m", "system": "SYS", "options": {"temperature": 0.25}})
    ).json()
    assert shown["system"] == "SYS"
    assert "SYSTEM SYS" in shown["modelfile"]
    assert "PARAMETER temperature 0.25" in shown["modelfile"]


async def test_delete_without_a_name(client: Any) -> None:
    resp = await client.delete("/api/delete", json={})
    assert resp.status == 400
    assert await resp.json() == {"error": 'name "" is invalid'}


async def test_create_accepts_num_parallel(client: Any, tiny_gguf: Path) -> None:
    assert (await create(client, tiny_gguf, parameters={"num_parallel": 2})).status == 200
    shown = await (await client.post("/api/show", json={"model": "m"})).json()
    assert "num_parallel                   2" in shown["parameters"]


# --- the replies the adapter builds from the store's descriptions -----------------------------------


def py_adapter(store: Store) -> StoreAdapter:
    return StoreAdapter(store, read_gguf=gguf_py_reader)


async def make(store: Store, name: str, gguf: Path, **req: Any) -> None:
    digest, _, _ = store.write_blob_file(gguf)
    await collect(
        create_model(store, {"model": name, "files": {"m.gguf": digest}, **req}, read_gguf=gguf_py_reader)
    )


async def test_show_reply_has_ollamas_fields_in_go_order(store: Store, tmp_path: Path) -> None:
    await make(
        store,
        "alice/mine:v1",
        make_gguf(tmp_path / "m.gguf"),
        template="{{ .System }} {{ .Prompt }}",
        system="sys",
        parameters={"temperature": 0.7},
        messages=[{"role": "user", "content": "hi there"}],
        license=["MIT", "BSD"],
    )
    body = json.loads(encode(py_adapter(store).show("Alice/Mine:V1")))
    assert list(body) == [
        "license",
        "modelfile",
        "parameters",
        "template",
        "system",
        "details",
        "messages",
        "model_info",
        "capabilities",
        "modified_at",
    ]
    assert body["license"] == "MIT\nBSD" and body["capabilities"] == ["completion"]
    assert body["details"] == {
        "parent_model": str(store.blob_path(sha((tmp_path / "m.gguf").read_bytes()))),
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": "64",
        "quantization_level": "F16",
        "context_length": 2048,
        "embedding_length": 16,
    }
    assert body["messages"] == [{"role": "user", "content": "hi there"}]
    info = body["model_info"]
    assert "general.name" not in info and info["general.parameter_count"] == 64
    assert info["tokenizer.ggml.tokens"] == []  # 8 > 5: elided
    assert list(info) == sorted(info)
    assert body["modified_at"] == rfc3339(
        store.manifest_path(ModelName.parse("alice/mine:v1")).stat().st_mtime_ns
    )
    verbose = json.loads(encode(py_adapter(store).show("alice/mine:v1", verbose=True)))
    assert len(verbose["model_info"]["tokenizer.ggml.tokens"]) == 8
    assert verbose["tensors"] == [{"name": "token_embd.weight", "type": "F32", "shape": [64]}]
    assert list(verbose)[list(verbose).index("model_info") + 1] == "tensors"


async def test_the_header_cache_keeps_no_vocabulary(store: Store, tmp_path: Path) -> None:
    # a decoded vocabulary is tens of MiB of Python objects: cached headers hold none of it, and
    # verbose show and resolve (whose checks need it) read the file again
    await make(store, "m", make_gguf(tmp_path / "m.gguf", n_tokens=300))
    adapter = py_adapter(store)
    assert json.loads(encode(adapter.show("m")))["model_info"]["tokenizer.ggml.tokens"] == []
    verbose = json.loads(encode(adapter.show("m", verbose=True)))
    assert len(verbose["model_info"]["tokenizer.ggml.tokens"]) == 300
    info = adapter.resolve("m")
    assert info.kv["llama.context_length"] == 2048 and len(info.kv["tokenizer.ggml.tokens"]) == 300
    cached = [h for h in adapter._gguf.values() if h is not None]
    assert cached and all(h.kv["tokenizer.ggml.tokens"] == [] for h in cached)
    assert json.loads(encode(adapter.show("m")))["model_info"]["general.parameter_count"] == 64


async def test_show_reply_of_a_remote_model_and_a_projector(store: Store, tmp_path: Path) -> None:
    cfg: dict[str, Any] = {
        "model_format": "",
        "remote_host": "https://ollama.com:443",
        "remote_model": "gpt-oss:20b",
    }
    cfg |= {"capabilities": ["completion", "tools"], "requires": "0.12.0", "renderer": "r", "parser": "p"}
    cd, cn, _ = store.write_blob_bytes(json.dumps(cfg).encode())
    store.write_manifest(ModelName.parse("cloud"), Layer(MEDIA_CONFIG, cd, cn), [])
    body = json.loads(encode(py_adapter(store).show("cloud")))
    assert list(body) == [
        "modelfile",
        "template",
        "renderer",
        "parser",
        "details",
        "remote_model",
        "remote_host",
        "model_info",
        "capabilities",
        "modified_at",
        "requires",
    ]
    assert body["model_info"] == {} and body["capabilities"] == ["completion", "tools"]
    w, _, _ = store.write_blob_file(make_gguf(tmp_path / "w.gguf"))
    p, _, _ = store.write_blob_file(make_gguf(tmp_path / "p.gguf", arch="clip", general_type="mmproj"))
    await collect(
        create_model(store, {"model": "vis", "files": {"a.gguf": w, "b.gguf": p}}, read_gguf=gguf_py_reader)
    )
    shown = py_adapter(store).show("vis")
    assert shown.projector_info is not None and shown.projector_info["general.type"] == "mmproj"
    assert shown.capabilities == ["completion", "vision"]


async def test_list_reply(store: Store, tmp_path: Path) -> None:
    assert encode(py_adapter(store).list_models()) == b'{"models":[]}'
    await make(store, "m", make_gguf(tmp_path / "m.gguf"))
    cfg = {"remote_host": "https://ollama.com:443", "remote_model": "gpt-oss:20b"}
    cd, cn, _ = store.write_blob_bytes(json.dumps(cfg).encode())
    store.write_manifest(ModelName.parse("cloud"), Layer(MEDIA_CONFIG, cd, cn), [])
    os.utime(store.manifest_path(ModelName.parse("m")), ns=(1, 1_000_000_000_000_000_000))
    rows = json.loads(encode(py_adapter(store).list_models()))["models"]
    assert [r["name"] for r in rows] == ["cloud:latest", "m:latest"]
    assert list(rows[0]) == [
        "name",
        "model",
        "remote_model",
        "remote_host",
        "modified_at",
        "size",
        "digest",
        "details",
    ]
    assert list(rows[1]) == ["name", "model", "modified_at", "size", "digest", "details"]
    assert rows[1]["modified_at"] == rfc3339(1_000_000_000_000_000_000, utc=False)
    assert rows[1]["details"]["parent_model"] == "" and rows[1]["details"]["context_length"] == 2048
    assert rows[0]["details"] == {
        "parent_model": "",
        "format": "",
        "family": "",
        "families": None,
        "parameter_size": "",
        "quantization_level": "",
    }


async def test_show_and_resolve_start_from_one_description(store: Store, tmp_path: Path) -> None:
    """The resolved model's prompt path and capabilities are show's; its details are ps's (no lengths)."""
    chat = "{% if tools %}{{ tools }}{% endif %}<think></think>"
    await make(store, "m", make_gguf(tmp_path / "m.gguf", chat_template=chat), system="s")
    reads: list[str] = []

    def reader(path: Any) -> Any:
        reads.append(str(path))
        return gguf_py_reader(path)

    adapter = StoreAdapter(store, read_gguf=reader)
    shown, info = adapter.show("m"), adapter.resolve("m")
    assert shown.capabilities == list(info.capabilities) == ["tools", "thinking", "completion"]
    assert shown.template == chat and info.prompt_source == "jinja" and info.system == "s"
    assert info.details == msgspec.structs.replace(
        shown.details, context_length=msgspec.UNSET, embedding_length=msgspec.UNSET
    )
    assert b"context_length" not in encode(info.details)
    # show's header is cached (slim); resolve reads the whole header once for its checks
    assert len(reads) == 2
    adapter.show("m")
    adapter.resolve("m")
    assert len(reads) == 2


@requires_engine
async def test_model_info_floats_as_ollama_prints_them(store: Store, tmp_path: Path) -> None:
    extra = {
        "llama.rope.freq_base": 100000.0,
        "llama.attention.layer_norm_rms_epsilon": 1e-5,
        "llama.rope.scaling.factor": 0.1,
        "test.floats": [0.1, 2.0, -0.5],
    }
    d, _, _ = store.write_blob_file(make_gguf(tmp_path / "f.gguf", extra=extra))
    await collect(create_model(store, {"model": "floats", "files": {"m.gguf": d}}))
    info = StoreAdapter(store).show("floats").model_info  # the engine reader widens float32 to double
    assert info["llama.attention.layer_norm_rms_epsilon"] == 1e-05  # not 9.999999747378752e-06
    assert info["llama.rope.scaling.factor"] == 0.1
    assert info["test.floats"] == [0.1, 2, -0.5]
    assert info["llama.rope.freq_base"] == 100000 and isinstance(info["llama.rope.freq_base"], int)
    body = msgspec.json.encode(info)
    assert b'"llama.rope.freq_base":100000,' in body
    assert b'"llama.attention.layer_norm_rms_epsilon":0.00001,' in body  # as Ollama
    assert b'"test.floats":[0.1,2,-0.5]' in body


@requires_engine
def test_model_info_floats_smollm2(smollm2_path: Path) -> None:
    info = model_info(read_gguf_info(smollm2_path), verbose=False)
    assert info["llama.attention.layer_norm_rms_epsilon"] == 1e-05
    assert info["llama.rope.freq_base"] == 100000 and isinstance(info["llama.rope.freq_base"], int)


def test_model_info_floats_where_go_and_msgspec_differ() -> None:
    """Go's encoder writes 'f' from 1e-6 up to 1e21; msgspec switches to exponents earlier."""
    kv = {"general.architecture": "qwen2", "qwen2.attention.layer_norm_rms_epsilon": 1e-6, "a.big": 1.5e20}
    kv |= {"a.tiny": 1e-7, "a.mid": 0.25}
    info = model_info(GGUFInfo(version=3, kv=kv), verbose=False)
    body = msgspec.json.encode(info)
    assert b'"qwen2.attention.layer_norm_rms_epsilon":0.000001' in body
    assert b'"a.big":150000000000000000000' in body and b'"a.tiny":1e-7' in body and b'"a.mid":0.25' in body
