"""`POST /api/pull` and `POST /api/push`: registry transfers streamed as Ollama's progress NDJSON."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import msgspec
from aiohttp import web

from pyollama.config import Settings
from pyollama.errors import BadRequest
from pyollama.server.schemas import ProgressResponse, decode
from pyollama.server.state import STATE, json_response
from pyollama.server.streaming import stream_ndjson


class TransferRequest(msgspec.Struct, kw_only=True):
    """api.PullRequest / api.PushRequest (`username`/`password` are accepted and ignored, as in Ollama)."""

    model: str = ""
    name: str = ""  # deprecated spelling of `model`
    insecure: bool = False
    stream: bool | None = None
    username: str = ""
    password: str = ""


def setup(app: web.Application, settings: Settings) -> None:
    """Register the routes; the transfers themselves are the `ModelStore`'s (`pull`, `push`)."""
    del settings  # the store was built from them (noprune, where the key lives)
    app.router.add_route("POST", "/api/pull", pull)
    app.router.add_route("POST", "/api/push", push)


async def _respond(
    request: web.Request, stream: bool | None, lines: AsyncGenerator[ProgressResponse, None]
) -> web.StreamResponse:
    if stream is not False:
        return await stream_ndjson(request, lines)
    last = ProgressResponse(status="success")
    try:
        async for item in lines:
            last = item
    finally:
        await lines.aclose()
    return json_response(last)


def _request(body: bytes) -> tuple[TransferRequest, str]:
    req = decode(body, TransferRequest)
    if not (req.model or req.name):
        raise BadRequest("model is required")
    return req, req.model or req.name


async def pull(request: web.Request) -> web.StreamResponse:
    req, name = _request(await request.read())
    lines = request.app[STATE].store.pull(name, insecure=req.insecure)
    return await _respond(request, req.stream, lines)


async def push(request: web.Request) -> web.StreamResponse:
    req, name = _request(await request.read())
    lines = request.app[STATE].store.push(name, insecure=req.insecure)
    return await _respond(request, req.stream, lines)
