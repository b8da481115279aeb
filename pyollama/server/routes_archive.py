"""`POST /api/export` and `POST /api/import`: a model as a tar archive in Ollama's store layout.

Not in Ollama (its PR #18578 was never merged). Export answers `application/x-tar`, streamed from
the blob files; import takes the archive as the request body and answers NDJSON progress, verifying
each blob while it streams in (`pyollama.store.archive`). The tar code is synchronous and runs in a
worker thread; the request body reaches it through `_BodyReader`, which waits on the event loop for
each read, so nothing is buffered beyond one chunk.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import msgspec
from aiohttp import StreamReader, web

from pyollama.errors import BadRequest
from pyollama.server.schemas import decode
from pyollama.server.state import STATE
from pyollama.server.streaming import stream_ndjson

TAR = "application/x-tar"


class ExportRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    model: str = ""
    name: str = ""
    models: list[str] = []


class _BodyReader(io.RawIOBase):
    """A blocking file over an aiohttp request body, for a worker thread (never the loop)."""

    def __init__(self, content: StreamReader, loop: asyncio.AbstractEventLoop) -> None:
        self._content = content
        self._loop = loop

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        data = asyncio.run_coroutine_threadsafe(self._content.read(len(view)), self._loop).result()
        view[: len(data)] = data
        return len(data)


def _export_names(req: ExportRequest) -> list[str]:
    names = list(req.models)
    if req.model or req.name:
        names.insert(0, req.model or req.name)
    if not names:
        raise BadRequest("model is required")
    return names


async def export(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    req = decode(await request.read(), ExportRequest)
    chunks: Iterator[bytes] = await asyncio.to_thread(state.store.export_archive, _export_names(req))
    response = web.StreamResponse(status=200, headers={"Content-Type": TAR})
    await response.prepare(request)
    try:
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            await response.write(chunk)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    await response.write_eof()
    return response


async def import_(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def work() -> None:
        reader = io.BufferedReader(_BodyReader(request.content, loop), 1 << 20)
        try:
            for status in state.store.import_archive(reader):
                loop.call_soon_threadsafe(queue.put_nowait, ("status", status))
        except BaseException as exc:  # handed to the loop, raised there
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, ("done", None))

    worker = asyncio.ensure_future(asyncio.to_thread(work))

    async def lines() -> AsyncGenerator[object, None]:
        try:
            while True:
                kind, value = await queue.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            await asyncio.shield(worker)

    return await stream_ndjson(request, lines())


def add_routes(app: web.Application) -> None:
    app.router.add_route("POST", "/api/export", export)
    app.router.add_route("POST", "/api/import", import_)
