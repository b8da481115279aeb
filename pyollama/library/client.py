"""pyollama as a library: `Client` and `AsyncClient` with the `ollama` package's methods, run in
this process on the daemon's own store, scheduler, planner and runner (no socket, no daemon).

Code written for `ollama.Client(host=...)` works by changing the import: `host`, `headers` and
`timeout` are accepted and ignored. Each method builds the same msgspec request the daemon would
decode and answers through the route's own function (`generate_reply`, `chat_reply`,
`embed_request`, ...), so the library and the daemon cannot disagree. Models stay loaded between
calls (keep_alive applies) until `close()`.

`AsyncClient` runs on the caller's event loop (use one loop per client: a loaded model's streams
are watched by that loop); the blocking `Client` (`pyollama.library.sync`) runs one on a thread.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import hashlib
import importlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import msgspec

import pyollama
from pyollama.config import Settings
from pyollama.errors import BadRequest, ModelNotFound, NotFound, PyollamaError
from pyollama.library import types as t
from pyollama.library.convert import images_b64, messages_in, plain, tools_in
from pyollama.runner.base import RunnerFactory
from pyollama.server import schemas as wire
from pyollama.server import schemas_extras as wire_x
from pyollama.server.models import ModelStore
from pyollama.server.planner.options import load_request, merge_options
from pyollama.server.planner.prompt import Templates
from pyollama.server.routes_inference import (
    chat_reply,
    embed_request,
    generate_reply,
    merge_chat,
    merge_generate,
)
from pyollama.server.routes_inference import resolve as resolve_model
from pyollama.server.routes_tokens import detokenize_reply, rerank_reply, tokenize_reply
from pyollama.server.scheduler import Scheduler, read_available_memory
from pyollama.server.state import ServerState

R = TypeVar("R")
W = TypeVar("W")
S = TypeVar("S", bound=t.SubscriptableStruct)


def _error_base() -> type[Exception]:
    """`ollama.ResponseError` when the `ollama` package is installed, so `except
    ollama.ResponseError` keeps working after switching the import."""
    try:
        base: type[Exception] = importlib.import_module("ollama").ResponseError
        return base
    except (ImportError, AttributeError):
        return Exception


class ResponseError(_error_base()):  # type: ignore[misc]
    """The request failed: `error` is the daemon's message, `status_code` its HTTP status."""

    def __init__(self, error: str, status_code: int = -1) -> None:
        Exception.__init__(self, error)
        self.error = error
        self.status_code = status_code

    def __str__(self) -> str:
        return f"{self.error} (status code: {self.status_code})"


def _failed(exc: BaseException) -> ResponseError:
    if isinstance(exc, PyollamaError):
        return ResponseError(exc.message, exc.status)
    if isinstance(exc, msgspec.ValidationError):
        return ResponseError(str(exc), 400)
    return ResponseError(str(exc) or type(exc).__name__, 500)


def _request(kind: type[W], **fields: Any) -> W:
    """The daemon's request Struct from keyword arguments (None means absent, as `ollama` sends)."""
    try:
        return msgspec.convert({k: v for k, v in fields.items() if v is not None}, kind)
    except msgspec.ValidationError as exc:
        raise ResponseError(str(exc), 400) from None


