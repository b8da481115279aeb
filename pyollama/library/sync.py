"""The blocking `Client`: an `AsyncClient` on a private event loop in a background thread; every
call blocks until its answer, and every stream becomes a plain iterator (leaving it early closes
the stream, which frees the model's slot)."""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar

from pyollama.config import Settings
from pyollama.library.client import AsyncClient
from pyollama.runner.base import RunnerFactory
from pyollama.server.models import ModelStore

R = TypeVar("R")


class _LoopThread:
    """A private event loop on a daemon thread: the sync client's calls run there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="pyollama-client", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def iterate(self, items: AsyncIterator[R]) -> Iterator[R]:
        """A plain iterator over an async one; leaving it early closes the stream (and the slot)."""
        try:
            while True:
                try:
                    yield self.run(anext(items))  # type: ignore[arg-type]
                except StopAsyncIteration:
                    return
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None and not self.loop.is_closed():
                self.run(aclose())

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _blocking(method: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
    """`AsyncClient.<method>` as a blocking call; a stream becomes a plain iterator."""

    @functools.wraps(method)
    def call(self: Client, *args: Any, **kwargs: Any) -> Any:
        result = self._loop.run(method(self._async, *args, **kwargs))
        if isinstance(result, AsyncIterator):
            return self._loop.iterate(result)
        return result

    return call


def _shutdown(loop: _LoopThread, client: AsyncClient) -> None:
    if not loop.loop.is_closed():
        loop.run(client.close())
        loop.stop()


class Client:
    """`ollama.Client`, in process: the same methods, blocking; streams are plain iterators.

    `Client(host=...)` is accepted (and ignored) so code written for `ollama` runs unchanged;
    `settings`, `store` and `runner_factory` choose the store and engine (default: the daemon's
    settings from the environment, its on-disk store and llama.cpp)."""

    def __init__(
        self,
        host: str | None = None,
        *,
        settings: Settings | None = None,
        store: ModelStore | None = None,
        runner_factory: RunnerFactory | None = None,
        **ignored: Any,
    ) -> None:
        self._loop = _LoopThread()
        self._async = AsyncClient(
            host, settings=settings, store=store, runner_factory=runner_factory, **ignored
        )
        self._finalizer = weakref.finalize(self, _shutdown, self._loop, self._async)

    def close(self) -> None:
        """Unload every model and stop the client's event loop."""
        self._finalizer()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    generate = _blocking(AsyncClient.generate)
    chat = _blocking(AsyncClient.chat)
    embed = _blocking(AsyncClient.embed)
    embeddings = _blocking(AsyncClient.embeddings)
    tokenize = _blocking(AsyncClient.tokenize)
    detokenize = _blocking(AsyncClient.detokenize)
    rerank = _blocking(AsyncClient.rerank)
    list = _blocking(AsyncClient.list)
    show = _blocking(AsyncClient.show)
    ps = _blocking(AsyncClient.ps)
    delete = _blocking(AsyncClient.delete)
    copy = _blocking(AsyncClient.copy)
    create_blob = _blocking(AsyncClient.create_blob)
    create = _blocking(AsyncClient.create)
    pull = _blocking(AsyncClient.pull)
    push = _blocking(AsyncClient.push)
