"""`/api/pull` and `/api/push` over the `ModelStore` protocol (the in-memory fake; the registry
tests run them against real and hostile registries)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.server.conftest import ndjson

Client = TestClient[Any, Any]


async def test_pull_streams_the_stores_progress(client: Client) -> None:
    r = await client.post("/api/pull", json={"model": "new"})
    assert r.status == 200 and r.headers["Content-Type"] == "application/x-ndjson"
    lines = ndjson(await r.read())
    assert lines[0] == {"status": "pulling manifest"} and lines[-1] == {"status": "success"}
    digest = "sha256:" + "0" * 64
    assert lines[1] == {"status": "pulling 000000000000", "digest": digest, "total": 3, "completed": 3}
    assert "new:latest" in [m["name"] for m in (await (await client.get("/api/tags")).json())["models"]]


async def test_pull_not_streamed_answers_the_last_line(client: Client) -> None:
    r = await client.post("/api/pull", json={"name": "other", "stream": False})  # `name`: old spelling
    assert r.status == 200 and await r.json() == {"status": "success"}


async def test_pull_errors(client: Client) -> None:
    for route in ("/api/pull", "/api/push"):
        r = await client.post(route, json={"insecure": True})
        assert r.status == 400 and await r.json() == {"error": "model is required"}
    r = await client.post("/api/pull", json={"model": "a b"})  # refused before the first line
    assert r.status == 400 and await r.json() == {"error": "invalid model name"}
    r = await client.post("/api/pull", json={"model": "bad/x"})  # after it: a last line
    assert r.status == 200
    assert ndjson(await r.read())[-1] == {"error": "pull model manifest: file does not exist"}
    r = await client.post("/api/pull", json={"model": "bad/x", "stream": False})
    assert r.status == 400 and await r.json() == {"error": "pull model manifest: file does not exist"}


async def test_push(client: Client) -> None:
    r = await client.post("/api/push", json={"model": "m1"})
    statuses = [x["status"] for x in ndjson(await r.read())]
    assert statuses == ["retrieving manifest", "pushing manifest", "success"]
    r = await client.post("/api/push", json={"model": "nope", "stream": False})
    assert r.status == 404 and await r.json() == {"error": "model 'nope' not found"}
