"""`/api/tokenize`, `/api/detokenize`, `/api/rerank` and `/v1/rerank`: what Ollama's users asked
for (ollama#3582, #12031, #3368) and never got.

Each loads the model like any other request (the scheduler's lease, keep_alive, load-time options
from the Modelfile and the request) and then asks the runner one question: its tokenizer, or its
classification head for each query/document pair. Rerankers are GGUFs with rank pooling; they
carry the `rerank` capability (`pyollama.store.capabilities.prompt_setup`).
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from pyollama.errors import BadRequest, PyollamaError
from pyollama.runner.types import Rerank
from pyollama.server.models import ModelInfo
from pyollama.server.planner.options import load_request, merge_options, require
from pyollama.server.routes_compat import openai_error
from pyollama.server.routes_inference import resolve
from pyollama.server.scheduler import LoadRequest
from pyollama.server.schemas import decode, encode, parse_keep_alive
from pyollama.server.schemas_extras import (
    DetokenizeRequest,
    DetokenizeResponse,
    DocumentText,
    RerankRequest,
    RerankResponse,
    RerankResultOut,
    TokenizeRequest,
    TokenizeResponse,
    V1RerankRequest,
    V1RerankResponse,
    V1RerankResult,
    V1RerankUsage,
)
from pyollama.server.state import STATE, ServerState, json_response


def _lease_request(
    state: ServerState, model: str, keep_alive: Any, options: dict[str, Any] | None
) -> tuple[ModelInfo, LoadRequest]:
    if not model:
        raise BadRequest("model is required")
    seconds = parse_keep_alive(keep_alive)
    info = resolve(state, model, f"model '{model}' not found")
    return info, load_request(state.settings, info, merge_options(info, options), seconds)


async def tokenize_reply(state: ServerState, req: TokenizeRequest) -> TokenizeResponse:
    """The route's answer without aiohttp (the in-process library calls this too)."""
    _info, lreq = _lease_request(state, req.model, req.keep_alive, req.options)
    async with state.scheduler.use(lreq) as lease:
        tokens = await lease.runner.tokenize(req.content, add_special=req.add_special) if req.content else []
    return TokenizeResponse(model=req.model, tokens=tokens)


async def detokenize_reply(state: ServerState, req: DetokenizeRequest) -> DetokenizeResponse:
    _info, lreq = _lease_request(state, req.model, req.keep_alive, req.options)
    tokens = req.tokens or []
    async with state.scheduler.use(lreq) as lease:
        n_vocab = lease.runner.metadata.n_vocab
        if n_vocab and any(not 0 <= t < n_vocab for t in tokens):
            # llama.cpp would read past its vocabulary; refuse as a client error instead
            raise BadRequest(f"token ids must be between 0 and {n_vocab - 1}")
        content = await lease.runner.detokenize(tokens) if tokens else ""
    return DetokenizeResponse(model=req.model, content=content)


async def tokenize(request: web.Request) -> web.StreamResponse:
    req = decode(await request.read(), TokenizeRequest)
    return json_response(await tokenize_reply(request.app[STATE], req))


async def detokenize(request: web.Request) -> web.StreamResponse:
    req = decode(await request.read(), DetokenizeRequest)
    return json_response(await detokenize_reply(request.app[STATE], req))


async def _rerank(
    state: ServerState,
    model: str,
    query: str,
    documents: list[str],
    keep_alive: Any = None,
    options: dict[str, Any] | None = None,
) -> tuple[Rerank, int]:
    """The model's scores in document order, and the time spent waiting for the model (ns)."""
    info, lreq = _lease_request(state, model, keep_alive, options)
    require(info, model, "rerank", "reranking")
    if not query:
        raise BadRequest("query is required")
    if not documents:
        return Rerank(results=[]), 0
    async with state.scheduler.use(lreq) as lease:
        result = await lease.runner.rerank(query, documents)
        return result, lease.load_duration


def _top(result: Rerank, top_n: int | None) -> list[tuple[int, float]]:
    """Best first (ties keep document order), cut to `top_n` (Cohere's and llama.cpp's rule)."""
    if top_n is not None and top_n < 0:
        raise BadRequest("top_n must not be negative")
    ranked = sorted(((r.index, r.score) for r in result.results), key=lambda p: (-p[1], p[0]))
    return ranked if top_n is None else ranked[:top_n]


async def rerank_reply(state: ServerState, req: RerankRequest, t0: int) -> RerankResponse:
    docs = req.documents or []
    result, load_duration = await _rerank(state, req.model, req.query, docs, req.keep_alive, req.options)
    results = [
        RerankResultOut(index=i, relevance_score=s, document=docs[i] if req.return_documents else None)
        for i, s in _top(result, req.top_n)
    ]
    return RerankResponse(
        model=req.model,
        results=results,
        total_duration=time.perf_counter_ns() - t0,
        load_duration=load_duration,
        prompt_eval_count=result.prompt_eval_count,
    )


async def rerank(request: web.Request) -> web.StreamResponse:
    t0 = time.perf_counter_ns()
    req = decode(await request.read(), RerankRequest)
    return json_response(await rerank_reply(request.app[STATE], req, t0))


async def v1_rerank(request: web.Request) -> web.StreamResponse:
    """Jina's and Cohere's request, llama.cpp's answer (`object: list`, `usage`, `results`);
    documents may be strings or `{"text": ...}` objects; errors in OpenAI's shape."""
    state = request.app[STATE]
    try:
        req = decode(await request.read(), V1RerankRequest)
        docs = [d.text if isinstance(d, DocumentText) else d for d in req.documents or []]
        if not docs:
            raise BadRequest('"documents" must be a non-empty string array')
        result, _load = await _rerank(state, req.model, req.query, docs)
        results = [
            V1RerankResult(
                index=i,
                relevance_score=s,
                document=DocumentText(text=docs[i]) if req.return_documents else None,
            )
            for i, s in _top(result, req.top_n)
        ]
    except PyollamaError as exc:
        return openai_error(exc.status, exc.message)
    n = result.prompt_eval_count
    body = V1RerankResponse(
        model=req.model,
        object="list",
        usage=V1RerankUsage(prompt_tokens=n, total_tokens=n),
        results=results,
    )
    return web.Response(body=encode(body), content_type="application/json")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_route("POST", "/api/tokenize", tokenize)
    r.add_route("POST", "/api/detokenize", detokenize)
    r.add_route("POST", "/api/rerank", rerank)
    r.add_route("POST", "/v1/rerank", v1_rerank)
