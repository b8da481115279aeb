"""The resource caps: options from the request, the Modelfile and the environment are clamped
with a warning; too many or too large images and bodies are refused with a clear message."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from pyollama.config import Settings
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server import limits
from pyollama.server.limits import (
    MAX_IMAGES,
    MAX_NUM_BATCH,
    MAX_NUM_CTX,
    MAX_NUM_PARALLEL,
    body_limit,
    logical_cpus,
)
from tests.server.conftest import ClientMaker, default_models, model

Client = TestClient[Any, Any]


async def _load(c: Client, fac: FakeRunnerFactory, model_name: str = "m1", **options: Any) -> Any:
    body = {"model": model_name, "prompt": "x", "stream": False, "options": options}
    r = await c.post("/api/generate", json=body)
    assert r.status == 200, await r.text()
    return fac.loads[-1][1]


async def test_num_thread_at_most_the_logical_cpus(
    client: Client, factory: FakeRunnerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "pyollama.server"):
        opts = await _load(client, factory, num_thread=1000)
    assert opts.num_thread == logical_cpus()
    assert (
        f"num_thread 1000 is out of range (more than the logical CPUs); using {logical_cpus()}" in caplog.text
    )
    assert (await _load(client, factory, num_thread=-3)).num_thread is None
    assert (await _load(client, factory, num_thread=1)).num_thread == 1


async def test_num_thread_from_the_environment_and_the_modelfile(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory()
    c = await make_client(settings=Settings(num_thread=1000), fac=fac)
    assert (await _load(c, fac)).num_thread == logical_cpus()
    models = default_models() | {
        "big:latest": model("big:latest", "/blobs/big", parameters={"num_thread": 500})
    }
    fac2 = FakeRunnerFactory()
    c2 = await make_client(fac=fac2, models=models)
    assert (await _load(c2, fac2, "big")).num_thread == logical_cpus()


async def test_num_ctx_at_most_the_trained_context(
    make_client: ClientMaker, caplog: pytest.LogCaptureFixture
) -> None:
    fac = FakeRunnerFactory()
    models = default_models() | {"short:latest": model("short:latest", "/blobs/short", context_length=2048)}
    c = await make_client(fac=fac, models=models)
    with caplog.at_level(logging.WARNING, "pyollama.server"):
        assert (await _load(c, fac, "short", num_ctx=100000)).num_ctx == 2048
    assert "requested context size too large for model num_ctx=100000 n_ctx_train=2048" in caplog.text
    assert (await _load(c, fac, "m1", num_ctx=2**40)).num_ctx == MAX_NUM_CTX  # the model does not say


async def test_num_parallel_and_num_batch_are_bounded(client: Client, factory: FakeRunnerFactory) -> None:
    opts = await _load(client, factory, num_parallel=100000, num_batch=10**9)
    assert opts.num_parallel == MAX_NUM_PARALLEL and opts.num_batch == MAX_NUM_BATCH
    opts = await _load(client, factory, num_parallel=-1, num_batch=-5)
    assert opts.num_parallel == 4 and opts.num_batch == 1  # 0 = auto (4 slots fit); the smallest batch


async def test_an_embedding_batch_never_exceeds_the_context(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory()
    c = await make_client(fac=fac)
    r = await c.post("/api/embed", json={"model": "emb", "input": "x", "options": {"num_ctx": 256}})
    assert r.status == 200
    assert fac.loads[-1][1].num_batch == 256  # Ollama's embeddingBatchSize


def _img(n: int) -> str:
    return base64.b64encode(b"\x89PNG" + b"\0" * n).decode()


async def test_several_multi_mb_images_work_and_too_many_are_refused(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory()
    models = default_models() | {
        "eyes:latest": model(
            "eyes:latest", "/blobs/eyes", capabilities=("completion", "vision"), projector="/p"
        )
    }
    c = await make_client(fac=fac, models=models)
    big = _img(3 << 20)
    msgs = [
        {"role": "user", "content": "look", "images": [big, big]},
        {"role": "user", "content": "and", "images": [big, big]},
    ]
    # a file-like body: aiohttp warns (ResourceWarning) on a multi-MB `bytes` body
    body = io.BytesIO(json.dumps({"model": "eyes", "messages": msgs, "stream": False}).encode())
    r = await c.post("/api/chat", data=body, headers={"Content-Type": "application/json"})
    assert r.status == 200, await r.text()  # 4 images of 3 MB: 16 MB of JSON
    many = [{"role": "user", "content": "x", "images": [_img(8)] * 40}] * 2
    r = await c.post("/api/chat", json={"model": "eyes", "messages": many, "stream": False})
    assert r.status == 400 and await r.json() == {
        "error": f"too many images: 80 (at most {MAX_IMAGES} per request)"
    }
    r = await c.post("/api/generate", json={"model": "eyes", "prompt": "x", "images": [_img(8)] * 65})
    assert r.status == 400 and "too many images: 65" in (await r.json())["error"]


async def test_an_image_too_large_is_refused(
    make_client: ClientMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pyollama.server.planner.plan.MAX_IMAGE_BYTES", 1000)
    models = default_models() | {
        "eyes:latest": model("eyes:latest", "/blobs/eyes", capabilities=("completion", "vision"))
    }
    c = await make_client(models=models)
    r = await c.post("/api/generate", json={"model": "eyes", "prompt": "x", "images": [_img(10), _img(2000)]})
    assert r.status == 400
    assert await r.json() == {"error": "image too large: more than 1000 bytes - at `$.images[1]`"}


def test_body_limit_per_route() -> None:
    assert body_limit("/api/chat", 100 << 20) == 100 << 20
    assert body_limit("/v1/messages", 100 << 20) == 100 << 20
    assert body_limit("/api/show", 100 << 20) == limits.SMALL_BODY
    assert body_limit("/api/show", 1000) == 1000
    assert body_limit("/api/blobs/sha256:ab", 1000) is None


async def test_a_body_past_the_route_limit_is_413(make_client: ClientMaker) -> None:
    c = await make_client(settings=Settings(max_request_size=1 << 20))
    r = await c.post("/api/generate", data=io.BytesIO(b"{" + b" " * (2 << 20) + b"}"))
    assert r.status == 413 and "Maximum request body size 1048576 exceeded" in (await r.json())["error"]
    r = await c.post("/api/show", data=io.BytesIO(b" " * (2 << 20)))
    assert r.status == 413

    async def chunks() -> Any:  # no Content-Length: read up to the limit only
        for _ in range(64):
            yield b" " * (64 << 10)

    r = await c.post("/api/generate", data=chunks())
    assert r.status == 413
    r = await c.post("/api/generate", json={"model": "m1", "prompt": "fits", "stream": False})
    assert r.status == 200


async def test_a_declared_2_gb_body_is_refused_before_it_is_read(make_client: ClientMaker) -> None:
    c = await make_client()
    assert c.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", c.port)
    writer.write(
        b"POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2147483648\r\n\r\n{"
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 413")
    writer.close()
