"""ProcessRunner: a real child process over a socketpair, driving a FakeRunner (fast) or the real
engine (slow): streams, cancel, close, and a child that dies (SIGKILL, SIGABRT, EOF)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pyollama.errors import BadRequest, EngineStateError, GGUFError, InternalError, RunnerCrashed
from pyollama.runner import wire
from pyollama.runner.base import ChatRequest, CompletionRequest
from pyollama.runner.process import ProcessRunner, _error_from, crash_reason, exit_description
from pyollama.runner.types import Chunk, LoadOptions
from tests.conftest import requires_engine

WORDS = " ".join(f"w{i}" for i in range(200))


@pytest.fixture
async def fake() -> AsyncIterator[ProcessRunner]:
    runner = await ProcessRunner.load("/fake", LoadOptions(num_ctx=64), engine="fake", fake_token_delay=0.005)
    yield runner
    await runner.close()


def exited(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_every_call_crosses_the_boundary(fake: ProcessRunner) -> None:
    assert fake.metadata.architecture == "fake" and fake.metadata.slot_context == 64
    chunks = [c async for c in fake.complete(CompletionRequest(prompt="a b c", options={"num_predict": 2}))]
    assert [c.content for c in chunks] == ["a", " b", ""]
    assert chunks[-1].done and chunks[-1].done_reason == "length" and chunks[-1].eval_count == 2
    chat = [c async for c in fake.chat(ChatRequest(messages=[{"role": "user", "content": "hi there"}]))]
    assert "".join(c.content for c in chat) == "hi there"
    emb = await fake.embed(["x", "y"], normalize=False)
    assert len(emb.vectors) == 2 and emb.prompt_eval_count == 2
    assert await fake.tokenize("hi") == [104, 105]
    assert await fake.detokenize([104, 105]) == "hi"
    assert await fake.apply_template([{"role": "user", "content": "q"}]) == "<user>q\n"


async def test_concurrent_streams_interleave(fake: ProcessRunner) -> None:
    async def run(prefix: str) -> str:
        req = CompletionRequest(prompt=" ".join(f"{prefix}{i}" for i in range(20)))
        return "".join([c.content async for c in fake.complete(req)])

    results = await asyncio.gather(*(run(p) for p in "abcd"))
    assert results == [" ".join(f"{p}{i}" for i in range(20)) for p in "abcd"]
    assert fake._calls == {}


async def test_leaving_a_stream_cancels_it(fake: ProcessRunner) -> None:
    stream = fake.complete(CompletionRequest(prompt=WORDS))
    assert (await anext(stream)).content == "w0"
    await stream.aclose()  # type: ignore[attr-defined]
    assert fake._calls == {}
    # the child is still serving
    ok = [c.content async for c in fake.complete(CompletionRequest(prompt="ok"))]
    assert ok[0] == "ok"


def test_errors_keep_their_class_and_status() -> None:
    err = _error_from(wire.Failure(id=1, kind="BadRequest", status=400, message="no"))
    assert type(err) is BadRequest and err.status == 400 and err.message == "no"
    assert type(_error_from(wire.Failure(id=1, kind="GGUFError", status=400, message="x"))) is GGUFError
    odd = _error_from(wire.Failure(id=1, kind="os", status=500, message="y"))  # not an error class
    assert type(odd) is InternalError and odd.status == 500


async def test_an_unencodable_request_leaves_nothing_behind(fake: ProcessRunner) -> None:
    with pytest.raises(TypeError):
        await fake.apply_template([{"role": "user", "content": "x"}], bogus=object())
    assert fake._calls == {}
    assert await fake.tokenize("a") == [97]


async def test_sigkill_mid_stream_ends_streams_and_calls_back() -> None:
    runner = await ProcessRunner.load("/fake", LoadOptions(), engine="fake", fake_token_delay=0.005)
    deaths: list[str] = []
    runner.on_exit(deaths.append)
    streams = [runner.complete(CompletionRequest(prompt=WORDS)) for _ in range(3)]
    for s in streams:
        await anext(s)
    os.kill(runner.pid, signal.SIGKILL)
    for s in streams:
        with pytest.raises(RunnerCrashed, match="model runner crashed: signal: killed"):
            async for _ in s:
                pass
    await asyncio.sleep(0)
    assert deaths == ["model runner crashed: signal: killed"]
    assert not runner.alive
    with pytest.raises(RunnerCrashed):
        await runner.tokenize("x")
    late: list[str] = []
    runner.on_exit(late.append)  # registered after the death: called at once
    assert late == deaths
    await runner.close()  # still fine after a crash
    assert deaths == ["model runner crashed: signal: killed"]


async def test_sigabrt_before_the_first_chunk() -> None:
    runner = await ProcessRunner.load("/fake", LoadOptions(), engine="fake", fake_token_delay=1.0)
    stream = runner.complete(CompletionRequest(prompt=WORDS))
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.2)
    os.kill(runner.pid, signal.SIGABRT)
    with pytest.raises(RunnerCrashed, match="signal: aborted"):
        await first
    await runner.close()


async def test_close_ends_live_streams_and_reaps_the_child() -> None:
    runner = await ProcessRunner.load("/fake", LoadOptions(), engine="fake", fake_token_delay=0.01)
    deaths: list[str] = []
    runner.on_exit(deaths.append)
    stream = runner.complete(CompletionRequest(prompt=WORDS))
    await anext(stream)
    await runner.close()
    await runner.close()  # idempotent
    with pytest.raises(EngineStateError):
        async for _ in stream:
            pass
    assert exited(runner.pid) and runner._proc.returncode == 0
    assert deaths == []  # a close is not a crash
    with pytest.raises(EngineStateError):
        await runner.tokenize("x")


async def test_the_child_exits_when_the_daemon_goes_away() -> None:
    runner = await ProcessRunner.load("/fake", LoadOptions(), engine="fake")
    runner._channel.abort()  # as if the daemon died: the child sees EOF
    await asyncio.wait_for(runner._proc.wait(), 10)
    await runner.close()


async def test_a_cancelled_load_kills_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    pids: list[int] = []
    started = asyncio.Event()
    real_start = ProcessRunner._start

    async def slow_start(self: ProcessRunner, *args: Any) -> None:
        pids.append(self.pid)
        await real_start(self, *args)
        started.set()
        await asyncio.sleep(30)

    monkeypatch.setattr(ProcessRunner, "_start", slow_start)
    load = asyncio.ensure_future(ProcessRunner.load("/fake", LoadOptions(), engine="fake"))
    await asyncio.wait_for(started.wait(), 30)
    load.cancel()  # as the scheduler's load timeout does
    with pytest.raises(asyncio.CancelledError):
        await load
    assert pids and exited(pids[0])


def test_crash_reason_picks_the_abort_line() -> None:
    lines = [
        "llama_context: n_ctx = 4096",
        "/src/ggml/src/ggml-cpu/ops.cpp:123: GGML_ASSERT(ne0 % 2 == 0) failed",
        "/lib/libggml-base.so(+0x1234) [0x7f00]",
        "#3  0x00007f in ggml_abort () from libggml.so",
    ]
    assert crash_reason(lines) == "/src/ggml/src/ggml-cpu/ops.cpp:123: GGML_ASSERT(ne0 % 2 == 0) failed"
    cxx = [
        "terminate called after throwing an instance of 'std::out_of_range'",
        "  what():  vector::_M_range_check",
    ]
    assert crash_reason(cxx) == "vector::_M_range_check"
    assert crash_reason(["loading", "llama_model_load: error loading model: boom", "done"]).endswith("boom")
    assert crash_reason(["just this"]) == "just this"
    assert crash_reason([]) == ""
    assert exit_description(-signal.SIGABRT) == "signal: aborted"
    assert exit_description(-signal.SIGSEGV) == "signal: segmentation fault"
    assert exit_description(2) == "exit status 2"


# --- the real engine ---------------------------------------------------------------------------------


@requires_engine
async def test_a_load_error_stays_a_load_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(GGUFError):
        await ProcessRunner.load(str(bad), LoadOptions())


@requires_engine
@pytest.mark.slow
async def test_real_model_streams_and_survives_a_neighbour_crash(smollm2_path: Path) -> None:
    opts = LoadOptions(num_ctx=512, num_parallel=2, num_thread=2, embedding=True, pooling="mean")
    a = await ProcessRunner.load(str(smollm2_path), opts)
    b = await ProcessRunner.load(str(smollm2_path), opts)
    try:
        assert a.metadata.architecture == "llama" and a.metadata.slot_context == 512
        req = CompletionRequest(
            prompt="The capital of France is", options={"temperature": 0, "num_predict": 8}
        )
        text = "".join([c.content async for c in a.complete(req)])
        assert "Paris" in text
        long = a.complete(CompletionRequest(prompt="1, 2, 3,", options={"num_predict": 400}))
        await anext(long)
        os.kill(a.pid, signal.SIGABRT)
        with pytest.raises(RunnerCrashed, match="model runner crashed"):
            async for _ in long:
                pass
        with pytest.raises(BadRequest, match="images need a text prompt"):  # an error keeps its class
            async for _ in b.complete(CompletionRequest(prompt=[1, 2], images=[b"x"])):
                pass
        chunks: list[Chunk] = [c async for c in b.complete(req)]
        assert "".join(c.content for c in chunks) == text  # the neighbour is untouched
        assert len((await b.embed(["hello"])).vectors[0]) == 576
    finally:
        await a.close()
        await b.close()
