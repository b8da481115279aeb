"""The app's shared state (one `ServerState` under the `STATE` AppKey) and JSON reply helpers."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from pyollama.config import Settings
from pyollama.server.models import ModelStore
from pyollama.server.planner.prompt import Templates
from pyollama.server.scheduler import Scheduler
from pyollama.server.schemas import ErrorResponse, encode


@dataclass(frozen=True)
class ServerState:
    """Everything a route needs, stored once on the app."""

    settings: Settings
    store: ModelStore
    scheduler: Scheduler
    version: str
    templates: Templates  # parsed Go TEMPLATEs, shared by every request


STATE: web.AppKey[ServerState] = web.AppKey("pyollama_state", ServerState)


def json_response(body: object, status: int = 200) -> web.Response:
    """`application/json; charset=utf-8`, as gin's c.JSON writes it."""
    return web.Response(body=encode(body), status=status, content_type="application/json", charset="utf-8")


def error_response(status: int, message: str) -> web.Response:
    return json_response(ErrorResponse(error=message), status)
