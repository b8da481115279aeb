"""Scheduler behaviour through the routes and directly: residency, eviction, queue, cancel, dedup."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from pyollama.config import Settings
from pyollama.errors import ModelLoadError, ServerBusy
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.runner.types import LoadOptions
from pyollama.server.scheduler import QUEUE_FULL, LoadRequest, Scheduler, kv_cache_bytes
from tests.server.conftest import GB, ClientMaker

Client = TestClient[Any, Any]
LONG = " ".join(f"w{i}" for i in range(200))


async def _until(cond: Any, tries: int = 400) -> None:
    for _ in range(tries):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


def _req(path: str, **kw: Any) -> LoadRequest:
    return LoadRequest(name=path, model_path=path, options=LoadOptions(**kw), file_size=100)


async def test_two_models_resident(client: Client, factory: FakeRunnerFactory) -> None:
    for m in ("m1", "m2"):
        r = await client.post("/api/generate", json={"model": m, "prompt": "x", "stream": False})
        assert r.status == 200
    assert len(factory.live()) == 2
    ps = (await (await client.get("/api/ps")).json())["models"]
    assert {m["name"] for m in ps} == {"m1:latest", "m2:latest"}


async def test_eviction_at_limit(make_client: ClientMaker, factory: FakeRunnerFactory) -> None:
    c = await make_client(settings=Settings(max_loaded_models=2))
    for m in ("m1", "m2", "m3"):
        r = await c.post("/api/generate", json={"model": m, "prompt": "x", "stream": False})
        assert r.status == 200
    names = {m["name"] for m in (await (await c.get("/api/ps")).json())["models"]}
    assert names == {"m2:latest", "m3:latest"}  # m1 expired first, so it went first
    assert len(factory.live()) == 2 and factory.runners[0].closed


async def test_pinned_model_is_evicted_last(make_client: ClientMaker, factory: FakeRunnerFactory) -> None:
    """keep_alive -1 (forever) outlives a model that would expire in 5 minutes."""
    c = await make_client(settings=Settings(max_loaded_models=2))
    for m, keep_alive in (("m1", -1), ("m2", "5m"), ("m3", "5m")):
        body = {"model": m, "prompt": "x", "stream": False, "keep_alive": keep_alive}
        assert (await c.post("/api/generate", json=body)).status == 200
    names = {m["name"] for m in (await (await c.get("/api/ps")).json())["models"]}
    assert names == {"m1:latest", "m3:latest"}


async def test_huge_keep_alive_is_forever(client: Client) -> None:
    """A duration past Go's cap reads as forever: /api/ps still answers (no year-33715 date), with
    now + MaxInt64 ns as Go's time.Add prints it (about 292 years from now)."""
    for keep_alive in (1e12, "100000000h"):
        body = {"model": "m1", "prompt": "x", "stream": False, "keep_alive": keep_alive}
        assert (await client.post("/api/generate", json=body)).status == 200
        r = await client.get("/api/ps")
        assert r.status == 200
        assert 2300 < int((await r.json())["models"][0]["expires_at"][:4]) < 2400


async def test_eviction_by_memory() -> None:
    fac = FakeRunnerFactory()
    sched = Scheduler(fac, max_loaded=3, free_memory=lambda: 1000)
    async with sched.use(_req("/a", num_parallel=1)):
        pass
    async with sched.use(_req("/b", num_parallel=1)):
        pass
    # 100-byte files fit; a 900-byte one does not fit next to them in 80 % of 1000 bytes
    big = LoadRequest(name="big", model_path="/big", options=LoadOptions(num_parallel=1), file_size=900)
    async with sched.use(big):
        pass
    assert [lm.key for lm in sched.loaded()] == ["/big"]
    await sched.close()


