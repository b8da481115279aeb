"""End-to-end scheduling against real daemons: eviction at the model limit, queue full -> 503,
a dropped client frees its slot at once, and a short soak with zero errors. Slow."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.server.daemon import Daemon, create_from_file, need_engine

pytestmark = pytest.mark.slow
QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded"
# A raw prompt a base-ish model keeps continuing: long generations without ignore_eos.
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path, gemma_path: Path) -> Path:
    """One models dir for every daemon of this module (created through a first daemon)."""
    need_engine()
    home = tmp_path_factory.mktemp("e2e-sched")
    d = Daemon(home, home / "models")
    try:
        create_from_file(d.url, "smol", smollm2_path)
        create_from_file(d.url, "gemma", gemma_path)
    finally:
        d.stop()
    return home / "models"


@pytest.fixture
def start(models_dir: Path, tmp_path: Path) -> Iterator[Any]:
    started: list[Daemon] = []

    def go(**env: str) -> Daemon:
        d = Daemon(tmp_path, models_dir, {"PYOLLAMA_CONTEXT_LENGTH": "2048", **env})
        started.append(d)
        return d

    yield go
    for d in started:
        assert d.stop() == 0, d.log_text()[-3000:]


def test_eviction_at_the_limit(start: Any) -> None:
    import ollama

    d = start(PYOLLAMA_MAX_LOADED_MODELS="1")
    with ollama.Client(host=d.url) as c:
        c.generate(model="smol", prompt="hi", options={"num_predict": 2})
        assert [m.model for m in c.ps().models] == ["smol:latest"]
        c.generate(model="gemma", prompt="hi", options={"num_predict": 2})
        assert [m.model for m in c.ps().models] == ["gemma:latest"]


async def _generate(s: aiohttp.ClientSession, url: str, n: int) -> tuple[int, Any]:
    body = {
        "model": "smol",
        "prompt": COUNTING,
        "raw": True,
        "stream": False,
        "options": {"num_predict": n, "temperature": 0},
    }
    async with s.post(url + "/api/generate", json=body) as r:
        return r.status, await r.json()


async def test_queue_full_is_503(start: Any) -> None:
    d = start(PYOLLAMA_NUM_PARALLEL="1", PYOLLAMA_MAX_QUEUE="2")
    async with aiohttp.ClientSession() as s:
        assert (await _generate(s, d.url, 1))[0] == 200  # loaded
        results = await asyncio.wait_for(
            asyncio.gather(*(_generate(s, d.url, 48) for _ in range(8))), timeout=300
        )
    statuses = sorted(st for st, _ in results)
    assert 503 in statuses and 200 in statuses, statuses
    for st, body in results:
        if st == 503:
            assert body == {"error": QUEUE_FULL}


async def test_disconnect_frees_the_slot(start: Any) -> None:
    d = start(PYOLLAMA_NUM_PARALLEL="1")
    long_body = {
        "model": "smol",
        "prompt": COUNTING,
        "raw": True,
        "options": {"num_predict": 100000, "temperature": 0},
    }
    async with aiohttp.ClientSession() as s:
        assert (await _generate(s, d.url, 1))[0] == 200
        resp = await s.post(d.url + "/api/generate", json=long_body)
        assert resp.status == 200
        first = await resp.content.readline()
        assert b'"done":false' in first
        resp.close()  # drop the connection mid-stream
        # With one slot, this only starts once the long generation is cancelled.
        status, body = await asyncio.wait_for(_generate(s, d.url, 4), timeout=120)
        assert status == 200 and body["done"] and body["eval_count"] == 4
        async with s.get(d.url + "/api/ps") as r:
            assert len((await r.json())["models"]) == 1


async def test_soak_16_clients(start: Any) -> None:
    """16 concurrent clients for ~20 s (bounded loop count and time) mixing routes: zero errors."""
    d = start(PYOLLAMA_NUM_PARALLEL="4")
    deadline = time.monotonic() + 20
    errors: list[str] = []
    counts = {"generate": 0, "chat": 0, "embed": 0, "tags": 0}

    async def worker(i: int, s: aiohttp.ClientSession) -> None:
        rng = random.Random(i)
        for _ in range(200):
            if time.monotonic() > deadline:
                return
            kind = rng.choice(list(counts))
            req: tuple[str, str, dict[str, Any] | None]
            opts = {"num_predict": rng.randint(1, 8), "temperature": 0.5, "seed": i}
            if kind == "generate":
                req = (
                    "POST",
                    "/api/generate",
                    {
                        "model": "smol",
                        "prompt": f"Tell me about {i}",
                        "options": opts,
                        "stream": rng.random() < 0.5,
                    },
                )
            elif kind == "chat":
                msgs = [{"role": "user", "content": f"Hello number {i}"}]
                req = (
                    "POST",
                    "/api/chat",
                    {"model": "smol", "messages": msgs, "options": opts, "stream": False},
                )
            elif kind == "embed":
                req = ("POST", "/api/embed", {"model": "smol", "input": [f"text {i}", "other"]})
            else:
                req = ("GET", "/api/tags", None)
            try:
                async with s.request(req[0], d.url + req[1], json=req[2]) as r:
                    data = await r.read()
                    if r.status != 200 or b'"error"' in data:
                        errors.append(f"{req[1]} {r.status} {data[:200]!r}")
                    counts[kind] += 1
            except aiohttp.ClientError as exc:
                errors.append(f"{req[1]} {exc!r}")

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as s:
        await asyncio.wait_for(asyncio.gather(*(worker(i, s) for i in range(16))), timeout=300)
    assert errors == []
    assert all(n > 0 for n in counts.values()), counts
