"""The aiohttp application: state under AppKeys, Ollama's middlewares, and the route table.

`make_app` takes every collaborator as an argument (settings, store, runner factory, prompt
free-memory probe) so tests can run the real routes over a `FakeRunnerFactory`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

import pyollama
from pyollama.config import Settings
from pyollama.errors import PyollamaError
from pyollama.go.net import is_private
from pyollama.runner.base import RunnerFactory
from pyollama.server import (
    openapi,
    routes_archive,
    routes_compat,
    routes_inference,
    routes_models,
    routes_registry,
    routes_tokens,
)
from pyollama.server.auth import KeyRing, auth_middleware, configured_keys
from pyollama.server.limits import body_limit
from pyollama.server.metrics import Metrics, metrics_handler, metrics_middleware
from pyollama.server.models import ModelStore
from pyollama.server.planner.prompt import Templates
from pyollama.server.routes_compat import anthropic_error, openai_error
from pyollama.server.scheduler import Scheduler, read_available_memory
from pyollama.server.state import STATE, ServerState, error_response, json_response
from pyollama.server.streaming import unexpected_message
from pyollama.ui import routes as ui_routes

log = logging.getLogger("pyollama.server")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORS_ALLOW_HEADERS = (
    "Authorization, Content-Type, User-Agent, Accept, X-Requested-With, OpenAI-Beta, "
    "x-stainless-arch, x-stainless-async, x-stainless-custom-poll-interval, x-stainless-helper-method, "
    "x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-poll-helper, "
    "x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout"
)
CORS_ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
_CORS_ORIGIN = web.RequestKey("pyollama_cors_origin", str)


# --- CORS (gin-contrib/cors with Ollama's config) -----------------------------------------------


def origin_allowed(origin: str, patterns: tuple[str, ...]) -> bool:
    """gin-contrib/cors matching with AllowWildcard: one `*` splits a pattern into prefix/suffix."""
    for pattern in patterns:
        if pattern == "*":
            return True
        if "*" in pattern:
            prefix, _, suffix = pattern.partition("*")
            if origin.startswith(prefix) and origin.endswith(suffix) and len(origin) >= len(pattern) - 1:
                return True
        elif origin == pattern:
            return True
    return False


def _cors_middleware(patterns: tuple[str, ...]) -> Middleware:
    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        if not origin or origin in (f"http://{request.host}", f"https://{request.host}"):
            return await handler(request)
        if not origin_allowed(origin, patterns):
            return web.Response(status=403)
        if request.method == "OPTIONS":
            return web.Response(
                status=204,
                headers={
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
                    "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
                    "Access-Control-Max-Age": "43200",
                    "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                },
            )
        request[_CORS_ORIGIN] = origin
        return await handler(request)

    return cors


async def _add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    origin = request.get(_CORS_ORIGIN)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"


# --- Host guard (Ollama's allowedHostsMiddleware, against DNS rebinding) --------------------------


def _local_names() -> set[str]:
    names: set[str] = set()
    try:
        hostname = socket.gethostname().lower()
        names.add(hostname)
        names.update(str(info[4][0]).lower() for info in socket.getaddrinfo(hostname, None))
    except OSError:
        pass
    return names


def host_allowed(host_header: str, local_names: set[str]) -> bool:
    host = host_header
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":")[0]
    host = host.lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return ip.is_loopback or is_private(ip) or ip.is_unspecified or host in local_names
    if host in ("", "localhost") or host in local_names:
        return True
    return any(host.endswith(tld) for tld in (".localhost", ".local", ".internal"))


def bound_to_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_guard_middleware(enabled: bool) -> Middleware:
    local_names = _local_names() if enabled else set()

    @web.middleware
    async def host_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not enabled:
            return await handler(request)
        if not host_allowed(request.host, local_names):
            return web.Response(status=403)
        if request.method == "OPTIONS":
            return web.Response(status=204)
        return await handler(request)

    return host_guard


# --- errors, 404, 405 ------------------------------------------------------------------------------


@web.middleware
async def _errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PyollamaError as exc:
        return error_response(exc.status, exc.message)
    except web.HTTPNotFound:
        return web.Response(status=404, text="404 page not found", content_type="text/plain")
    except web.HTTPMethodNotAllowed:
        return web.Response(status=405, text="405 method not allowed", content_type="text/plain")
    except web.HTTPRequestEntityTooLarge as exc:
        return error_response(413, exc.text or "request body too large")
    except web.HTTPException:
        raise
    except Exception as exc:  # a bug or an OS error (disk full): still Ollama's shape, and logged
        log.exception("%s %s failed", request.method, request.path)
        message = unexpected_message(exc)
        if request.path.startswith("/v1/messages"):
            return anthropic_error(500, message)
        if request.path.startswith("/v1/"):
            return openai_error(500, message)
        return error_response(500, message)


# --- body size per route ---------------------------------------------------------------------------


def _body_limit_middleware(inference_limit: int) -> Middleware:
    """`limits.body_limit` for the route: a declared length past it is a 413 before any byte is
    read; an undeclared (chunked) body is read up to the limit only."""

    @web.middleware
    async def body_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        limit = body_limit(request.path, inference_limit)
        if limit is None or request.method in ("GET", "HEAD", "OPTIONS"):
            return await handler(request)
        length = request.content_length
        if length is not None and length > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
        if request.client_max_size != limit:
            request = request.clone(client_max_size=limit)
        return await handler(request)

    return body_limits


# --- small routes ---------------------------------------------------------------------------------


async def _root(request: web.Request) -> web.Response:
    return web.Response(text="Ollama is running", content_type="text/plain", charset="utf-8")


async def _version(request: web.Request) -> web.Response:
    return json_response({"version": request.app[STATE].version})


async def _status(request: web.Request) -> web.Response:
    """Ollama's cloud status; pyollama has no cloud models, so cloud is always off."""
    return json_response({"cloud": {"disabled": True, "source": "none"}})


