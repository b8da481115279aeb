"""The runner interface: one loaded model, asyncio-friendly, transport-agnostic.

`Runner` is implemented in-process by `pyollama.runner.native.NativeRunner` (llama.cpp through the
Cython engine), in a child process by `pyollama.runner.process.ProcessRunner` (the same engine, so
that llama.cpp aborting ends that model only), and by `pyollama.runner.fake.FakeRunner` for fast
server unit tests.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, Protocol

import msgspec

from pyollama.runner.types import Chunk, Embeddings, LoadOptions, ModelMetadata, Rerank

Format = Literal["json"] | dict[str, Any] | None


# Images sit in a completion's prompt as Ollama's `[img-N]` tags (`images[N]`); the runner swaps
# them for its engine's own placeholder.
IMAGE_TAG = re.compile(r"\[img-(\d+)\]")


class CompletionRequest(msgspec.Struct, kw_only=True):
    """A raw prompt (already templated, or raw=True) to continue."""

    prompt: str | list[int]
    # fill in the middle: `prompt` is the text before, this the text after (the model's FIM tokens)
    suffix: str | None = None
    options: dict[str, Any] = {}  # per-request sampling options, Ollama names (temperature, top_k, ...)
    images: list[bytes] = []
    format: Format = None
    logprobs: bool = False
    top_logprobs: int = 0
    return_tokens: bool = False
    # special tokens the output must show as text (llama.cpp drops special tokens otherwise): the
    # tags an output parser looks for
    preserved_tokens: list[str] = []
    engine_extra: dict[str, Any] = {}  # engine-specific fields (e.g. ignore_eos for benchmarks)


class ChatRequest(msgspec.Struct, kw_only=True):
    """Messages rendered by the model's own (GGUF Jinja) chat template inside llama.cpp.

    Messages are OpenAI-shaped dicts (role, content, tool_calls with JSON-string arguments, ...).
    """

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    options: dict[str, Any] = {}
    format: Format = None
    think: bool | str | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    tool_choice: Literal["auto", "required"] = "auto"  # "required": the answer must call a tool


class Runner(Protocol):
    """One loaded model. Every method may be called concurrently from the event loop."""

    model_path: str
    options: LoadOptions

    @property
    def metadata(self) -> ModelMetadata: ...

    def complete(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        """Stream a completion; closing the iterator early cancels it and frees the slot."""
        ...

    def chat(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Stream a chat answer through the model's Jinja template."""
        ...

    async def embed(self, inputs: list[str], *, truncate: bool = True, normalize: bool = True) -> Embeddings:
        """Embeddings, one per input: L2-normalised, or raw (`normalize=False`, legacy /api/embeddings)."""
        ...

    async def rerank(self, query: str, documents: list[str]) -> Rerank:
        """Score each document against the query (a rank-pooling model: a reranker)."""
        ...

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]: ...

    async def detokenize(self, tokens: list[int]) -> str: ...

    async def apply_template(self, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        """Render messages with the model's Jinja template (no generation)."""
        ...

    async def close(self) -> None:
        """End live streams, free the model. Idempotent."""
        ...

    def on_exit(self, callback: Callable[[str], None]) -> None:
        """Have `callback(message)` called once if the runner dies on its own (a child process that
        crashed), so that whoever holds it forgets it; an in-process runner never does."""
        ...


RunnerFactory = Callable[[str, LoadOptions], Awaitable[Runner]]
"""`await factory(model_path, options)` returns a loaded runner (the scheduler injects this)."""