class Runtime:
    """The daemon's parts, in this process: settings, store, scheduler and parsed templates."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: ModelStore | None = None,
        runner_factory: RunnerFactory | None = None,
        free_memory: Callable[[], int] = read_available_memory,
    ) -> None:
        settings = settings if settings is not None else Settings.from_env()
        if store is None:
            from pyollama.server.store_adapter import StoreAdapter
            from pyollama.store.store import Store

            # no housekeeping (pruning) here: a daemon may be using the same store right now
            store = StoreAdapter(
                Store(settings.models), noprune=settings.noprune, go_template=settings.go_template
            )
        if runner_factory is None:
            from pyollama.runner.native import load_native_runner

            runner_factory = load_native_runner
        scheduler = Scheduler(
            runner_factory,
            max_loaded=settings.effective_max_loaded_models,
            max_queue=settings.max_queue,
            default_keep_alive=settings.keep_alive,
            load_timeout=settings.load_timeout,
            free_memory=free_memory,
        )
        self.state = ServerState(
            settings=settings,
            store=store,
            scheduler=scheduler,
            version=pyollama.__version__,
            templates=Templates(),
        )

    async def close(self) -> None:
        await self.state.scheduler.close()


async def _collect(lines: AsyncGenerator[W, None]) -> list[W]:
    try:
        return [item async for item in lines]
    finally:
        await lines.aclose()


async def _typed(lines: AsyncIterator[Any], kind: type[S]) -> AsyncIterator[S]:
    """A stream of daemon replies as library types, failures as `ResponseError`."""
    try:
        async for item in lines:
            yield t.convert(item, kind)
    except ResponseError:
        raise
    except (PyollamaError, msgspec.ValidationError) as exc:
        raise _failed(exc) from None
    finally:
        aclose = getattr(lines, "aclose", None)
        if aclose is not None:
            await aclose()


async def _one(item: Any) -> AsyncIterator[Any]:
    yield item


class AsyncClient:
    """`ollama.AsyncClient`, in process. Streaming methods return async iterators."""

    def __init__(
        self,
        host: str | None = None,
        *,
        settings: Settings | None = None,
        store: ModelStore | None = None,
        runner_factory: RunnerFactory | None = None,
        **_ignored: Any,  # ollama's headers=, timeout=, follow_redirects=, ...
    ) -> None:
        self._make = functools.partial(Runtime, settings, store=store, runner_factory=runner_factory)
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = self._make()
        return self._runtime

    @property
    def _state(self) -> ServerState:
        return self.runtime.state

    async def close(self) -> None:
        """Unload every model (the store stays as it is)."""
        if self._runtime is not None:
            await self._runtime.close()
            self._runtime = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _call(self, coro: Coroutine[Any, Any, R]) -> R:
        try:
            return await coro
        except ResponseError:
            raise
        except (PyollamaError, msgspec.ValidationError) as exc:
            raise _failed(exc) from None

    # --- inference ----------------------------------------------------------------------------------

    async def generate(
        self,
        model: str = "",
        prompt: str | None = None,
        suffix: str | None = None,
        *,
        system: str | None = None,
        template: str | None = None,
        context: Sequence[int] | None = None,
        stream: bool = False,
        think: bool | str | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        raw: bool | None = None,
        format: str | Mapping[str, Any] | None = None,
        images: Sequence[str | bytes | Path | Any] | None = None,
        options: Mapping[str, Any] | Any | None = None,
        keep_alive: float | str | None = None,
        **_ignored: Any,  # image-generation arguments (width, height, steps)
    ) -> t.GenerateResponse | AsyncIterator[t.GenerateResponse]:
        req = _request(
            wire.GenerateRequest,
            model=model,
            prompt=prompt,
            suffix=suffix,
            system=system,
            template=template,
            context=list(context) if context is not None else None,
            stream=stream,
            think=think,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
            raw=raw,
            format=plain(format),
            images=images_b64(images),
            options=plain(options),
            keep_alive=keep_alive,
        )
        reply = await self._call(generate_reply(self._state, req, time.perf_counter_ns()))
        if isinstance(reply, wire.GenerateResponse):
            return _typed(_one(reply), t.GenerateResponse) if stream else t.convert(reply, t.GenerateResponse)
        if stream:
            return _typed(reply, t.GenerateResponse)
        merged = merge_generate(await self._call(_collect(reply)), req.model)
        return t.convert(merged, t.GenerateResponse)

    async def chat(
        self,
        model: str = "",
        messages: Sequence[Mapping[str, Any] | Any] | None = None,
        *,
        tools: Sequence[Mapping[str, Any] | Callable[..., Any] | Any] | None = None,
        stream: bool = False,
        think: bool | str | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        format: str | Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | Any | None = None,
        keep_alive: float | str | None = None,
    ) -> t.ChatResponse | AsyncIterator[t.ChatResponse]:
        req = _request(
            wire.ChatRequest,
            model=model,
            messages=messages_in(messages),
            tools=tools_in(tools),
            stream=stream,
            think=think,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
            format=plain(format),
            options=plain(options),
            keep_alive=keep_alive,
        )
        if req.messages:
            for m in req.messages:
                m.role = m.role.lower()
        reply = await self._call(chat_reply(self._state, req, time.perf_counter_ns()))
        if isinstance(reply, wire.ChatResponse):
            return _typed(_one(reply), t.ChatResponse) if stream else t.convert(reply, t.ChatResponse)
        if stream:
            return _typed(reply, t.ChatResponse)
        return t.convert(merge_chat(await self._call(_collect(reply)), req.model), t.ChatResponse)

    async def embed(
        self,
        model: str = "",
        input: str | Sequence[str] = "",
        truncate: bool | None = None,
        options: Mapping[str, Any] | Any | None = None,
        keep_alive: float | str | None = None,
        dimensions: int | None = None,
    ) -> t.EmbedResponse:
        inputs = input if isinstance(input, str) else list(input)
        req = _request(
            wire.EmbedRequest,
            model=model,
            input=inputs,
            truncate=truncate,
            options=plain(options),
            keep_alive=keep_alive,
            dimensions=dimensions,
        )
        reply = await self._call(embed_request(self._state, req, time.perf_counter_ns()))
        return t.convert(reply, t.EmbedResponse)

    async def embeddings(
        self,
        model: str = "",
        prompt: str | None = None,
        options: Mapping[str, Any] | Any | None = None,
        keep_alive: float | str | None = None,
    ) -> t.EmbeddingsResponse:
        """Deprecated in `ollama` in favour of `embed`: one raw (not normalised) vector."""
        req = _request(
            wire.EmbeddingsRequest, model=model, prompt=prompt, options=plain(options), keep_alive=keep_alive
        )
        return await self._call(self._embeddings(req))

    async def _embeddings(self, req: wire.EmbeddingsRequest) -> t.EmbeddingsResponse:
        state = self._state
        if not req.model:
            raise BadRequest("model is required")
        info = resolve_model(state, req.model, f'model "{req.model}" not found, try pulling it first')
        options = merge_options(info, req.options)
        lreq = load_request(state.settings, info, options, wire.parse_keep_alive(req.keep_alive))
        async with state.scheduler.use(lreq) as lease:
            if not req.prompt:
                return t.EmbeddingsResponse(embedding=[])
            result = await lease.runner.embed([req.prompt], normalize=False)
        return t.EmbeddingsResponse(embedding=result.vectors[0])

    # --- pyollama's own: tokens and reranking -----------------------------------------------------

    async def tokenize(
        self, model: str, content: str, *, add_special: bool = False, keep_alive: float | str | None = None
    ) -> t.TokenizeResponse:
        req = _request(
            wire_x.TokenizeRequest,
            model=model,
            content=content,
            add_special=add_special,
            keep_alive=keep_alive,
        )
        return t.convert(await self._call(tokenize_reply(self._state, req)), t.TokenizeResponse)

    async def detokenize(
        self, model: str, tokens: Sequence[int], *, keep_alive: float | str | None = None
    ) -> t.DetokenizeResponse:
        req = _request(wire_x.DetokenizeRequest, model=model, tokens=list(tokens), keep_alive=keep_alive)
        return t.convert(await self._call(detokenize_reply(self._state, req)), t.DetokenizeResponse)

    async def rerank(
        self,
        model: str,
        query: str,
        documents: Sequence[str],
        *,
        top_n: int | None = None,
        return_documents: bool = False,
        keep_alive: float | str | None = None,
    ) -> t.RerankResponse:
        req = _request(
            wire_x.RerankRequest,
            model=model,
            query=query,
            documents=list(documents),
            top_n=top_n,
            return_documents=return_documents,
            keep_alive=keep_alive,
        )
        reply = await self._call(rerank_reply(self._state, req, time.perf_counter_ns()))
        return t.convert(reply, t.RerankResponse)

    # --- models -------------------------------------------------------------------------------------

    async def list(self) -> t.ListResponse:
        return t.convert(await self._call(self._sync(self._state.store.list_models)), t.ListResponse)

    async def show(self, model: str) -> t.ShowResponse:
        async def go() -> object:
            if not model:
                raise BadRequest("model is required")
            try:
                return self._state.store.show(model)
            except (ModelNotFound, NotFound):
                raise ModelNotFound(f"model '{model}' not found") from None

        return t.convert(await self._call(go()), t.ShowResponse)

    async def ps(self) -> t.ProcessResponse:
        return t.convert(wire.ProcessResponse(models=self._state.scheduler.ps()), t.ProcessResponse)

    async def delete(self, model: str) -> t.StatusResponse:
        async def go() -> None:
            try:
                self._state.store.delete(model)
            except (ModelNotFound, NotFound):
                raise ModelNotFound(f"model '{model}' not found") from None

        await self._call(go())
        return t.StatusResponse(status="success")

    async def copy(self, source: str, destination: str) -> t.StatusResponse:
        async def go() -> None:
            try:
                self._state.store.copy(source, destination)
            except (ModelNotFound, NotFound):
                raise ModelNotFound(f'model "{source}" not found') from None

        await self._call(go())
        return t.StatusResponse(status="success")

    async def create_blob(self, path: str | Path) -> str:
        """Copy a file into the store's blobs; returns its `sha256:<hex>` digest."""
        path = Path(path)
        digest = "sha256:" + await asyncio.to_thread(_sha256_file, path)
        store = self._state.store
        if not store.blob_path(digest).is_file():
            await self._call(store.write_blob(digest, _file_chunks(path), size=path.stat().st_size))
        return digest

    async def create(
        self,
        model: str,
        quantize: str | None = None,
        from_: str | None = None,
        files: dict[str, str] | None = None,
        adapters: dict[str, str] | None = None,
        template: str | None = None,
        license: str | builtins.list[str] | None = None,
        system: str | None = None,
        parameters: Mapping[str, Any] | Any | None = None,
        messages: Sequence[Mapping[str, Any] | Any] | None = None,
        *,
        stream: bool = False,
    ) -> t.ProgressResponse | AsyncIterator[t.ProgressResponse]:
        req = _request(
            wire.CreateRequest,
            model=model,
            quantize=quantize,
            **{"from": from_},
            files=files,
            adapters=adapters,
            template=template,
            license=license,
            system=system,
            parameters=plain(parameters),
            messages=messages_in(messages),
        )
        if not req.model:
            raise ResponseError("invalid model name", 400)
        body: dict[str, Any] = msgspec.to_builtins(req)
        return await self._progress(self._state.store.create(body), stream)

    async def pull(
        self, model: str, *, insecure: bool = False, stream: bool = False
    ) -> t.ProgressResponse | AsyncIterator[t.ProgressResponse]:
        from pyollama.registry import pull_model

        store, name = self._disk_store(model)
        lines = pull_model(store, name, insecure=insecure, noprune=self._state.settings.noprune)
        return await self._progress(lines, stream)

    async def push(
        self, model: str, *, insecure: bool = False, stream: bool = False
    ) -> t.ProgressResponse | AsyncIterator[t.ProgressResponse]:
        from pyollama.registry import push_model

        store, name = self._disk_store(model)
        return await self._progress(push_model(store, name, insecure=insecure), stream)

    def _disk_store(self, model: str) -> tuple[Any, Any]:
        from pyollama.store.names import ModelName
        from pyollama.store.store import Store

        store = getattr(self._state.store, "store", None)
        if not isinstance(store, Store):
            raise ResponseError("registry transfers need the on-disk model store", 500)
        if not model:
            raise ResponseError("model is required", 400)
        try:
            return store, store.existing_name(ModelName.parse(model))
        except PyollamaError as exc:
            raise _failed(exc) from None

    async def _progress(
        self, lines: AsyncIterator[Any], stream: bool
    ) -> t.ProgressResponse | AsyncIterator[t.ProgressResponse]:
        typed = _typed(lines, t.ProgressResponse)
        if stream:
            return typed
        last = t.ProgressResponse(status="success")
        async for item in typed:
            last = item
        return last

    @staticmethod
    async def _sync(fn: Callable[[], R]) -> R:
        return fn()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while chunk := await asyncio.to_thread(fh.read, 1 << 20):
            yield chunk
