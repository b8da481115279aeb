"""What the daemon needs from the model store, as a narrow protocol, and the resolved model.

Routes talk to this seam rather than to `pyollama.store` directly, so the server's unit tests run
against a small in-memory fake and the real store is bound in one place
(`pyollama.server.store_adapter.StoreAdapter`). The protocol answers with Ollama's typed replies
(`ShowResponse`, `ListResponse`, `ProgressResponse`) and `ModelInfo`, never with dicts.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import msgspec

from pyollama.server.schemas import ListResponse, ModelDetails, ProgressResponse, ShowResponse


class ModelInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A local model resolved from its name: everything a request needs to run it.

    What routes, the planner and the scheduler use; the adapter builds it from the store's
    `pyollama.store.ModelDescription` (the same description `/api/show` reports)."""

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
    draft: str | None = None  # the DRAFT model's GGUF (speculative decoding)
    context_length: int = 0  # trained context (0 = unknown)
    kv: dict[str, Any] = {}  # GGUF header key/values (KV cache estimate)
    size: int = -1  # weights file size (-1 = stat it)
    renderer: str = ""  # built-in RENDERER name
    parser: str = ""  # built-in PARSER name in effect ("harmony" for gpt-oss templates)
    prompt_source: str = ""  # "renderer" | "template" | "jinja" as the store decided; "" = derive

    def source(self, go_template_env: bool | None = None) -> str:
        """Who renders this model's prompts: a built-in `renderer`, the Go `template` (also for a
        PARSER without one: the default template), or llama.cpp's `jinja` template."""
        if self.prompt_source:
            return self.prompt_source
        if self.renderer:
            return "renderer"
        if self.parser or (self.template is not None and go_template_env is not False):
            return "template"
        return "jinja"


class ModelStore(Protocol):
    """The store operations the HTTP API exposes; errors come from `pyollama.errors`."""

    def resolve(self, name: str) -> ModelInfo:
        """Raises `ModelNotFound` (unknown) or `BadRequest` (invalid name)."""
        ...

    def list_models(self) -> ListResponse:
        """The whole `/api/tags` body."""
        ...

    def show(
        self, name: str, *, verbose: bool = False, system: str = "", options: dict[str, Any] | None = None
    ) -> ShowResponse:
        """The `/api/show` body; raises `ModelNotFound`."""
        ...

    def create(self, request: dict[str, Any]) -> AsyncIterator[object]:
        """Run an `/api/create` body (already type-checked); yields progress objects."""
        ...

    def create_capabilities(self) -> dict[str, Any]:
        """What `create` accepts beyond GGUF models (quantize types, safetensors, drafts), for a
        client to check before it uploads large files."""
        ...

    def pull(self, name: str, *, insecure: bool = False) -> AsyncGenerator[ProgressResponse, None]:
        """`/api/pull`: fetch a model from its registry, yielding Ollama's progress objects.

        A generator, so the route can close it when the client leaves (that cancels a download
        nobody else waits for). An invalid name raises `BadRequest` before the first item."""
        ...

    def push(self, name: str, *, insecure: bool = False) -> AsyncGenerator[ProgressResponse, None]:
        """`/api/push`: send a local model to its registry, yielding Ollama's progress objects."""
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

    def export_archive(self, names: list[str]) -> Iterator[bytes]:
        """`/api/export`: the tar archive of `names` (manifests, then blobs) as chunks.

        Called in a worker thread; a missing model raises `ModelNotFound` here, before any chunk."""
        ...

    def import_archive(self, fileobj: IO[bytes]) -> Iterator[dict[str, Any]]:
        """`/api/import`: install an archive read from `fileobj` (blocking; a worker thread),
        yielding `{"status": ...}` progress; a bad archive raises `BadRequest`, leaving nothing."""
        ...
