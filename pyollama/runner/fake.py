"""A deterministic in-memory `Runner` so the server and scheduler can be tested in milliseconds.

The fake echoes its prompt back word by word (or a fixed reply), honours `num_predict`, sleeps a
configurable time per token, and counts live and cancelled streams so tests can prove that a client
disconnect really reaches the runner.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from pyollama.errors import EngineStateError, ModelLoadError, RunnerCrashed
from pyollama.runner.base import ChatRequest, CompletionRequest, Runner
from pyollama.runner.types import (
    Capabilities,
    Chunk,
    Embeddings,
    LoadOptions,
    ModelMetadata,
    Rerank,
    RerankResult,
)

EMBED_WIDTH = 8


def _words(text: str) -> list[str]:
    """Split into whitespace-kept pieces: "a b" -> ["a", " b"] (so joining gives the text back)."""
    pieces: list[str] = []
    for i, w in enumerate(text.split()):
        pieces.append(w if i == 0 else " " + w)
    return pieces


def fake_embedding(text: str, width: int = EMBED_WIDTH, *, normalize: bool = True) -> list[float]:
    """A fixed-width vector derived from the text's hash (deterministic), L2-normalised by default."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(width)]
    if not normalize:
        return raw
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


class FakeRunner:
    """Implements `pyollama.runner.base.Runner` without any model."""

    def __init__(
        self,
        model_path: str,
        options: LoadOptions,
        *,
        token_delay: float = 0.0,
        reply: Callable[[str], str] | None = None,
        metadata: ModelMetadata | None = None,
    ) -> None:
        self.model_path = model_path
        self.options = options
        self.token_delay = token_delay
        self.reply = reply
        self._metadata = metadata or ModelMetadata(
            architecture="fake",
            name="fake",
            parameter_count=1000,
            file_type="Q4_1",
            context_length=8192,
            embedding_length=EMBED_WIDTH,
            n_vocab=256,
            size=1024,
            slot_context=options.num_ctx,
            n_parallel=options.num_parallel,
            capabilities=Capabilities(completion=True, chat=True, embedding=True),
        )
        self.live_streams = 0
        self.started_streams = 0
        self.cancelled_streams = 0
        self.completed_streams = 0
        self.closed = False
        self.crashed: str | None = None  # set by crash(): streams end with RunnerCrashed
        self._exit_callbacks: list[Callable[[str], None]] = []
        self.completions: list[CompletionRequest] = []
        self.chats: list[ChatRequest] = []
        self.embeds: list[list[str]] = []
        self.reranks: list[tuple[str, list[str]]] = []

    @property
    def metadata(self) -> ModelMetadata:
        return self._metadata

    def _answer(self, prompt: str) -> str:
        return self.reply(prompt) if self.reply is not None else prompt

    async def _stream(self, text: str, options: dict[str, Any], prompt_tokens: int) -> AsyncIterator[Chunk]:
        if self.crashed is not None:
            raise RunnerCrashed(self.crashed)
        if self.closed:
            raise EngineStateError("model is not loaded")
        pieces = _words(text)
        limit = int(options.get("num_predict", -1) or -1)
        reason = "stop"
        if limit >= 0 and len(pieces) > limit:
            pieces, reason = pieces[:limit], "length"
        self.live_streams += 1
        self.started_streams += 1
        t0 = time.perf_counter_ns()
        finished = False
        try:
            for i, piece in enumerate(pieces):
                if self.token_delay:
                    await asyncio.sleep(self.token_delay)
                else:
                    await asyncio.sleep(0)
                if self.crashed is not None:
                    raise RunnerCrashed(self.crashed)
                if self.closed:
                    raise EngineStateError("model was unloaded")
                yield Chunk(content=piece, tokens=[i])
            finished = True
            yield Chunk(
                done=True,
                done_reason=reason,
                prompt_eval_count=prompt_tokens,
                prompt_eval_duration=1000,
                eval_count=len(pieces),
                eval_duration=max(time.perf_counter_ns() - t0, 1),
            )
            self.completed_streams += 1
        finally:
            self.live_streams -= 1
            if not finished:
                self.cancelled_streams += 1

    def complete(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        self.completions.append(request)
        prompt = request.prompt if isinstance(request.prompt, str) else " ".join(map(str, request.prompt))
        return self._stream(self._answer(prompt), request.options, max(len(prompt.split()), 1))

    def chat(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        self.chats.append(request)
        last = str(request.messages[-1].get("content", "")) if request.messages else ""
        total = sum(len(str(m.get("content", "")).split()) for m in request.messages)
        return self._stream(self._answer(last), request.options, max(total, 1))

    async def embed(self, inputs: list[str], *, truncate: bool = True, normalize: bool = True) -> Embeddings:
        if self.closed:
            raise EngineStateError("model is not loaded")
        self.embeds.append(list(inputs))
        await asyncio.sleep(0)
        return Embeddings(
            vectors=[fake_embedding(t, normalize=normalize) for t in inputs],
            prompt_eval_count=sum(max(len(t.split()), 1) for t in inputs),
        )

    async def rerank(self, query: str, documents: list[str]) -> Rerank:
        """Score = the share of the query's words found in the document (deterministic)."""
        if self.closed:
            raise EngineStateError("model is not loaded")
        self.reranks.append((query, list(documents)))
        await asyncio.sleep(0)
        words = set(query.lower().split())
        results = [
            RerankResult(index=i, score=len(words & set(d.lower().split())) / max(len(words), 1))
            for i, d in enumerate(documents)
        ]
        return Rerank(
            results=results, prompt_eval_count=sum(len((query + " " + d).split()) for d in documents)
        )

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return list(text.encode())

    async def detokenize(self, tokens: list[int]) -> str:
        return bytes(t & 0xFF for t in tokens).decode(errors="replace")

    async def apply_template(self, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        return "".join(f"<{m.get('role', '')}>{m.get('content', '')}\n" for m in messages)

    async def close(self) -> None:
        self.closed = True

    def on_exit(self, callback: Callable[[str], None]) -> None:
        self._exit_callbacks.append(callback)

    def crash(self, reason: str = "GGML_ASSERT(fake) failed") -> None:
        """Act as a child runner that died: live streams fail, the holder is told (once)."""
        if self.crashed is not None or self.closed:
            return
        self.crashed = f"model runner crashed: {reason}"
        self.closed = True
        for callback in self._exit_callbacks:
            callback(self.crashed)


class FakeRunnerFactory:
    """A `RunnerFactory` that builds `FakeRunner`s and records every load.

    `load_delay` makes loads slow enough to test deduplication; `fail` makes them raise
    `ModelLoadError`; `metadata` maps a model path to what its runner reports.
    """

    def __init__(
        self,
        *,
        token_delay: float = 0.0,
        load_delay: float = 0.0,
        reply: Callable[[str], str] | None = None,
        fail: str | None = None,
        metadata: dict[str, ModelMetadata] | None = None,
    ) -> None:
        self.token_delay = token_delay
        self.load_delay = load_delay
        self.reply = reply
        self.fail = fail
        self.metadata = metadata or {}
        self.loads: list[tuple[str, LoadOptions]] = []
        self.runners: list[FakeRunner] = []

    async def __call__(self, model_path: str, options: LoadOptions) -> Runner:
        self.loads.append((model_path, options))
        if self.load_delay:
            await asyncio.sleep(self.load_delay)
        if self.fail is not None:
            raise ModelLoadError(self.fail)
        runner = FakeRunner(
            model_path,
            options,
            token_delay=self.token_delay,
            reply=self.reply,
            metadata=self.metadata.get(model_path),
        )
        self.runners.append(runner)
        return runner

    def live(self) -> list[FakeRunner]:
        return [r for r in self.runners if not r.closed]
