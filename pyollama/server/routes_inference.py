"""`/api/generate`, `/api/chat`, `/api/embed`, `/api/embeddings`: decode, plan, run, stream.

The planner (`pyollama.server.planner`) decides how each prompt is built and read; these handlers
only turn Ollama's requests into plans and the plans' parsed chunks into Ollama's NDJSON lines
(or one merged object with `stream: false`).
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator
from typing import Any, TypedDict

from aiohttp import web

from pyollama.errors import BadRequest, ModelNotFound, NotFound
from pyollama.go.time import rfc3339
from pyollama.runner.types import Chunk, TokenLogprob
from pyollama.server.models import ModelInfo
from pyollama.server.planner.options import check_logprobs, load_request, merge_options
from pyollama.server.planner.plan import Plan, plan_chat, plan_generate
from pyollama.server.planner.run import start
from pyollama.server.schemas import (
    ChatRequest,
    ChatResponse,
    DebugInfo,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    Logprob,
    MessageOut,
    ToolCallFunctionOut,
    ToolCallOut,
    TopLogprob,
    decode,
    parse_keep_alive,
)
from pyollama.server.state import STATE, ServerState, json_response
from pyollama.server.streaming import stream_ndjson

# --- shared helpers --------------------------------------------------------------------------------


def resolve(state: ServerState, name: str, not_found: str) -> ModelInfo:
    """Look the model up; unknown or invalid names become 404 with the route's own wording."""
    try:
        return state.store.resolve(name)
    except (ModelNotFound, NotFound):
        raise ModelNotFound(not_found) from None
    except BadRequest as exc:
        if exc.message == "invalid model name":
            raise ModelNotFound(not_found) from None
        raise


def tool_calls_out(chunk: Chunk) -> list[ToolCallOut] | None:
    if not chunk.tool_calls:
        return None
    return [
        ToolCallOut(
            id=tc.id, function=ToolCallFunctionOut(index=tc.index, name=tc.name, arguments=tc.arguments)
        )
        for tc in chunk.tool_calls
    ]


def logprobs_out(items: list[TokenLogprob] | None) -> list[Logprob] | None:
    if not items:
        return None
    return [
        Logprob(
            token=lp.token,
            logprob=lp.logprob,
            bytes=lp.bytes,
            top_logprobs=[
                TopLogprob(token=t.token, logprob=t.logprob, bytes=t.bytes) for t in lp.top_logprobs
            ]
            if lp.top_logprobs
            else None,
        )
        for lp in items
    ]


class _DoneMetrics(TypedDict):
    total_duration: int
    load_duration: int
    prompt_eval_count: int
    prompt_eval_cached_count: int
    prompt_eval_duration: int
    eval_count: int
    eval_duration: int


def done_metrics(chunk: Chunk, t0: int, load_duration: int) -> _DoneMetrics:
    """The timing and count fields of a final response line."""
    return _DoneMetrics(
        total_duration=time.perf_counter_ns() - t0,
        load_duration=load_duration,
        prompt_eval_count=chunk.prompt_eval_count,
        prompt_eval_cached_count=chunk.prompt_eval_cached_count,
        prompt_eval_duration=chunk.prompt_eval_duration,
        eval_count=chunk.eval_count,
        eval_duration=chunk.eval_duration,
    )


def _unload_only(state: ServerState, req: GenerateRequest | ChatRequest, empty: bool) -> bool:
    """An empty request with keep_alive 0 unloads the model before any capability check, as in
    Ollama, so a model that cannot generate or chat (an embedding model) can still be stopped."""
    if not empty or parse_keep_alive(req.keep_alive) != 0:
        return False
    info = resolve(state, req.model, f"model '{req.model}' not found")
    state.scheduler.expire(info.model_path)
    return True


async def _load_only(state: ServerState, plan: Plan) -> None:
    """An empty request (keep_alive 0 was handled by `_unload_only`) only loads the model."""
    async with state.scheduler.use(plan.load):
        pass


async def _debug_render(state: ServerState, plan: Plan) -> DebugInfo:
    """`_debug_render_only`: the prompt as the model would see it, without generating."""
    async with start(state.scheduler, state.templates, plan) as started:
        r = started.rendered
        return DebugInfo(rendered_template=r.text, image_count=len(r.images) or len(plan.images))


async def _collect_stream(lines: AsyncGenerator[Any, None]) -> list[Any]:
    try:
        return [item async for item in lines]
    finally:
        await lines.aclose()


# --- /api/generate ---------------------------------------------------------------------------------


