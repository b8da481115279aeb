"""`serve` binds, answers, and shuts down cleanly (models unloaded) when asked to stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from pyollama.config import Settings, parse_host
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.serve import serve, serve_help_text
from tests.server.conftest import MemoryStore, default_models


async def test_serve_and_clean_shutdown(tmp_path: Path) -> None:
    fac = FakeRunnerFactory()
    stop = asyncio.Event()
    ports: list[int] = []
    task = asyncio.ensure_future(
        serve(
            Settings(host=parse_host("127.0.0.1:0")),
            store=MemoryStore(tmp_path, default_models()),
            runner_factory=fac,
            stop=stop,
            on_started=ports.append,
        )
    )
    for _ in range(200):
        if ports or task.done():
            break
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{ports[0]}"
    async with aiohttp.ClientSession() as s:
        async with s.get(base + "/api/version") as r:
            assert r.status == 200
        async with s.post(base + "/api/generate", json={"model": "m1", "prompt": "x", "stream": False}) as r:
            assert (await r.json())["response"] == "x"
    stop.set()
    await asyncio.wait_for(task, 10)
    assert fac.runners and all(r.closed for r in fac.runners)


def test_help_lists_every_variable() -> None:
    text = serve_help_text()
    for name in (
        "OLLAMA_HOST",
        "OLLAMA_KEEP_ALIVE",
        "OLLAMA_NUM_PARALLEL",
        "OLLAMA_MAX_LOADED_MODELS",
        "OLLAMA_MAX_QUEUE",
        "OLLAMA_CONTEXT_LENGTH",
        "OLLAMA_ORIGINS",
        "OLLAMA_MODELS",
        "OLLAMA_FLASH_ATTENTION",
        "OLLAMA_KV_CACHE_TYPE",
        "OLLAMA_DEBUG",
        "OLLAMA_NOPRUNE",
    ):
        assert name in text


def test_runner_isolation_picks_the_factory() -> None:
    import functools

    import pytest

    pytest.importorskip("pyollama.engine")
    from pyollama.runner.native import NativeRunner
    from pyollama.runner.process import ProcessRunner
    from pyollama.server.serve import _default_factory

    assert _default_factory(Settings(runner_isolation="inprocess")) == NativeRunner.load
    fac = _default_factory(Settings(runner_isolation="process", debug=1))
    assert isinstance(fac, functools.partial) and fac.func == ProcessRunner.load
    assert fac.keywords == {"log_level": 3, "debug": True}
