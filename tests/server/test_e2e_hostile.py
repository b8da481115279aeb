"""Hostile clients against a real daemon with a real model: idle and slow (trickled) connections,
the connection cap, and a disconnect storm (streams dropped after the first line, requests dropped
before the answer, half-sent bodies, malformed JSON). Afterwards the daemon serves normally and
no slot is left taken. Slow."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.server.daemon import Daemon, create_from_file, need_engine

pytestmark = pytest.mark.slow
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Path:
    need_engine()
    home = tmp_path_factory.mktemp("e2e-hostile")
    d = Daemon(home, home / "models")
    try:
        create_from_file(d.url, "smol", smollm2_path)
    finally:
        d.stop()
    return home / "models"


@pytest.fixture
def start(models: Path, tmp_path: Path) -> Iterator[Any]:
    started: list[Daemon] = []

    def go(**env: str) -> Daemon:
        d = Daemon(tmp_path, models, {"PYOLLAMA_CONTEXT_LENGTH": "512", **env})
        started.append(d)
        return d

    yield go
    for d in started:
        assert d.stop() == 0, d.log_text()[-3000:]


async def _generate(s: aiohttp.ClientSession, url: str, n: int = 2) -> tuple[int, Any]:
    body = {"model": "smol", "prompt": COUNTING, "raw": True, "stream": False, "options": {"num_predict": n}}
    async with s.post(url + "/api/generate", json=body) as r:
        return r.status, await r.json()


async def test_idle_and_trickling_connections_do_not_block_service(start: Any) -> None:
    d = start(PYOLLAMA_NUM_PARALLEL="2")
    idle = [await asyncio.open_connection("127.0.0.1", d.port) for _ in range(100)]
    trickle = [await asyncio.open_connection("127.0.0.1", d.port) for _ in range(20)]
    head = b"POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:
            for step in range(len(head)):
                for _, w in trickle:  # one byte per connection per step
                    w.write(head[step : step + 1])
                if step % 20 == 0:
                    results = await asyncio.gather(*(_generate(s, d.url) for _ in range(4)))
                    assert all(st == 200 and b["done"] for st, b in results), results
                    async with s.get(d.url + "/api/tags") as r:
                        assert r.status == 200
    finally:
        for _, w in idle + trickle:
            w.close()
    assert d.proc.poll() is None


async def test_the_connection_cap(start: Any) -> None:
    d = start(PYOLLAMA_MAX_CONNECTIONS="16")
    idle = [await asyncio.open_connection("127.0.0.1", d.port) for _ in range(16)]
    await asyncio.sleep(0.2)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:
        async with s.get(d.url + "/api/version") as r:
            assert r.status == 503
            assert await r.json() == {"error": "server busy, please try again.  too many connections"}
        for _, w in idle:
            w.close()
        await asyncio.sleep(0.5)
        assert (await _generate(s, d.url))[0] == 200


async def _storm_one(i: int, url: str, port: int) -> None:
    rng = random.Random(i)
    kind = rng.choice(["drop_stream", "drop_before_answer", "half_body", "bad_json", "ok"])
    if kind in ("half_body", "drop_before_answer"):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        raw = json.dumps({"model": "smol", "prompt": COUNTING, "options": {"num_predict": 200}}).encode()
        head = (
            f"POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(raw)}\r\n\r\n".encode()
        )
        writer.write(head + (raw[: len(raw) // 2] if kind == "half_body" else raw))
        await writer.drain()
        await asyncio.sleep(rng.random() * 0.3)
        writer.transport.abort()  # RST, no goodbye
        return
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:
        if kind == "bad_json":
            async with s.post(url + "/api/chat", data=b'{"model": "smol", "messages": [') as r:
                assert r.status == 400
            return
        body = {
            "model": "smol",
            "prompt": COUNTING,
            "raw": True,
            "options": {"num_predict": 8 if kind == "ok" else 200},
        }
        async with s.post(url + "/api/generate", json=body) as r:
            assert r.status == 200
            if kind == "drop_stream":
                await r.content.readline()
                r.close()
                return
            lines = (await r.read()).decode().strip().split("\n")
            assert '"done":true' in lines[-1], lines[-1]


async def test_a_disconnect_storm_leaves_no_slot_taken(start: Any) -> None:
    d = start(PYOLLAMA_NUM_PARALLEL="2")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:
        assert (await _generate(s, d.url))[0] == 200
    for wave in range(2):
        await asyncio.wait_for(
            asyncio.gather(*(_storm_one(100 * wave + i, d.url, d.port) for i in range(24))), timeout=600
        )
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:
        # both slots free again: two requests at once finish
        results = await asyncio.wait_for(asyncio.gather(_generate(s, d.url, 4), _generate(s, d.url, 4)), 300)
        assert all(st == 200 and b["eval_count"] == 4 for st, b in results), results
        async with s.get(d.url + "/api/ps") as r:
            assert [m["name"] for m in (await r.json())["models"]] == ["smol:latest"]
    assert d.proc.poll() is None
