"""NativeRunner against the real SmolLM2-135M-Instruct (and a tiny random model beside it)."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pyollama.runner.base import ChatRequest, CompletionRequest
from pyollama.runner.types import Chunk, LoadOptions
from tests.conftest import requires_engine

if TYPE_CHECKING:
    from pyollama.runner.native import NativeRunner

pytestmark = [requires_engine, pytest.mark.slow]

GREEDY = {"temperature": 0, "seed": 42}


@pytest.fixture
async def smol(smollm2_path: Path) -> AsyncIterator[NativeRunner]:
    from pyollama.runner.native import NativeRunner

    runner = await NativeRunner.load(
        str(smollm2_path), LoadOptions(num_ctx=1024, num_parallel=4, embedding=True, pooling="mean")
    )
    yield runner
    await runner.close()


async def collect(it: AsyncIterator[Chunk]) -> list[Chunk]:
    return [c async for c in it]


async def test_metadata(smol: NativeRunner) -> None:
    md = smol.metadata
    assert md.architecture == "llama"
    assert md.file_type == "Q4_1"
    assert md.context_length == 8192
    assert md.embedding_length == 576
    assert md.slot_context == 1024 and md.n_parallel == 4
    assert "<|im_start|>" in md.chat_template
    assert md.capabilities.completion and md.capabilities.embedding and not md.capabilities.vision


async def test_greedy_completion_is_deterministic(smol: NativeRunner) -> None:
    req = CompletionRequest(prompt="The capital of France is", options={**GREEDY, "num_predict": 24})
    first = "".join(c.content for c in await collect(smol.complete(req)))
    second = "".join(c.content for c in await collect(smol.complete(req)))
    assert first == second
    assert "Paris" in first


async def test_streaming_chunks_and_final_counters(smol: NativeRunner) -> None:
    req = CompletionRequest(
        prompt="Once upon a time, in a land far away, there lived a dragon who",
        options={**GREEDY, "num_predict": 32},
    )
    chunks = await collect(smol.complete(req))
    assert len(chunks) > 10
    final = chunks[-1]
    assert final.done and not any(c.done for c in chunks[:-1])
    assert final.done_reason == "length"
    assert final.eval_count == 32
    assert final.prompt_eval_count > 5
    assert final.eval_duration > 0 and final.prompt_eval_duration > 0


async def test_chat_through_jinja_template(smol: NativeRunner) -> None:
    req = ChatRequest(
        messages=[{"role": "user", "content": "What is the capital of France? Answer in one word."}],
        options={**GREEDY, "num_predict": 16},
    )
    chunks = await collect(smol.chat(req))
    text = "".join(c.content for c in chunks)
    assert "Paris" in text
    assert chunks[-1].done and chunks[-1].done_reason in ("stop", "length")
    prompt = await smol.apply_template([{"role": "user", "content": "hi"}], add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n")


async def test_embeddings_width_and_norm(smol: NativeRunner) -> None:
    emb = await smol.embed(["Why is the sky blue?", "bonjour"])
    assert len(emb.vectors) == 2
    for v in emb.vectors:
        assert len(v) == 576
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-4)
    assert emb.prompt_eval_count > 4
    assert emb.vectors[0] != emb.vectors[1]


async def test_raw_embeddings_are_not_normalised(smol: NativeRunner) -> None:
    raw = (await smol.embed(["Why is the sky blue?"], normalize=False)).vectors[0]
    unit = (await smol.embed(["Why is the sky blue?"])).vectors[0]
    norm = math.sqrt(sum(x * x for x in raw))
    assert not math.isclose(norm, 1.0, rel_tol=1e-3)
    assert all(math.isclose(a / norm, b, abs_tol=1e-4) for a, b in zip(raw, unit, strict=True))


async def test_infill_without_fim_tokens_is_a_clear_error(smol: NativeRunner) -> None:
    """A suffix goes to llama.cpp's /infill; SmolLM2 has no FIM tokens, which the error says."""
    from pyollama.errors import BadRequest

    req = CompletionRequest(
        prompt="def add(a, b):\n    return ", suffix="\n\nprint(add(1, 2))", options=GREEDY
    )
    with pytest.raises(BadRequest, match="Infill is not supported by this model"):
        await collect(smol.complete(req))
    after = CompletionRequest(prompt="1, 2,", options={**GREEDY, "num_predict": 8})
    assert "".join(c.content for c in await collect(smol.complete(after)))


async def test_image_to_a_model_without_projector_is_a_clear_error(smol: NativeRunner) -> None:
    from pyollama.errors import PyollamaError

    req = CompletionRequest(prompt="[img-0] what is this?", images=[b"\x89PNG not really"], options=GREEDY)
    with pytest.raises(PyollamaError, match=r"(?i)image|multimodal|mmproj"):
        await collect(smol.complete(req))


async def test_tokenize_roundtrip(smol: NativeRunner) -> None:
    text = "Hello world! Ünïcödé and numbers 12345."
    tokens = await smol.tokenize(text)
    assert tokens and all(isinstance(t, int) for t in tokens)
    assert await smol.detokenize(tokens) == text


