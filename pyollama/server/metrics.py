"""Prometheus `/metrics` (ollama#3144; llama.cpp's server has one): requests, latency, tokens,
time to first token, the queue, and the loaded models with their slots and memory.

Everything lives on one `CollectorRegistry` per app (never prometheus_client's global REGISTRY), so
two apps in one process (tests, the in-process library) keep their own counts. Three sources feed it:

- a middleware (outermost, so it sees the 401s and 403s too) counts every request by route
  pattern, method, model and status, and times it to the end of its stream;
- the runners are wrapped (`MeteredRunner`) so every dialect's generations report their time to
  first token (from the engine request to its first chunk: prompt evaluation, not queueing or
  loading, which `load_duration` already reports) and their prompt and generated tokens;
- a collector reads the scheduler at scrape time: queue depth, loaded models, slots, memory.

The `model` label is the request's `model` field on requests that succeeded; failed requests are
counted with an empty model, so clients sending random names cannot grow the label set.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pyollama.runner.base import ChatRequest, CompletionRequest, Runner, RunnerFactory
from pyollama.runner.types import Chunk, Embeddings, LoadOptions, ModelMetadata, Rerank
from pyollama.server.scheduler import Scheduler

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_MAX_MODEL_LABEL = 200
# routes whose handler reads a JSON body with a `model` field before anything else
_MODEL_ROUTES = frozenset(
    (
        "/api/generate",
        "/api/chat",
        "/api/embed",
        "/api/embeddings",
        "/api/show",
        "/api/create",
        "/api/pull",
        "/api/push",
        "/api/delete",
        "/api/tokenize",
        "/api/detokenize",
        "/api/rerank",
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/embeddings",
        "/v1/responses",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/rerank",
    )
)


class _ModelField(msgspec.Struct):
    model: str = ""


_model_decoder = msgspec.json.Decoder(_ModelField)


class Metrics:
    """The app's registry and the instruments the middleware and runners update."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "pyollama_requests", "HTTP requests answered", ("route", "method", "model", "status"), registry=r
        )
        self.latency = Histogram(
            "pyollama_request_duration_seconds",
            "Time to answer a request, to the end of its stream",
            ("route", "model", "status"),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "pyollama_time_to_first_token_seconds",
            "From the engine request to the first generated chunk (prompt evaluation)",
            ("model",),
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.prompt_tokens = Counter(
            "pyollama_prompt_tokens", "Prompt tokens, cached ones included", ("model",), registry=r
        )
        self.generated_tokens = Counter(
            "pyollama_generated_tokens", "Tokens generated", ("model",), registry=r
        )
        self.generations = Counter(
            "pyollama_generations", "Generations finished, by done reason", ("model", "reason"), registry=r
        )

    def watch(self, scheduler: Scheduler) -> None:
        self.registry.register(SchedulerCollector(scheduler))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def wrap_factory(self, factory: RunnerFactory, name_of: Callable[[str], str]) -> RunnerFactory:
        """Every runner the scheduler loads reports its tokens here (`name_of(model_path)` labels)."""

        async def load(model_path: str, options: LoadOptions) -> Runner:
            return MeteredRunner(await factory(model_path, options), self, name_of)

        return load


class SchedulerCollector(Collector):
    """Read at scrape time, so gauges are never stale."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self.scheduler
        loaded = s.loaded()
        yield GaugeMetricFamily(
            "pyollama_queue_depth", "Requests waiting for a model or a slot", value=s.pending
        )
        yield GaugeMetricFamily("pyollama_models_loaded", "Models resident in memory", value=len(loaded))
        slots = GaugeMetricFamily(
            "pyollama_model_slots", "Parallel slots of a loaded model", labels=["model"]
        )
        used = GaugeMetricFamily(
            "pyollama_model_slots_in_use", "Slots of a loaded model serving a request", labels=["model"]
        )
        memory = GaugeMetricFamily(
            "pyollama_model_memory_bytes",
            "Estimated memory of a loaded model (weights and KV cache)",
            labels=["model"],
        )
        ctx = GaugeMetricFamily("pyollama_model_context_length", "Context per slot", labels=["model"])
        for lm in loaded:
            n = max(lm.options.num_parallel, 1)
            slots.add_metric([lm.name], n)
            used.add_metric([lm.name], min(lm.refcount, n))
            memory.add_metric([lm.name], lm.size)
            ctx.add_metric([lm.name], lm.context_length)
        yield from (slots, used, memory, ctx)


class MeteredRunner:
    """A `Runner` that reports what passes through it and otherwise forwards every call."""

    def __init__(self, inner: Runner, metrics: Metrics, name_of: Callable[[str], str]) -> None:
        self.inner = inner
        self.model_path = inner.model_path
        self.options = inner.options
        self._metrics = metrics
        self._name_of = name_of

    @property
    def metadata(self) -> ModelMetadata:
        return self.inner.metadata

    def _name(self) -> str:
        try:
            return self._name_of(self.inner.model_path)
        except Exception:  # a label is never worth a failed request
            return os.path.basename(self.inner.model_path)

    async def _observe(self, chunks: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
        t0 = time.perf_counter()
        first = True
        try:
            async for chunk in chunks:
                if first:
                    first = False
                    self._metrics.ttft.labels(self._name()).observe(time.perf_counter() - t0)
                if chunk.done:
                    name = self._name()
                    self._metrics.prompt_tokens.labels(name).inc(chunk.prompt_eval_count)
                    self._metrics.generated_tokens.labels(name).inc(chunk.eval_count)
                    self._metrics.generations.labels(name, chunk.done_reason or "stop").inc()
                yield chunk
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    def complete(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        return self._observe(self.inner.complete(request))

    def chat(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        return self._observe(self.inner.chat(request))

    async def embed(self, inputs: list[str], *, truncate: bool = True, normalize: bool = True) -> Embeddings:
        result = await self.inner.embed(inputs, truncate=truncate, normalize=normalize)
        self._metrics.prompt_tokens.labels(self._name()).inc(result.prompt_eval_count)
        return result

    async def rerank(self, query: str, documents: list[str]) -> Rerank:
        result = await self.inner.rerank(query, documents)
        self._metrics.prompt_tokens.labels(self._name()).inc(result.prompt_eval_count)
        return result

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return await self.inner.tokenize(text, add_special=add_special)

    async def detokenize(self, tokens: list[int]) -> str:
        return await self.inner.detokenize(tokens)

    async def apply_template(self, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        return await self.inner.apply_template(messages, **kwargs)

    async def close(self) -> None:
        await self.inner.close()

    def on_exit(self, callback: Callable[[str], None]) -> None:
        self.inner.on_exit(callback)


# --- HTTP --------------------------------------------------------------------------------------


def _route(request: web.Request) -> str:
    """The route's pattern (`/api/blobs/{digest}`), so paths never explode the label set."""
    info = request.match_info
    resource = info.route.resource if info is not None and info.route is not None else None
    if resource is None or info.http_exception is not None:
        return "unmatched"
    return resource.canonical


async def _model(request: web.Request, route: str) -> str:
    if request.method != "POST" or route not in _MODEL_ROUTES:
        return ""
    try:
        body = await request.read()  # the handler read it already: aiohttp hands back its copy
        name = _model_decoder.decode(body).model
    except Exception:
        return ""
    return name if len(name) <= _MAX_MODEL_LABEL else ""


def metrics_middleware(metrics: Metrics) -> Middleware:
    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        t0 = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away (nginx's code for it)
            raise
        finally:
            route = _route(request)
            model = await _model(request, route) if status < 400 else ""
            labels = (route, request.method, model, str(status))
            metrics.requests.labels(*labels).inc()
            metrics.latency.labels(route, model, str(status)).observe(time.perf_counter() - t0)

    return count


def loopback_client(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address((request.remote or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def metrics_handler(metrics: Metrics, mode: str) -> Handler:
    """`GET /metrics` in Prometheus' text format; `loopback` mode answers other clients 403."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if mode == "loopback" and not loopback_client(request):
            return web.Response(status=403, text="metrics are only served to loopback clients")
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle
