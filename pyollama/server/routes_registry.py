"""`POST /api/pull` and `POST /api/push`: registry transfers streamed as Ollama's progress NDJSON."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from aiohttp import web

from pyollama.config import Settings
from pyollama.errors import BadRequest, InternalError
from pyollama.registry import DownloadManager, Progress, TransferOptions, pull_model, push_model
from pyollama.server.schemas import decode
from pyollama.server.state import STATE, json_response
from pyollama.server.streaming import stream_ndjson
from pyollama.store.names import ModelName
from pyollama.store.store import Store


class TransferRequest(msgspec.Struct, kw_only=True):
    """api.PullRequest / api.PushRequest (`username`/`password` are accepted and ignored, as in Ollama)."""

    model: str = ""
    name: str = ""  # deprecated spelling of `model`
    insecure: bool = False
    stream: bool | None = None
    username: str = ""
    password: str = ""


@dataclass
class RegistryState:
    """Per-daemon registry state: the shared downloads, the signing key's path, transfer knobs."""

    noprune: bool = False
    key_path: Path | None = None  # None: platformdirs (pyollama.registry.default_key_path)
    options: TransferOptions = field(default_factory=TransferOptions)
    downloads: DownloadManager = field(default_factory=DownloadManager)


REGISTRY: web.AppKey[RegistryState] = web.AppKey("pyollama_registry", RegistryState)


def setup(app: web.Application, settings: Settings) -> None:
    """Register the routes and their state (tests may replace `app[REGISTRY]` before starting)."""
    app[REGISTRY] = RegistryState(noprune=settings.noprune)
    app.router.add_route("POST", "/api/pull", pull)
    app.router.add_route("POST", "/api/push", push)


def _disk_store(request: web.Request) -> Store:
    store = getattr(request.app[STATE].store, "store", None)
    if not isinstance(store, Store):
        raise InternalError("registry transfers need the on-disk model store")
    return store


async def _respond(
    request: web.Request, stream: bool | None, lines: AsyncGenerator[Progress, None]
) -> web.StreamResponse:
    if stream is not False:
        return await stream_ndjson(request, lines)
    last: Progress = Progress(status="success")
    try:
        async for item in lines:
            last = item
    finally:
        await lines.aclose()
    return json_response(last)


def _request(body: bytes) -> tuple[TransferRequest, ModelName]:
    req = decode(body, TransferRequest)
    if not (req.model or req.name):
        raise BadRequest("model is required")
    return req, ModelName.parse(req.model or req.name)  # InvalidName: 400 `invalid model name`


async def pull(request: web.Request) -> web.StreamResponse:
    req, name = _request(await request.read())
    reg = request.app[REGISTRY]
    store = _disk_store(request)
    name = store.existing_name(name)  # a model already here keeps its spelling, as Ollama's PullHandler
    lines = pull_model(
        store,
        name,
        insecure=req.insecure,
        noprune=reg.noprune,
        key_path=reg.key_path,
        options=reg.options,
        downloads=reg.downloads,
    )
    return await _respond(request, req.stream, lines)


async def push(request: web.Request) -> web.StreamResponse:
    req, name = _request(await request.read())
    reg = request.app[REGISTRY]
    store = _disk_store(request)
    name = store.existing_name(name)
    lines = push_model(store, name, insecure=req.insecure, key_path=reg.key_path, options=reg.options)
    return await _respond(request, req.stream, lines)