async def test_four_concurrent_streams_interleave(smol: NativeRunner) -> None:
    order: list[int] = []

    async def one(i: int) -> list[Chunk]:
        req = CompletionRequest(prompt=f"Story number {i}:", options={**GREEDY, "num_predict": 24})
        out = []
        async for c in smol.complete(req):
            order.append(i)
            out.append(c)
        return out

    results = await asyncio.gather(*(one(i) for i in range(4)))
    assert all(r[-1].done for r in results)
    # interleaved: every stream produced something before any stream finished
    first_done = min(max(j for j, s in enumerate(order) if s == i) for i in range(4))
    assert all(i in order[:first_done] for i in range(4))


async def test_leaving_a_stream_early_frees_its_slot(smollm2_path: Path) -> None:
    from pyollama.runner.native import NativeRunner

    runner = await NativeRunner.load(str(smollm2_path), LoadOptions(num_ctx=4096, num_parallel=1))
    try:
        long_req = CompletionRequest(prompt="Count to ten thousand:", options={**GREEDY, "num_predict": 4000})
        it = runner.complete(long_req)
        got = 0
        async for _ in it:
            got += 1
            if got == 3:
                break
        await it.aclose()  # type: ignore[attr-defined]
        # the only slot is free again: a short request completes (it would otherwise wait ~4000 tokens)
        short = await collect(runner.complete(CompletionRequest(prompt="Hi", options={"num_predict": 3})))
        assert short[-1].done and short[-1].eval_count == 3
    finally:
        await runner.close()


async def test_two_models_loaded_together(smol: NativeRunner, tiny_gguf: Path) -> None:
    from pyollama.runner.native import NativeRunner

    tiny = await NativeRunner.load(str(tiny_gguf), LoadOptions(num_ctx=256, num_parallel=1))
    try:
        a, b = await asyncio.gather(
            collect(smol.complete(CompletionRequest(prompt="One, two,", options={"num_predict": 8}))),
            collect(tiny.complete(CompletionRequest(prompt="One, two,", options={"num_predict": 8}))),
        )
        assert a[-1].done and b[-1].done
        assert a[-1].eval_count >= 1 and b[-1].eval_count == 8
    finally:
        await tiny.close()


async def test_close_during_streaming_returns_promptly(smollm2_path: Path) -> None:
    from pyollama.errors import EngineStateError
    from pyollama.runner.native import NativeRunner

    runner = await NativeRunner.load(str(smollm2_path), LoadOptions(num_ctx=4096, num_parallel=1))
    it = runner.complete(CompletionRequest(prompt="Tell me everything:", options={"num_predict": 4000}))
    await it.__anext__()
    await asyncio.wait_for(runner.close(), timeout=60)
    with pytest.raises((EngineStateError, StopAsyncIteration)):
        while True:
            await asyncio.wait_for(it.__anext__(), timeout=60)


async def test_bad_request_options_are_clear_errors(smol: NativeRunner) -> None:
    from pyollama.errors import BadRequest

    with pytest.raises(BadRequest):
        await collect(smol.complete(CompletionRequest(prompt="x", format={"type": 12})))
    # unknown option keys are ignored; the runner keeps answering
    ok = await collect(smol.complete(CompletionRequest(prompt="x", options={"no_such": 1, "num_predict": 2})))
    assert ok[-1].done


async def test_cancelled_load_is_safe(smollm2_path: Path) -> None:
    """A load cancelled part-way (load timeout, shutdown) frees the model only after the load
    thread is done with it, and the process keeps working."""
    from pyollama.runner.native import NativeRunner

    for delay in (0.0, 0.01, 0.05):
        try:
            runner = await asyncio.wait_for(
                NativeRunner.load(str(smollm2_path), LoadOptions(num_ctx=512)), timeout=delay
            )
        except TimeoutError:
            continue
        await runner.close()
    runner = await NativeRunner.load(str(smollm2_path), LoadOptions(num_ctx=512))
    assert await runner.tokenize("hi")
    await runner.close()


