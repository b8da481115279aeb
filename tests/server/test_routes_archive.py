"""`POST /api/export` and `/api/import` over the real store: streamed both ways, errors by position."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pyollama.config import Settings
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.app import make_app
from pyollama.server.store_adapter import StoreAdapter
from pyollama.store import Store
from pyollama.store.create import collect, create_model
from tests.store.conftest import gguf_py_reader, make_gguf


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture
async def src(tmp_path: Path) -> Store:
    store = Store(tmp_path / "a")
    digest, _, _ = store.write_blob_file(make_gguf(tmp_path / "m.gguf", n_params=5000))
    req = {"model": "mine", "files": {"m.gguf": digest}, "system": "hi"}
    assert (await collect(create_model(store, req, read_gguf=gguf_py_reader)))[-1]["status"] == "success"
    return store


async def _client(aiohttp_client: Any, store: Store) -> Any:
    app = make_app(
        Settings(), StoreAdapter(store, read_gguf=gguf_py_reader), FakeRunnerFactory(), host_guard=False
    )
    return await aiohttp_client(app)


async def _chunks(data: bytes, n: int = 700) -> AsyncIterator[bytes]:
    for i in range(0, len(data), n):
        yield data[i : i + n]


async def test_export_then_import_into_another_daemon(
    aiohttp_client: Any, src: Store, tmp_path: Path
) -> None:
    a = await _client(aiohttp_client, src)
    resp = await a.post("/api/export", json={"model": "mine"})
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/x-tar"
    archive = await resp.read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert tar.getnames()[0] == "manifests/registry.ollama.ai/library/mine/latest"

    dst = Store(tmp_path / "b")
    b = await _client(aiohttp_client, dst)
    resp = await b.post("/api/import", data=_chunks(archive))  # a body in small pieces
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(x) for x in (await resp.text()).splitlines()]
    assert lines[0] == {"status": "reading manifest mine:latest"}
    assert lines[-1] == {"status": "success"}
    done = [x for x in lines if x.get("digest") and x.get("completed") == x.get("total")]
    assert len(done) == len(_tree(src.root / "blobs"))
    assert _tree(dst.root) == _tree(src.root)
    assert (await b.post("/api/show", json={"model": "mine"})).status == 200


async def test_export_of_a_missing_model_is_404(aiohttp_client: Any, src: Store) -> None:
    a = await _client(aiohttp_client, src)
    resp = await a.post("/api/export", json={"model": "nope"})
    assert resp.status == 404
    assert await resp.json() == {"error": "model 'nope' not found"}
    resp = await a.post("/api/export", json={})
    assert resp.status == 400


async def test_tampered_import_is_an_error_line_and_installs_nothing(
    aiohttp_client: Any, src: Store, tmp_path: Path
) -> None:
    a = await _client(aiohttp_client, src)
    archive = bytearray(await (await a.post("/api/export", json={"model": "mine"})).read())
    archive[3000] ^= 0xFF  # inside the first blob (the manifest member is one header + one block)
    dst = Store(tmp_path / "b")
    b = await _client(aiohttp_client, dst)
    resp = await b.post("/api/import", data=bytes(archive))
    lines = [json.loads(x) for x in (await resp.text()).splitlines()]
    assert "error" in lines[-1] and "invalid archive" in lines[-1]["error"]
    assert _tree(dst.root) == {}


async def test_garbage_import_is_a_400(aiohttp_client: Any, tmp_path: Path) -> None:
    dst = Store(tmp_path / "b")
    b = await _client(aiohttp_client, dst)
    resp = await b.post("/api/import", data=b"\x01" * 2048)
    assert resp.status == 400
    assert (await resp.json())["error"].startswith("invalid archive")
