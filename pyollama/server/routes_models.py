"""Model management routes over the store: tags, show, create, blobs, copy, delete, and ps."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import msgspec
from aiohttp import web

from pyollama.errors import BadRequest, ModelNotFound, NotFound, PyollamaError
from pyollama.server.schemas import (
    CopyRequest,
    CreateRequest,
    DeleteRequest,
    ProcessResponse,
    ProgressResponse,
    ShowRequest,
    decode,
)
from pyollama.server.state import STATE, error_response, json_response
from pyollama.server.streaming import stream_ndjson
from pyollama.store.store import DIGEST_RE

_CHUNK = 1 << 20


async def ps(request: web.Request) -> web.Response:
    return json_response(ProcessResponse(models=request.app[STATE].scheduler.ps()))


async def tags(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].store.list_models())


async def show(request: web.Request) -> web.Response:
    state = request.app[STATE]
    req = decode(await request.read(), ShowRequest)
    name = req.model or req.name
    if not name:
        raise BadRequest("model is required")
    try:
        return json_response(
            state.store.show(name, verbose=req.verbose, system=req.system, options=req.options)
        )
    except (ModelNotFound, NotFound):
        raise ModelNotFound(f"model '{name}' not found") from None


async def create(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    req = decode(await request.read(), CreateRequest)
    if not (req.model or req.name):
        raise BadRequest("invalid model name")

    body: dict[str, Any] = msgspec.to_builtins(req)
    body.pop("stream", None)

    async def lines() -> AsyncGenerator[object, None]:
        async for progress in state.store.create(body):
            yield progress

    if req.stream is not False:
        return await stream_ndjson(request, lines())
    last: object = None
    async for progress in lines():
        last = progress
    return json_response(last if last is not None else ProgressResponse(status="success"))


async def capabilities(request: web.Request) -> web.Response:
    """`GET /api/pyollama/capabilities` (pyollama's own): what create accepts, so a client can
    refuse before uploading gigabytes the server would turn down."""
    return json_response({"create": request.app[STATE].store.create_capabilities()})


def _digest(request: web.Request) -> str:
    digest = request.match_info["digest"]
    if not DIGEST_RE.fullmatch(digest):
        raise BadRequest("invalid digest format")
    return "sha256:" + digest[7:].lower()


async def head_blob(request: web.Request) -> web.Response:
    state = request.app[STATE]
    digest = _digest(request)
    if not state.store.blob_path(digest).is_file():
        return error_response(404, f'blob "{digest}" not found')
    return web.Response(status=200)


async def upload_blob(request: web.Request) -> web.Response:
    """Stream the body into the store (hashed, fsync'ed, renamed only if it matches its digest)."""
    state = request.app[STATE]
    digest = _digest(request)
    if state.store.blob_path(digest).is_file():
        return web.Response(status=200)
    await state.store.write_blob(digest, request.content.iter_chunked(_CHUNK), size=request.content_length)
    return web.Response(status=201)


async def copy(request: web.Request) -> web.Response:
    state = request.app[STATE]
    req = decode(await request.read(), CopyRequest)
    try:
        state.store.copy(req.source, req.destination)
    except (ModelNotFound, NotFound):
        raise ModelNotFound(f'model "{req.source}" not found') from None
    return web.Response(status=200)


async def delete(request: web.Request) -> web.Response:
    state = request.app[STATE]
    req = decode(await request.read(), DeleteRequest)
    name = req.model or req.name
    if not name:
        raise BadRequest(f'name "{name}" is invalid')
    try:
        state.store.delete(name)
    except (ModelNotFound, NotFound):
        raise ModelNotFound(f"model '{name}' not found") from None
    except PyollamaError:
        raise
    return web.Response(status=200)
