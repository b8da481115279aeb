"""OpenAI- and Anthropic-compatible routes: `/v1/chat/completions`, `/v1/completions`,
`/v1/embeddings`, `/v1/models[/{model}]`, `/v1/messages[/count_tokens]`.

Ollama translates these into its own requests; pyollama does not need to: llama.cpp's server core
already speaks both dialects. The model is resolved through the store and held through the
scheduler exactly as the Ollama routes do (same loading, slots, queue and keep_alive), then the body
goes to the engine's own handler through `runner.proxy` and its answer (JSON, or SSE pieces as they
come) goes back with only the `model` field set to the name the client asked for. Errors use each
dialect's own shape.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web

from pyollama.errors import BadRequest, PyollamaError
from pyollama.runner.native import sampling_body
from pyollama.server.planner.options import load_request, merge_options, sampling_options
from pyollama.server.routes_inference import resolve
from pyollama.server.schemas import encode
from pyollama.server.state import STATE, ServerState
from pyollama.server.streaming import unexpected_message

log = logging.getLogger("pyollama.server")

SSE = "text/event-stream"
_decode = msgspec.json.Decoder()

ErrorMaker = Callable[[int, str], web.Response]

_OPENAI_TYPES = {400: "invalid_request_error", 404: "not_found_error"}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def openai_error(status: int, message: str) -> web.Response:
    """`{"error":{"message","type","param":null,"code":null}}` (Ollama's openai.NewError)."""
    body = {
        "error": {
            "message": message,
            "type": _OPENAI_TYPES.get(status, "api_error"),
            "param": None,
            "code": None,
        }
    }
    return web.Response(body=encode(body), status=status, content_type="application/json")


def anthropic_error(status: int, message: str) -> web.Response:
    body = {
        "type": "error",
        "error": {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message},
        "request_id": "req_" + secrets.token_hex(12),
    }
    return web.Response(body=encode(body), status=status, content_type="application/json")


def _engine_message(data: bytes) -> str:
    """The message inside an engine error body (OpenAI- or Anthropic-shaped, or plain text)."""
    try:
        obj = _decode.decode(data)
    except msgspec.DecodeError:
        return data.decode("utf-8", "replace")
    if isinstance(obj, dict):
        err = obj.get("error", obj)
        if isinstance(err, dict):
            return str(err.get("message", ""))
        return str(err)
    return str(obj)


def _rename(obj: Any, model: str) -> None:
    if isinstance(obj, dict):
        if "model" in obj:
            obj["model"] = model
        inner = obj.get("message")
        if isinstance(inner, dict) and "model" in inner:
            inner["model"] = model


def rename_json(data: bytes, model: str) -> bytes:
    """A JSON answer with its `model` field(s) set to the requested name."""
    try:
        obj = _decode.decode(data)
    except msgspec.DecodeError:
        return data
    _rename(obj, model)
    return encode(obj)


def rename_sse(data: bytes, model: str) -> bytes:
    """SSE text with each `data:` event's `model` set to the requested name (other lines kept)."""
    if b'"model"' not in data:
        return data
    out = []
    for line in data.split(b"\n"):
        if line.startswith(b"data: ") and line[6:7] == b"{":
            try:
                obj = _decode.decode(line[6:])
            except msgspec.DecodeError:
                out.append(line)
                continue
            _rename(obj, model)
            line = b"data: " + encode(obj)
        out.append(line)
    return b"\n".join(out)


async def _read_object(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        raise BadRequest("missing request body")
    try:
        body = _decode.decode(raw)
    except msgspec.DecodeError as exc:
        raise BadRequest(str(exc)) from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def _defaults(
    route: str, body: dict[str, Any], options: dict[str, Any], modelfile: dict[str, Any]
) -> dict[str, Any]:
    """Modelfile PARAMETERs and Ollama's defaults under the request, with OpenAI's sampling
    defaults as Ollama applies them (temperature and top_p 1.0 unless the request or the Modelfile
    sets them)."""
    if route in ("/v1/chat/completions", "/v1/completions"):
        out = dict(body)
        options = {k: v for k, v in options.items() if k in modelfile or k not in ("temperature", "top_p")}
        params = sampling_body(sampling_options(options))
        if "max_tokens" in out or "max_completion_tokens" in out:
            params.pop("n_predict", None)
        for key, value in params.items():
            out.setdefault(key, value)
        out.setdefault("temperature", 1.0)
        if not out.get("top_p"):
            out["top_p"] = 1.0
        return out
    return body


async def _proxy(request: web.Request, route: str, error: ErrorMaker, need: str) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        body = await _read_object(request)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise BadRequest("model is required")
        info = resolve(state, model, f'model "{model}" not found, try pulling it first')
        if need == "completion" and "completion" not in info.capabilities:
            raise BadRequest(f'"{model}" does not support chat')
        if route == "/v1/messages" and not body.get("messages"):
            raise BadRequest("messages: field required")
        if route == "/v1/chat/completions" and not body.get("messages"):
            raise BadRequest("[] is too short - 'messages'")
        options = merge_options(info, None)
        lreq = load_request(state.settings, info, options, None)
        body = _defaults(route, body, options, info.parameters)
        streaming = bool(body.get("stream"))
        pieces = _pieces(state, lreq, route, body)
        try:
            first = await anext(pieces)
        except StopAsyncIteration:
            raise PyollamaError("the engine gave no answer") from None
    except PyollamaError as exc:
        return error(exc.status, exc.message)

    try:
        status, data = first
        if status != 200:
            return error(status, _engine_message(data))
        if not streaming:
            return web.Response(body=rename_json(data, model), status=200, content_type="application/json")
        response = web.StreamResponse(status=200, headers={"Content-Type": SSE, "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            await response.write(rename_sse(data, model))
            async for _status, data in pieces:
                await response.write(rename_sse(data, model))
        except PyollamaError as exc:
            await response.write(b"data: " + encode({"error": {"message": exc.message}}) + b"\n\n")
        except ConnectionError:
            return response
        except Exception as exc:
            log.exception("stream failed")
            message = unexpected_message(exc)
            await response.write(b"data: " + encode({"error": {"message": message}}) + b"\n\n")
        await response.write_eof()
        return response
    finally:
        await pieces.aclose()


async def _pieces(
    state: ServerState, lreq: Any, route: str, body: dict[str, Any]
) -> AsyncGenerator[tuple[int, bytes], None]:
    """The engine's answer, holding one slot of the model until it ends (or the client leaves)."""
    async with state.scheduler.use(lreq) as lease:
        stream = lease.runner.proxy(route, body)
        try:
            async for item in stream:
                yield item
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "/v1/chat/completions", openai_error, "completion")


async def completions(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "/v1/completions", openai_error, "completion")


async def embeddings(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "/v1/embeddings", openai_error, "embedding")


async def messages(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "/v1/messages", anthropic_error, "completion")


async def count_tokens(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "/v1/messages/count_tokens", anthropic_error, "completion")


# --- /v1/models ------------------------------------------------------------------------------------

_FRACTION = re.compile(r"\.\d+")


def _unix(stamp: str) -> int:
    try:
        return int(datetime.fromisoformat(_FRACTION.sub("", stamp).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return int(datetime.now(UTC).timestamp())


def _owner(name: str) -> str:
    parts = name.split(":", 1)[0].split("/")
    return parts[-2] if len(parts) >= 2 else "library"


def _model_object(entry: dict[str, Any]) -> dict[str, Any]:
    name = str(entry.get("name", ""))
    return {
        "id": name,
        "object": "model",
        "created": _unix(str(entry.get("modified_at", ""))),
        "owned_by": _owner(name),
    }


def _entries(state: ServerState) -> list[dict[str, Any]]:
    listing = msgspec.to_builtins(state.store.list_models())
    return list(listing.get("models") or []) if isinstance(listing, dict) else []


async def list_models(request: web.Request) -> web.Response:
    data = [_model_object(e) for e in _entries(request.app[STATE])]
    return web.Response(
        body=encode({"object": "list", "data": data or None}), content_type="application/json"
    )


async def retrieve_model(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = request.match_info["model"]
    try:
        info = resolve(state, name, f'model "{name}" not found')
    except PyollamaError as exc:
        return openai_error(exc.status, exc.message)
    for entry in _entries(state):
        if entry.get("name") == info.name:
            return web.Response(body=encode(_model_object(entry)), content_type="application/json")
    return web.Response(body=encode(_model_object({"name": info.name})), content_type="application/json")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_route("POST", "/v1/chat/completions", chat_completions)
    r.add_route("POST", "/v1/completions", completions)
    r.add_route("POST", "/v1/embeddings", embeddings)
    r.add_route("POST", "/v1/messages", messages)
    r.add_route("POST", "/v1/messages/count_tokens", count_tokens)
    r.add_get("/v1/models", list_models, allow_head=False)
    r.add_get("/v1/models/{model:.+}", retrieve_model, allow_head=False)
