"""The model routes over a real on-disk `Store` (the route tests elsewhere use an in-memory one)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pyollama.config import Settings
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.app import make_app
from pyollama.server.store_adapter import StoreAdapter
from pyollama.store import Store


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
    resp = await client.post(f"/api/blobs/{sha(data)}", data=data)
    assert resp.status == 201
    path = store.blob_path(sha(data))
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # as Ollama writes blobs
    assert blob_files(store) == [path.name]
    again = await client.post(f"/api/blobs/{sha(data)}", data=data)
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
    assert (await client.post(f"/api/blobs/{sha(data)}", data=data)).status in (200, 201)
    return sha(data)


async def create(client: Any, gguf: Path, **extra: Any) -> Any:
    """`/api/create` of model `m` from an uploaded GGUF, with `extra` fields; the response."""
    digest = await upload(client, gguf.read_bytes())
    body = {"model": "m", "files": {"m.gguf": digest}, "stream": False, **extra}
    if extra.get("draft_files") == "same":
        body["draft_files"] = {"d.gguf": digest}
    return await client.post("/api/create", json=body)


async def test_create_refuses_draft_files_clearly(client: Any, tiny_gguf: Path) -> None:
    resp = await create(client, tiny_gguf, draft_files="same")
    assert resp.status == 400
    assert await resp.json() == {"error": "draft models are not supported yet"}


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