METRICS: web.AppKey[Metrics] = web.AppKey("pyollama_metrics", Metrics)


def _loaded_name(scheduler: Scheduler, model_path: str) -> str:
    lm = scheduler.get_loaded(model_path)
    return lm.name if lm is not None else model_path.rsplit("/", 1)[-1]


def make_app(
    settings: Settings,
    store: ModelStore,
    runner_factory: RunnerFactory,
    *,
    free_memory: Callable[[], int] = read_available_memory,
    version: str = pyollama.__version__,
    host_guard: bool | None = None,
) -> web.Application:
    """Build the daemon's app; `host_guard=None` enables the guard when settings bind loopback.

    Raises `KeyFileError` when `OLLAMA_API_KEYS_FILE` cannot be read."""
    keys = KeyRing(configured_keys(settings))
    metrics = Metrics() if settings.metrics != "off" else None
    if metrics is not None:
        runner_factory = metrics.wrap_factory(runner_factory, lambda path: _loaded_name(scheduler, path))
    scheduler = Scheduler(
        runner_factory,
        max_loaded=settings.effective_max_loaded_models,
        max_queue=settings.max_queue,
        default_keep_alive=settings.keep_alive,
        load_timeout=settings.load_timeout,
        free_memory=free_memory,
    )
    guard = bound_to_loopback(settings.host.host) if host_guard is None else host_guard
    app = web.Application(
        client_max_size=settings.max_request_size,
        middlewares=[
            *([metrics_middleware(metrics)] if metrics is not None else []),
            _cors_middleware(settings.allowed_origins),
            _host_guard_middleware(guard),
            auth_middleware(keys),
            _errors_middleware,
            _body_limit_middleware(settings.max_request_size),  # innermost: the handler gets its clone
        ],
    )
    if metrics is not None:
        metrics.watch(scheduler)
        app[METRICS] = metrics
    app[STATE] = ServerState(
        settings=settings, store=store, scheduler=scheduler, version=version, templates=Templates()
    )
    app.on_response_prepare.append(_add_cors_headers)

    async def _shutdown(app: web.Application) -> None:
        await scheduler.close()

    app.on_shutdown.append(_shutdown)

    r = app.router
    r.add_get("/", _root)  # add_get also answers HEAD
    r.add_get("/api/version", _version)
    r.add_get("/api/status", _status, allow_head=False)
    r.add_route("POST", "/api/generate", routes_inference.generate)
    r.add_route("POST", "/api/chat", routes_inference.chat)
    r.add_route("POST", "/api/embed", routes_inference.embed)
    r.add_route("POST", "/api/embeddings", routes_inference.embeddings)
    r.add_get("/api/ps", routes_models.ps, allow_head=False)
    r.add_get("/api/tags", routes_models.tags)
    r.add_route("POST", "/api/show", routes_models.show)
    r.add_route("POST", "/api/create", routes_models.create)
    r.add_get("/api/pyollama/capabilities", routes_models.capabilities)
    r.add_route("HEAD", "/api/blobs/{digest}", routes_models.head_blob)
    r.add_route("POST", "/api/blobs/{digest}", routes_models.upload_blob)
    r.add_route("POST", "/api/copy", routes_models.copy)
    r.add_route("DELETE", "/api/delete", routes_models.delete)
    routes_registry.setup(app, settings)  # POST /api/pull, /api/push
    routes_compat.add_routes(app)  # /v1/... (OpenAI, Anthropic)
    routes_archive.add_routes(app)  # POST /api/export, /api/import
    routes_tokens.add_routes(app)  # /api/tokenize, /api/detokenize, /api/rerank, /v1/rerank
    if metrics is not None:
        r.add_get("/metrics", metrics_handler(metrics, settings.metrics))
    ui_routes.add_routes(app)  # GET /ui: the web chat page
    openapi.add_routes(app)  # /openapi.json (built from the routes registered above)
    return app
