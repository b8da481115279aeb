"""What the daemon needs from the model store and the template engine, as narrow protocols.

Routes talk to these seams rather than to `pyollama.store` / `pyollama.template` directly, so the
server's unit tests run against small in-memory fakes and the real packages are bound in one place
(`pyollama.server.app.default_store` / `default_renderer`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import msgspec

from pyollama.server.schemas import ModelDetails


class ModelInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A local model resolved from its name: everything a request needs to run it."""

    name: str  # display name, e.g. "smollm2:latest"
    model_path: str  # the GGUF weights blob
    digest: str = ""  # manifest digest (hex, no prefix)
    template: str | None = None  # Go TEMPLATE layer; None: use the GGUF's Jinja template
    system: str = ""
    parameters: dict[str, Any] = {}  # Modelfile PARAMETERs, typed (pyollama.options.format_params)
    messages: list[dict[str, Any]] = []  # Modelfile MESSAGEs
    details: ModelDetails = msgspec.field(default_factory=ModelDetails)
    capabilities: tuple[str, ...] = ("completion",)
    projector: str | None = None
    adapters: tuple[str, ...] = ()
    context_length: int = 0  # trained context (0 = unknown)
    kv: dict[str, Any] = {}  # GGUF header key/values (KV cache estimate)
    size: int = -1  # weights file size (-1 = stat it)


class ModelStore(Protocol):
    """The store operations the HTTP API exposes; errors come from `pyollama.errors`."""

    def resolve(self, name: str) -> ModelInfo:
        """Raises `ModelNotFound` (unknown) or `BadRequest` (invalid name)."""
        ...

    def list_models(self) -> object:
        """The whole `/api/tags` body (`{\"models\": [...]}`), JSON-encodable."""
        ...

    def show(
        self, name: str, *, verbose: bool = False, system: str = "", options: dict[str, Any] | None = None
    ) -> object:
        """The `/api/show` body, JSON-encodable; raises `ModelNotFound`."""
        ...

    def create(self, request: dict[str, Any]) -> AsyncIterator[object]:
        """Run an `/api/create` body (already type-checked); yields progress objects."""
        ...

    def copy(self, source: str, destination: str) -> None: ...

    def delete(self, name: str) -> None: ...

    def blob_path(self, digest: str) -> Path:
        """Where the blob `sha256:<hex>` lives (it may not exist yet)."""
        ...

    async def write_blob(self, digest: str, chunks: AsyncIterator[bytes], *, size: int | None) -> bool:
        """Store a blob from a stream: temp file, hashed, fsync'ed, renamed only if it matches.

        True if it was created; raises `BadRequest` (digest mismatch, short body) and leaves nothing.
        """
        ...


class PromptRenderer(Protocol):
    """Renders an Ollama Go TEMPLATE (pyollama.template) for one request.

    With `count_tokens` and `num_ctx`, chat history is fitted to the context (oldest messages
    dropped first, system messages and the last one kept) as Ollama's `chatPrompt` does.
    """

    async def __call__(
        self,
        template: str,
        *,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        think: bool | str | None = None,
        suffix: str = "",
        prompt: str = "",
        num_ctx: int = 0,
        count_tokens: Callable[[str], Awaitable[int]] | None = None,
        truncate: bool = True,
    ) -> str: ...