async def test_slow_consumer_does_not_spin_the_loop(
    smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a consumer holds a chunk, the stream's fd is not watched (it is level-triggered)."""
    from pyollama.runner.native import NativeRunner

    runner = await NativeRunner.load(str(smollm2_path), LoadOptions(num_ctx=512))
    loop = asyncio.get_running_loop()
    calls = 0
    real_add_reader = loop.add_reader

    def counting_add_reader(fd: int, cb: Callable[..., object], *args: object) -> None:
        def wrapped(*args: object) -> None:
            nonlocal calls
            calls += 1
            cb(*args)

        real_add_reader(fd, wrapped, *args)

    monkeypatch.setattr(loop, "add_reader", counting_add_reader)
    try:
        n = 0
        req = CompletionRequest(prompt="Once upon a time", options={"num_predict": 8, "temperature": 0})
        async for _ in runner.complete(req):
            n += 1
            await asyncio.sleep(0.05)  # a slow client
        assert calls <= 4 * n  # a wake-up per wait, not one per loop iteration
    finally:
        await runner.close()


async def test_fast_consumer_keeps_the_fd_watched(
    smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consumer that keeps up waits on the same registration: no epoll_ctl pair per token."""
    from pyollama.runner.native import NativeRunner

    runner = await NativeRunner.load(str(smollm2_path), LoadOptions(num_ctx=512))
    loop = asyncio.get_running_loop()
    adds = 0
    real_add_reader = loop.add_reader

    def counting_add_reader(fd: int, cb: Callable[..., object], *args: object) -> None:
        nonlocal adds
        adds += 1
        real_add_reader(fd, cb, *args)

    monkeypatch.setattr(loop, "add_reader", counting_add_reader)
    try:
        req = CompletionRequest(prompt="Once upon a time", options={"num_predict": 32, "temperature": 0})
        n = len(await collect(runner.complete(req)))
        assert n > 16 and adds <= 3
    finally:
        await runner.close()


async def test_unlimited_num_predict_is_capped_like_ollama(tiny_gguf: Path) -> None:
    """No num_predict (or -1) means 10 x the context, as in Ollama: with context shift on, a
    model that never emits its end token would otherwise generate forever."""
    from pyollama.runner.native import NativeRunner

    runner = await NativeRunner.load(str(tiny_gguf), LoadOptions(num_ctx=64, num_parallel=1))
    try:
        for options in ({}, {"num_predict": -1}):
            req = CompletionRequest(prompt="a", options=options, engine_extra={"ignore_eos": True})
            chunks = await asyncio.wait_for(collect(runner.complete(req)), timeout=300)
            assert chunks[-1].done_reason == "length"
            assert chunks[-1].eval_count == 10 * runner.metadata.slot_context
    finally:
        await runner.close()


async def test_a_tiny_batch_does_not_abort_the_process(tiny_gguf: Path) -> None:
    """num_batch 1 with 4 slots made llama.cpp abort (GGML_ASSERT) inside the daemon's process."""
    from pyollama.runner.native import NativeRunner

    runner = await NativeRunner.load(
        str(tiny_gguf), LoadOptions(num_ctx=64, num_parallel=4, num_batch=1, num_ubatch=1)
    )
    try:
        req = CompletionRequest(prompt="a b c", options={"num_predict": 4})
        assert (await collect(runner.complete(req)))[-1].done
    finally:
        await runner.close()


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"n_layer": 0}, "llama.block_count"),
        ({"n_head_kv": 3}, "llama.attention.head_count_kv"),
        ({"n_ctx": 0}, "llama.context_length is 0"),
    ],
)
async def test_header_values_llama_cpp_would_abort_on_are_refused(
    tmp_path: Path, tiny_gguf: Path, kw: dict[str, Any], why: str
) -> None:
    """A readable GGUF whose hyperparameters make llama.cpp GGML_ASSERT (an abort of the whole
    process) is refused before the load (pyollama.gguf_check: a 400 naming the field), and the
    process goes on loading models."""
    from pyollama.errors import GGUFError
    from pyollama.runner.native import NativeRunner
    from tests.conftest import VOCAB_DIR
    from tests.gguf_factory import make_tiny_llama

    bad = make_tiny_llama(tmp_path / "bad.gguf", VOCAB_DIR / "ggml-vocab-llama-spm.gguf", **kw)
    with pytest.raises(GGUFError, match=f"invalid model: .*{re.escape(why)}"):
        await NativeRunner.load(str(bad), LoadOptions(num_ctx=64, num_parallel=1))
    runner = await NativeRunner.load(str(tiny_gguf), LoadOptions(num_ctx=64, num_parallel=1))
    await runner.close()


async def test_a_loop_that_watches_no_fds_is_woken_by_the_engine(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows' proactor loop has no add_reader: the engine's workers wake the loop through the
    stream's callback instead, for four streams at once, and every token still arrives."""
    from pyollama.runner.native import NativeRunner

    loop = asyncio.get_running_loop()

    def no_readers(*args: object) -> None:
        raise NotImplementedError

    monkeypatch.setattr(loop, "add_reader", no_readers)
    runner = await NativeRunner.load(str(tiny_gguf), LoadOptions(num_ctx=256, num_parallel=4))
    try:
        requests = [
            CompletionRequest(
                prompt=p, options={"num_predict": 24, **GREEDY}, engine_extra={"ignore_eos": True}
            )
            for p in ("a", "b", "c", "d")
        ]
        results = await asyncio.wait_for(
            asyncio.gather(*(collect(runner.complete(r)) for r in requests)), 300
        )
        for chunks in results:
            assert chunks[-1].done and chunks[-1].eval_count == 24
        assert runner.metadata.size_vram == 0 and runner.metadata.devices == ()  # CPU only
    finally:
        await runner.close()