async def test_auto_parallel_depends_on_memory() -> None:
    fac = FakeRunnerFactory()
    kv = {
        "general.architecture": "llama",
        "llama.block_count": 30,
        "llama.attention.head_count": 9,
        "llama.attention.head_count_kv": 3,
        "llama.embedding_length": 576,
    }
    per_slot = kv_cache_bytes(kv, 4096)
    roomy = Scheduler(fac, free_memory=lambda: 64 * GB)
    tight = Scheduler(fac, free_memory=lambda: int(per_slot * 1.5 / 0.8) + 200)
    for sched, want in ((roomy, 4), (tight, 1)):
        req = LoadRequest(
            name="m", model_path="/m", options=LoadOptions(num_parallel=0), kv=kv, file_size=100
        )
        async with sched.use(req) as lease:
            assert lease.model.options.num_parallel == want
        await sched.close()


async def test_reload_only_when_load_options_change(client: Client, factory: FakeRunnerFactory) -> None:
    for opts in ({"temperature": 0.1}, {"temperature": 0.9, "seed": 3}):
        await client.post(
            "/api/generate", json={"model": "m1", "prompt": "x", "stream": False, "options": opts}
        )
    assert len(factory.loads) == 1
    await client.post(
        "/api/generate", json={"model": "m1", "prompt": "x", "stream": False, "options": {"num_ctx": 1024}}
    )
    assert len(factory.loads) == 2 and factory.loads[1][1].num_ctx == 1024
    assert len(factory.live()) == 1