async def generate_reply(
    state: ServerState, req: GenerateRequest, t0: int
) -> GenerateResponse | AsyncGenerator[GenerateResponse, None]:
    """One object (unload, load, debug render), or the stream of lines (the route and the
    in-process library, `pyollama.library`, both answer from this)."""
    if not req.model:
        raise BadRequest("model is required")
    if req.raw and (req.template or req.system or req.context):
        raise BadRequest("raw mode does not support template, system, or context")
    if _unload_only(state, req, not req.prompt and not req.images):
        return GenerateResponse(
            model=req.model, created_at=rfc3339(), response="", done=True, done_reason="unload"
        )
    check_logprobs(req.top_logprobs)
    info = resolve(state, req.model, f"model '{req.model}' not found")
    plan = plan_generate(state.settings, info, req)
    if not req.prompt and not plan.images:
        await _load_only(state, plan)
        return GenerateResponse(
            model=req.model, created_at=rfc3339(), response="", done=True, done_reason="load"
        )
    if req.debug_render_only:
        debug = await _debug_render(state, plan)
        return GenerateResponse(
            model=req.model, created_at=rfc3339(), response="", done=False, debug_info=debug
        )

    async def lines() -> AsyncGenerator[GenerateResponse, None]:
        async with start(state.scheduler, state.templates, plan) as started:
            async for chunk in started.run.stream():
                calls = tool_calls_out(chunk)
                lps = logprobs_out(chunk.logprobs)
                if not chunk.done:
                    yield GenerateResponse(
                        model=req.model,
                        created_at=rfc3339(),
                        response=chunk.content,
                        thinking=chunk.thinking,
                        done=False,
                        tool_calls=calls,
                        logprobs=lps,
                    )
                    continue
                yield GenerateResponse(
                    model=req.model,
                    created_at=rfc3339(),
                    response=chunk.content,
                    thinking=chunk.thinking,
                    done=True,
                    done_reason=chunk.done_reason or "stop",
                    context=await started.run.context() if plan.want_context else None,
                    tool_calls=calls,
                    logprobs=lps,
                    **done_metrics(chunk, t0, started.lease.load_duration),
                )

    return lines()


async def generate(request: web.Request) -> web.StreamResponse:
    t0 = time.perf_counter_ns()
    req = decode(await request.read(), GenerateRequest)
    reply = await generate_reply(request.app[STATE], req, t0)
    if isinstance(reply, GenerateResponse):
        return json_response(reply)
    if req.stream is not False:
        return await stream_ndjson(request, reply)
    return json_response(merge_generate(await _collect_stream(reply), req.model))


def merge_generate(items: list[GenerateResponse], model: str) -> GenerateResponse:
    """`stream: false`: the last line with every line's text, thinking, calls and logprobs."""
    if not items:
        return GenerateResponse(model=model, created_at=rfc3339(), response="", done=True)
    last = items[-1]
    calls = [c for it in items for c in (it.tool_calls or [])]
    lps = [lp for it in items for lp in (it.logprobs or [])]
    last.response = "".join(it.response for it in items)
    last.thinking = "".join(it.thinking for it in items)
    last.tool_calls = calls or None
    last.logprobs = lps or None
    return last


# --- /api/chat -------------------------------------------------------------------------------------


async def chat_reply(
    state: ServerState, req: ChatRequest, t0: int
) -> ChatResponse | AsyncGenerator[ChatResponse, None]:
    """One object (unload, load, debug render), or the stream of lines (route and library)."""
    if not req.model:
        raise BadRequest("model is required")
    if _unload_only(state, req, not req.messages):
        message = MessageOut(role="assistant", content="")
        return ChatResponse(
            model=req.model, created_at=rfc3339(), message=message, done_reason="unload", done=True
        )
    check_logprobs(req.top_logprobs)
    info = resolve(state, req.model, f"model '{req.model}' not found")
    plan = plan_chat(state.settings, info, req)
    if not req.messages:
        await _load_only(state, plan)
        message = MessageOut(role="assistant", content="")
        return ChatResponse(
            model=req.model, created_at=rfc3339(), message=message, done_reason="load", done=True
        )
    if req.debug_render_only:
        debug = await _debug_render(state, plan)
        return ChatResponse(
            model=req.model,
            created_at=rfc3339(),
            message=MessageOut(role="assistant", content=""),
            done=False,
            debug_info=debug,
        )

    async def lines() -> AsyncGenerator[ChatResponse, None]:
        async for chunk, load_duration in chat_chunks(state, plan):
            msg = MessageOut(
                role="assistant",
                content=chunk.content,
                thinking=chunk.thinking,
                tool_calls=tool_calls_out(chunk),
            )
            lps = logprobs_out(chunk.logprobs)
            if not chunk.done:
                yield ChatResponse(
                    model=req.model, created_at=rfc3339(), message=msg, done=False, logprobs=lps
                )
                continue
            yield ChatResponse(
                model=req.model,
                created_at=rfc3339(),
                message=msg,
                done_reason=chunk.done_reason or "stop",
                done=True,
                logprobs=lps,
                **done_metrics(chunk, t0, load_duration),
            )

    return lines()


