"""OpenAI- and Anthropic-compatible routes: `/v1/chat/completions`, `/v1/completions`,
`/v1/embeddings`, `/v1/responses`, `/v1/messages[/count_tokens]`, `/v1/models[/{model}]`.

As in Ollama, each dialect is translated into one of Ollama's own requests
(`pyollama.server.compat`), planned and run exactly as `/api/chat`, `/api/generate` and
`/api/embed` are — so a Modelfile's TEMPLATE, SYSTEM, MESSAGEs and PARAMETERs apply — and the
parsed chunks are written back in the dialect's JSON or SSE. Unlike Ollama, `tool_choice` is
honoured. Errors use each dialect's own shape, with a real status before the first byte.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web

from pyollama.errors import BadRequest, PyollamaError
from pyollama.runner.types import Chunk
from pyollama.server.compat import anthropic, openai, responses
from pyollama.server.compat.common import anthropic_error_body, collect, openai_error_body
from pyollama.server.planner.plan import Plan, plan_chat, plan_generate
from pyollama.server.planner.run import start
from pyollama.server.routes_inference import chat_chunks, embed_request, resolve
from pyollama.server.schemas import DebugInfo, encode
from pyollama.server.state import STATE, ServerState
from pyollama.server.streaming import unexpected_message

log = logging.getLogger("pyollama.server")

SSE = "text/event-stream"

ErrorMaker = Callable[[int, str], web.Response]


def openai_error(status: int, message: str) -> web.Response:
    """`{"error":{"message","type","param":null,"code":null}}` (Ollama's openai.NewError)."""
    code, body = openai_error_body(status, message)
    return web.Response(body=encode(body), status=code, content_type="application/json")


def anthropic_error(status: int, message: str) -> web.Response:
    code, body = anthropic_error_body(status, message)
    return web.Response(body=encode(body), status=code, content_type="application/json")


def _json(body: Any) -> web.Response:
    return web.Response(body=encode(body), content_type="application/json")


def _info(state: ServerState, model: str) -> Any:
    if not model:
        raise BadRequest("model is required")
    return resolve(state, model, f'model "{model}" not found, try pulling it first')


async def _chunks(state: ServerState, plan: Plan) -> AsyncGenerator[Chunk, None]:
    async for chunk, _load in chat_chunks(state, plan):
        yield chunk


async def _debug(state: ServerState, plan: Plan) -> DebugInfo:
    async with start(state.scheduler, state.templates, plan) as started:
        r = started.rendered
        return DebugInfo(rendered_template=r.text, image_count=len(r.images) or len(plan.images))


async def _sse(
    request: web.Request,
    chunks: AsyncGenerator[Chunk, None],
    feed: Callable[[Chunk], bytes],
    error: Callable[[str], bytes],
    error_response: ErrorMaker,
) -> web.StreamResponse:
    """Stream a plan's chunks as SSE; until the first chunk (the model scheduled, the prompt
    evaluated) an error is still a real status in the dialect's shape."""
    try:
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            raise PyollamaError("the engine gave no answer") from None
        except PyollamaError as exc:
            return error_response(exc.status, exc.message)
        response = web.StreamResponse(status=200, headers={"Content-Type": SSE, "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            if data := feed(first):
                await response.write(data)
            async for chunk in chunks:
                if data := feed(chunk):
                    await response.write(data)
        except PyollamaError as exc:
            await response.write(error(exc.message))
        except ConnectionError:
            return response
        except Exception as exc:  # after the first byte only the stream itself can say it
            log.exception("stream failed")
            await response.write(error(unexpected_message(exc)))
        await response.write_eof()
        return response
    finally:
        await chunks.aclose()


async def _collect(chunks: AsyncGenerator[Chunk, None]) -> Chunk:
    try:
        return collect([c async for c in chunks])
    finally:
        await chunks.aclose()


# --- OpenAI ----------------------------------------------------------------------------------------


async def chat_completions(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        t = openai.chat_request(await request.read())
        req = t.request
        info = _info(state, req.model)
        plan = plan_chat(state.settings, info, req, tool_choice=t.tool_choice, dialect_defaults=t.defaults)
        ident, created = openai.chat_id(), int(time.time())
        if req.debug_render_only:
            debug = await _debug(state, plan)
            done = Chunk(done=True, done_reason="stop")
            return _json(
                openai.chat_completion(
                    done, completion_id=ident, model=req.model, created=created, debug_info=debug
                )
            )
        if not t.stream:
            chunk = await _collect(_chunks(state, plan))
            return _json(openai.chat_completion(chunk, completion_id=ident, model=req.model, created=created))
    except PyollamaError as exc:
        return openai_error(exc.status, exc.message)
    writer = openai.ChatStreamWriter(
        completion_id=ident, model=req.model, created=created, include_usage=t.include_usage
    )
    return await _sse(request, _chunks(state, plan), writer.feed, writer.error, openai_error)


async def completions(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        t = openai.completion_request(await request.read())
        req = t.request
        info = _info(state, req.model)
        plan = plan_generate(state.settings, info, req, dialect_defaults=t.defaults)
        ident, created = openai.completion_id(), int(time.time())
        if not t.stream:
            chunk = await _collect(_chunks(state, plan))
            return _json(openai.completion(chunk, completion_id=ident, model=req.model, created=created))
    except PyollamaError as exc:
        return openai_error(exc.status, exc.message)
    writer = openai.CompletionStreamWriter(
        completion_id=ident, model=req.model, created=created, include_usage=t.include_usage
    )
    return await _sse(request, _chunks(state, plan), writer.feed, writer.error, openai_error)


async def embeddings(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        t = openai.embedding_request(await request.read())
        _info(state, t.request.model)
        resp = await embed_request(state, t.request, time.perf_counter_ns())
        return _json(openai.embedding_list(resp, model=t.request.model, encoding_format=t.encoding_format))
    except PyollamaError as exc:
        return openai_error(exc.status, exc.message)


async def responses_route(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        t = responses.responses_request(await request.read())
        req = t.request
        info = _info(state, req.model)
        plan = plan_chat(state.settings, info, req, tool_choice=t.tool_choice, dialect_defaults=t.defaults)
        response_id, item_id = responses.response_id(), responses.message_item_id()
        if not t.stream:
            created = int(time.time())
            chunk = await _collect(_chunks(state, plan))
            body = responses.response_object(
                chunk,
                t,
                response_id=response_id,
                item_id=item_id,
                created_at=created,
                completed_at=int(time.time()),
            )
            return _json(body)
    except PyollamaError as exc:
        return openai_error(exc.status, exc.message)
    writer = responses.ResponsesStreamWriter(t, response_id=response_id, item_id=item_id)
    return await _sse(request, _chunks(state, plan), writer.feed, writer.error, openai_error)


# --- Anthropic -------------------------------------------------------------------------------------


async def messages(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        t = anthropic.messages_request(await request.read())
        req = t.request
        info = _info(state, req.model)
        plan = plan_chat(
            state.settings, info, req, tool_choice=t.tool_choice, relax_thinking=t.think_requested
        )
        message_id = anthropic.message_id()
        if not t.stream:
            chunk = await _collect(_chunks(state, plan))
            return _json(anthropic.messages_response(chunk, message_id=message_id, model=req.model))
    except PyollamaError as exc:
        return anthropic_error(exc.status, exc.message)
    writer = anthropic.MessagesStreamWriter(
        message_id=message_id, model=req.model, input_tokens=t.estimated_input_tokens
    )
    return await _sse(request, _chunks(state, plan), writer.feed, writer.error, anthropic_error)


async def count_tokens(request: web.Request) -> web.StreamResponse:
    """The rendered prompt's real token count (Ollama has no such route; its Claude proxy guesses)."""
    state = request.app[STATE]
    try:
        t = anthropic.count_tokens_request(await request.read())
        req = t.request
        info = _info(state, req.model)
        plan = plan_chat(state.settings, info, req, tool_choice=t.tool_choice, relax_thinking=True)
        plan.debug_render_only = True  # render the text even where a short chat would skip it
        async with start(state.scheduler, state.templates, plan) as started:
            r = started.rendered
            n = (
                len(r.prompt)
                if isinstance(r.prompt, list)
                else len(await started.run.runner.tokenize(r.text, add_special=True))
            )
        return _json(anthropic.count_tokens_response(n))
    except PyollamaError as exc:
        return anthropic_error(exc.status, exc.message)


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
    return _json({"object": "list", "data": data or None})


async def retrieve_model(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = request.match_info["model"]
    try:
        info = resolve(state, name, f'model "{name}" not found')
    except PyollamaError as exc:
        return openai_error(exc.status, exc.message)
    for entry in _entries(state):
        if entry.get("name") == info.name:
            return _json(_model_object(entry))
    return _json(_model_object({"name": info.name}))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_route("POST", "/v1/chat/completions", chat_completions)
    r.add_route("POST", "/v1/completions", completions)
    r.add_route("POST", "/v1/embeddings", embeddings)
    r.add_route("POST", "/v1/responses", responses_route)
    r.add_route("POST", "/v1/messages", messages)
    r.add_route("POST", "/v1/messages/count_tokens", count_tokens)
    r.add_get("/v1/models", list_models, allow_head=False)
    r.add_get("/v1/models/{model:.+}", retrieve_model, allow_head=False)