async def test_concurrent_load_dedup(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory(load_delay=0.05)
    c = await make_client(fac=fac)
    rs = await asyncio.gather(
        *(c.post("/api/generate", json={"model": "m1", "prompt": "hi", "stream": False}) for _ in range(10))
    )
    assert all(r.status == 200 for r in rs)
    assert len(fac.loads) == 1


async def test_load_failure_reaches_every_waiter(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory(load_delay=0.01, fail="bad magic")
    c = await make_client(fac=fac)
    rs = await asyncio.gather(
        *(c.post("/api/generate", json={"model": "m1", "prompt": "hi"}) for _ in range(3))
    )
    for r in rs:
        assert r.status == 500 and await r.json() == {"error": "bad magic"}


async def test_queue_full_503(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory(token_delay=0.02)
    c = await make_client(fac=fac, settings=Settings(max_queue=1, num_parallel=1))
    first = await c.post("/api/generate", json={"model": "m1", "prompt": LONG})
    await first.content.readline()  # holds the only slot now
    waiting = asyncio.ensure_future(
        c.post("/api/generate", json={"model": "m1", "prompt": "x", "stream": False})
    )
    await _until(lambda: _state(c).scheduler.pending == 1)
    r = await c.post("/api/generate", json={"model": "m1", "prompt": "x"})
    assert r.status == 503 and await r.json() == {"error": QUEUE_FULL}
    first.close()
    r2 = await waiting
    assert r2.status == 200


def _state(c: Client) -> Any:
    from pyollama.server.state import STATE

    return c.app[STATE]


async def test_disconnect_cancels_and_frees_slot(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory(token_delay=0.02)
    c = await make_client(fac=fac, settings=Settings(num_parallel=1))
    r = await c.post("/api/generate", json={"model": "m1", "prompt": LONG})
    await r.content.readline()
    runner = fac.runners[0]
    assert runner.live_streams == 1
    r.close()
    await _until(lambda: runner.live_streams == 0)
    assert runner.cancelled_streams == 1
    r = await c.post("/api/generate", json={"model": "m1", "prompt": "next", "stream": False})
    assert (await r.json())["response"] == "next"


async def test_chat_disconnect_while_not_streamed(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory(token_delay=0.02)
    c = await make_client(fac=fac, settings=Settings(num_parallel=1))
    task = asyncio.ensure_future(
        c.post(
            "/api/chat",
            json={"model": "m1", "stream": False, "messages": [{"role": "user", "content": LONG}]},
        )
    )
    await _until(lambda: bool(fac.runners) and fac.runners[0].live_streams == 1)
    task.cancel()
    await _until(lambda: fac.runners[0].live_streams == 0)
    assert fac.runners[0].cancelled_streams == 1


async def test_keep_alive_timer_unloads() -> None:
    fac = FakeRunnerFactory()
    sched = Scheduler(fac)
    async with sched.use(LoadRequest(name="a", model_path="/a", options=LoadOptions(), keep_alive=0.01)):
        pass
    assert sched.loaded()
    await _until(lambda: not sched.loaded())
    await _until(lambda: fac.runners[0].closed)


async def test_busy_model_is_not_evicted_until_idle() -> None:
    fac = FakeRunnerFactory()
    sched = Scheduler(fac, max_loaded=1)
    order: list[str] = []
    async with sched.use(_req("/a", num_parallel=1)):
        waiter = asyncio.ensure_future(_use_once(sched, "/b", order))
        await asyncio.sleep(0.02)
        assert order == [] and [lm.key for lm in sched.loaded()] == ["/a"]
        order.append("a-done")
    await waiter
    assert order == ["a-done", "/b"]
    await sched.close()


async def _use_once(sched: Scheduler, path: str, order: list[str]) -> None:
    async with sched.use(_req(path, num_parallel=1)):
        order.append(path)


async def test_close_unloads_and_refuses() -> None:
    fac = FakeRunnerFactory()
    sched = Scheduler(fac)
    async with sched.use(_req("/a")):
        pass
    await sched.close()
    assert fac.runners[0].closed and not sched.loaded()
    try:
        async with sched.use(_req("/a")):
            raise AssertionError("should not get here")
    except ServerBusy:
        pass


async def test_load_error_type() -> None:
    sched = Scheduler(FakeRunnerFactory(fail="nope"))
    try:
        async with sched.use(_req("/a")):
            pass
    except ModelLoadError as exc:
        assert exc.message == "nope"
    else:
        raise AssertionError("expected ModelLoadError")


async def test_reload_and_new_model_at_the_limit_do_not_deadlock() -> None:
    """max_loaded=1, A idle: a load of B and a reload of A (other options) arrive together. A is
    evictable (its waiters want the reload), so both finish instead of waiting for keep_alive."""
    fac = FakeRunnerFactory(load_delay=0.01)
    sched = Scheduler(fac, max_loaded=1, free_memory=lambda: 0)
    async with sched.use(_req("/a", num_parallel=1, num_ctx=128)):
        pass

    async def use(req: LoadRequest) -> None:
        async with sched.use(req):
            pass

    await asyncio.wait_for(
        asyncio.gather(use(_req("/b", num_parallel=1)), use(_req("/a", num_parallel=1, num_ctx=256))),
        timeout=10,
    )
    await sched.close()


async def test_model_loaded_for_nobody_still_expires() -> None:
    """Every client left while the model loaded: nobody detaches, the keep_alive timer still runs."""
    fac = FakeRunnerFactory(load_delay=0.05)
    sched = Scheduler(fac, max_loaded=3, free_memory=lambda: 0)
    req = _req("/a", num_parallel=1)
    req.keep_alive = 0.05

    async def use() -> None:
        async with sched.use(req):
            pass

    task = asyncio.ensure_future(use())
    await asyncio.sleep(0.01)
    task.cancel()
    await _until(lambda: len(fac.runners) == 1 and fac.runners[0].closed)
    assert sched.loaded() == []
    await sched.close()


async def test_stop_wins_over_a_request_finishing_later() -> None:
    """`ollama stop` (expire) during a request with keep_alive 10m unloads when it finishes."""
    fac = FakeRunnerFactory()
    sched = Scheduler(fac, max_loaded=3, free_memory=lambda: 0)
    req = _req("/a", num_parallel=1)
    req.keep_alive = 600.0
    async with sched.use(req):
        assert sched.expire("/a")
    await _until(lambda: fac.runners[0].closed)
    assert sched.loaded() == []
    await sched.close()


async def test_ps_lists_a_model_while_it_loads(make_client: ClientMaker) -> None:
    """Ollama shows a loading model in /api/ps, expiring at now + keep_alive."""
    fac = FakeRunnerFactory(load_delay=2.0)
    c = await make_client(fac=fac)
    task = asyncio.ensure_future(
        c.post("/api/generate", json={"model": "m1", "prompt": "x", "stream": False})
    )
    try:
        await _until(lambda: bool(fac.loads))  # the load has started (and sleeps 2 s)
        models = (await (await c.get("/api/ps")).json())["models"]
        assert [m["name"] for m in models] == ["m1:latest"]
        assert models[0]["context_length"] > 0 and models[0]["expires_at"]
    finally:
        r = await task
        assert r.status == 200
    assert [m["name"] for m in (await (await c.get("/api/ps")).json())["models"]] == ["m1:latest"]


# --- a runner that dies on its own (a crashed child runner process) ---------------------------------


async def test_a_crashed_runner_is_forgotten_and_loaded_again(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory(token_delay=0.01)
    c = await make_client(fac=fac)
    for m in ("m1", "m2"):
        assert (
            await c.post("/api/generate", json={"model": m, "prompt": "x", "stream": False})
        ).status == 200
    resp = await c.post("/api/generate", json={"model": "m1", "prompt": LONG})
    assert resp.status == 200
    await resp.content.readline()  # mid-stream
    crashed = next(r for r in fac.runners if r.model_path == "/blobs/m1")
    crashed.crash("ops.cpp:12: GGML_ASSERT(x) failed")
    lines = (await resp.read()).decode().strip().split("\n")
    assert lines[-1] == '{"error":"model runner crashed: ops.cpp:12: GGML_ASSERT(x) failed"}'
    ps = (await (await c.get("/api/ps")).json())["models"]
    assert [m["name"] for m in ps] == ["m2:latest"]  # not "loaded" any more; m2 untouched
    r = await c.post("/api/generate", json={"model": "m2", "prompt": "still here", "stream": False})
    assert (await r.json())["response"] == "still here"
    r = await c.post("/api/generate", json={"model": "m1", "prompt": "again", "stream": False})
    assert r.status == 200 and (await r.json())["response"] == "again"
    assert [p for p, _ in fac.loads].count("/blobs/m1") == 2


async def test_a_crash_before_the_first_byte_is_a_500(make_client: ClientMaker) -> None:
    fac = FakeRunnerFactory(token_delay=0.5)
    c = await make_client(fac=fac)
    assert (await c.post("/api/generate", json={"model": "m1", "prompt": "x", "stream": False})).status == 200
    pending = asyncio.ensure_future(
        c.post("/api/chat", json={"model": "m1", "messages": [{"role": "user", "content": LONG}]})
    )
    await _until(lambda: fac.runners[0].live_streams == 1)
    fac.runners[0].crash("boom")
    r = await pending
    assert r.status == 500 and await r.json() == {"error": "model runner crashed: boom"}
    assert (await (await c.get("/api/ps")).json())["models"] == []


async def test_ps_reports_the_device_memory_the_engine_counted() -> None:
    """size_vram is what the loaded model holds on its GPUs (the engine's memory breakdown); the
    size shown is never below it."""
    from pyollama.runner.types import ModelMetadata

    fac = FakeRunnerFactory(metadata={"/gpu": ModelMetadata(size=50, size_vram=10 * GB, devices=("CUDA0",))})
    sched = Scheduler(fac, free_memory=lambda: 64 * GB)
    async with sched.use(_req("/gpu", num_parallel=1)), sched.use(_req("/cpu", num_parallel=1)):
        pass
    rows = {p.model: p for p in sched.ps()}
    assert rows["/gpu"].size_vram == 10 * GB and rows["/gpu"].size >= 10 * GB
    assert rows["/cpu"].size_vram == 0
    await sched.close()