async def chat(request: web.Request) -> web.StreamResponse:
    t0 = time.perf_counter_ns()
    req = decode(await request.read(), ChatRequest)
    reply = await chat_reply(request.app[STATE], req, t0)
    if isinstance(reply, ChatResponse):
        return json_response(reply)
    if req.stream is not False:
        return await stream_ndjson(request, reply)
    return json_response(merge_chat(await _collect_stream(reply), req.model))


async def chat_chunks(state: ServerState, plan: Plan) -> AsyncGenerator[tuple[Chunk, int], None]:
    """A planned chat's parsed chunks with the time spent waiting for the model (every dialect's
    chat route streams these)."""
    async with start(state.scheduler, state.templates, plan) as started:
        async for chunk in started.run.stream():
            yield chunk, started.lease.load_duration


def merge_chat(items: list[ChatResponse], model: str) -> ChatResponse:
    """`stream: false`: the last line with every line's content, thinking, calls and logprobs."""
    if not items:
        empty = MessageOut(role="assistant", content="")
        return ChatResponse(model=model, created_at=rfc3339(), message=empty, done=True)
    last = items[-1]
    calls = [c for it in items for c in (it.message.tool_calls or [])]
    lps = [lp for it in items for lp in (it.logprobs or [])]
    last.message = MessageOut(
        role="assistant",
        content="".join(it.message.content for it in items),
        thinking="".join(it.message.thinking for it in items),
        tool_calls=calls or None,
    )
    last.logprobs = lps or None
    return last


# --- /api/embed, /api/embeddings -------------------------------------------------------------------


def _truncate_dims(vec: list[float], dims: int) -> list[float]:
    if dims <= 0 or dims >= len(vec):
        return vec
    cut = vec[:dims]
    norm = math.sqrt(sum(x * x for x in cut)) or 1.0
    return [x / norm for x in cut]


async def embed_request(state: ServerState, req: EmbedRequest, t0: int) -> EmbedResponse:
    """`/api/embed` (and `/v1/embeddings` through its translation)."""
    if not req.model:
        raise BadRequest("model is required")
    if req.input is None or req.input == "":
        inputs: list[str] = []
    elif isinstance(req.input, str):
        inputs = [req.input]
    elif isinstance(req.input, list) and all(isinstance(x, str) for x in req.input):
        inputs = list(req.input)
    else:
        raise BadRequest("invalid input type")
    if req.dimensions < 0:
        raise BadRequest("dimensions must be a positive integer")
    keep_alive = parse_keep_alive(req.keep_alive)
    info = resolve(state, req.model, f'model "{req.model}" not found, try pulling it first')
    options = merge_options(info, req.options)
    lreq = load_request(state.settings, info, options, keep_alive)
    async with state.scheduler.use(lreq) as lease:
        if not inputs:
            return EmbedResponse(model=req.model, embeddings=[])
        result = await lease.runner.embed(inputs, truncate=req.truncate is not False)
        load_duration = lease.load_duration
    return EmbedResponse(
        model=req.model,
        embeddings=[_truncate_dims(v, req.dimensions) for v in result.vectors],
        total_duration=time.perf_counter_ns() - t0,
        load_duration=load_duration,
        prompt_eval_count=result.prompt_eval_count,
    )


async def embed(request: web.Request) -> web.StreamResponse:
    t0 = time.perf_counter_ns()
    req = decode(await request.read(), EmbedRequest)
    return json_response(await embed_request(request.app[STATE], req, t0))


async def embeddings(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    req = decode(await request.read(), EmbeddingsRequest)
    if not req.model:
        raise BadRequest("model is required")
    keep_alive = parse_keep_alive(req.keep_alive)
    info = resolve(state, req.model, f'model "{req.model}" not found, try pulling it first')
    options = merge_options(info, req.options)
    lreq = load_request(state.settings, info, options, keep_alive)
    async with state.scheduler.use(lreq) as lease:
        if not req.prompt:
            return json_response(EmbeddingsResponse(embedding=[]))
        result = await lease.runner.embed([req.prompt], normalize=False)  # Ollama's legacy route: raw
    return json_response(EmbeddingsResponse(embedding=result.vectors[0]))
