"""NativeRunner: one model served by llama.cpp's server core in this process.

Requests go to llama.cpp's own handlers (`/completion`, `/v1/chat/completions`, `/embedding`, ...)
through the Cython engine. Each request runs on a C++ worker thread; its chunks are awaited through
the stream's file descriptor with `loop.add_reader`, so no Python thread is tied up per stream. On
an event loop that watches no fds (Windows' default proactor loop) the engine's worker wakes the
loop instead (`Stream.set_notify` + `call_soon_threadsafe`), again with no thread per stream.
Leaving an iterator early cancels the generation, which frees its slot at the next token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec

from pyollama.errors import (
    BadRequest,
    EngineError,
    EngineStateError,
    InternalError,
    ModelLoadError,
    NotFound,
    PyollamaError,
    ServerBusy,
)
from pyollama.gguf_check import check_model
from pyollama.options import OPTIONS
from pyollama.runner.base import IMAGE_TAG, ChatRequest, CompletionRequest, Format
from pyollama.runner.memory import release_free_memory
from pyollama.runner.types import (
    Capabilities,
    Chunk,
    Embeddings,
    LoadOptions,
    ModelMetadata,
    Rerank,
    RerankResult,
    TokenLogprob,
    ToolCall,
)

_decode_json = msgspec.json.Decoder()
_encode_json = msgspec.json.Encoder()


# llama.cpp aborts the whole process (GGML_ASSERT, not an exception) on a batch too small for its
# output buffers (num_batch 1 with 4 slots): batches are never smaller than this
MIN_BATCH = 32


def engine_config(model_path: str, options: LoadOptions) -> dict[str, Any]:
    """The engine's JSON configuration for a model and its load-time options."""
    n_parallel = max(1, options.num_parallel)
    cfg: dict[str, Any] = {
        "model": model_path,
        "n_ctx": options.num_ctx * n_parallel,
        "n_parallel": n_parallel,
        "n_batch": max(options.num_batch, MIN_BATCH),
        "flash_attn": options.flash_attn,
        "cache_type_k": options.kv_cache_type,
        "cache_type_v": options.kv_cache_type,
        "context_shift": options.context_shift,
        "use_mmap": options.use_mmap,
        "warmup": options.warmup,
    }
    if options.num_gpu >= 0:
        cfg["n_gpu_layers"] = options.num_gpu
    if options.main_gpu:
        cfg["main_gpu"] = options.main_gpu
    if options.num_ubatch is not None:
        cfg["n_ubatch"] = max(options.num_ubatch, MIN_BATCH)
    if options.num_thread:
        cfg["n_threads"] = options.num_thread
        cfg["n_threads_batch"] = options.num_thread
    if options.embedding:
        cfg["embeddings"] = True
        if options.pooling:
            cfg["pooling"] = options.pooling
    if options.num_keep:
        cfg["n_keep"] = options.num_keep
    if options.chat_template:
        cfg["chat_template"] = options.chat_template
    if options.projector:
        cfg["mmproj"] = options.projector
    if options.lora:
        scale = options.lora_scale
        cfg["lora"] = (
            list(options.lora) if scale == 1.0 else [{"path": p, "scale": scale} for p in options.lora]
        )
    if options.draft_model and options.draft_num_predict > 0:
        cfg["draft_model"] = options.draft_model
        cfg["draft_n_max"] = options.draft_num_predict
    if options.draft_ngram:
        cfg["speculative"] = [options.draft_ngram]
    if options.alias:
        cfg["alias"] = options.alias
    if options.rpc_servers:
        cfg["rpc"] = list(options.rpc_servers)
    return cfg


def bounded_num_predict(num_predict: Any, slot_context: int) -> Any:
    """Ollama's boundedNumPredict: with context shift on, a model that never emits its end token
    would generate forever, so an open-ended (negative) or larger `num_predict` becomes 10 x the
    context; without a known context it is left alone."""
    if slot_context <= 0:
        return num_predict
    limit = 10 * slot_context
    if num_predict is None or not isinstance(num_predict, int) or num_predict < 0 or num_predict > limit:
        return limit
    return num_predict


def sampling_body(options: dict[str, Any], *, slot_context: int = 0) -> dict[str, Any]:
    """Ollama's per-request options as llama.cpp's request fields, as the options table names them
    (unknown and load-time keys dropped); `num_predict` bounded as Ollama bounds it."""
    body: dict[str, Any] = {}
    if slot_context > 0:
        body["n_predict"] = bounded_num_predict(options.get("num_predict"), slot_context)
    for key, value in options.items():
        spec = OPTIONS.get(key)
        field = spec.llama if spec is not None else None
        if field is None or value is None or (field in body and key == "num_predict"):
            continue
        if key == "stop" and isinstance(value, str):
            value = [value]
        body[field] = value
    return body


def format_body(fmt: Format, *, chat: bool) -> dict[str, Any]:
    if not fmt:
        return {}
    if fmt == "json":
        return {"response_format": {"type": "json_object"}} if chat else {"json_schema": {}}
    if isinstance(fmt, dict):
        if chat:
            return {"response_format": {"type": "json_schema", "json_schema": {"schema": fmt}}}
        return {"json_schema": fmt}
    raise BadRequest(f'invalid format: {fmt!r}; expected "json" or a valid JSON Schema object')


def _error_from(status: int, data: bytes) -> PyollamaError:
    message = data.decode("utf-8", "replace")
    try:
        obj = json.loads(message)
        err = obj.get("error", obj)
        message = err.get("message", message) if isinstance(err, dict) else str(err)
    except (ValueError, AttributeError):
        pass
    if status in (400, 501):
        return BadRequest(message)
    if status == 404:
        return NotFound(message)
    if status == 503:
        return ServerBusy(message)
    return InternalError(message or f"engine error (status {status})")


def _sse_events(data: bytes) -> list[Any]:
    """Decode the `data: {json}` events in one streamed chunk ([DONE] and comments skipped)."""
    events = []
    for block in data.split(b"\n\n"):
        block = block.strip()
        if not block.startswith(b"data: "):
            continue
        payload = block[6:]
        if payload == b"[DONE]":
            continue
        events.append(_decode_json.decode(payload))
    return events


def _timings(chunk: Chunk, timings: dict[str, Any] | None) -> None:
    """llama.cpp's timings as Ollama's counters: the prompt count includes the tokens reused from
    the KV cache (`cache_n`), which are also reported on their own."""
    if not timings:
        return
    cached = int(timings.get("cache_n", 0))
    chunk.prompt_eval_count = int(timings.get("prompt_n", 0)) + cached
    chunk.prompt_eval_cached_count = cached
    chunk.prompt_eval_duration = int(float(timings.get("prompt_ms", 0.0)) * 1e6)
    chunk.eval_count = int(timings.get("predicted_n", 0))
    chunk.eval_duration = int(float(timings.get("predicted_ms", 0.0)) * 1e6)


def _logprobs_from_completion(items: list[dict[str, Any]], top_n: int) -> list[TokenLogprob]:
    """llama.cpp's per-token probabilities, keeping the `top_n` alternatives the client asked for
    (the engine always computes at least one)."""
    out = []
    for it in items:
        top = [
            TokenLogprob(token=t.get("token", ""), logprob=float(t.get("logprob", 0.0)), bytes=t.get("bytes"))
            for t in (it.get("top_logprobs", []) or [])[:top_n]
        ]
        out.append(
            TokenLogprob(
                token=it.get("token", ""),
                logprob=float(it.get("logprob", 0.0)),
                bytes=it.get("bytes"),
                top_logprobs=top,
            )
        )
    return out


def place_media(prompt: str, images: list[bytes], marker: str) -> tuple[str, list[bytes]]:
    """Ollama's `[img-N]` tags become the engine's media marker, with the images in tag order.

    llama.cpp places one image per marker (its marker is random per process, so a prompt cannot
    forge one); a prompt without tags (raw mode) gets the images first, as Ollama's runner does.
    """
    order: list[bytes] = []

    def swap(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n >= len(images):
            return m.group(0)  # not one of this request's images: leave the text alone
        order.append(images[n])
        return marker

    text = IMAGE_TAG.sub(swap, prompt)
    if not order:
        return marker * len(images) + prompt, list(images)
    return text, order


class _FdWaiter:
    """Waits for a stream's readiness fd with `loop.add_reader` (NotImplementedError on a loop that
    cannot watch fds).

    The fd is level-triggered: while nobody waits (a consumer slow to take chunks) a readable fd
    would wake the loop on every iteration, so the first wake-up with no waiter unwatches it. A
    consumer that keeps up stays watched between tokens (no epoll_ctl per token).
    """

    def __init__(self, stream: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._fd = stream.fileno()
        self._ready = asyncio.Event()
        self._watched = False
        self._waiting = False

    def _wake(self) -> None:
        if self._waiting:
            self._ready.set()
        else:
            self._loop.remove_reader(self._fd)
            self._watched = False

    async def wait(self) -> None:
        """Until chunks may be waiting (the caller reads until it gets none before waiting again)."""
        self._ready.clear()
        if not self._watched:
            self._loop.add_reader(self._fd, self._wake)
            self._watched = True
        self._waiting = True
        try:
            await self._ready.wait()
        finally:
            self._waiting = False

    def close(self) -> None:
        if self._watched:
            self._loop.remove_reader(self._fd)
            self._watched = False


class _NotifyWaiter:
    """Waits for the engine's wake-up callback, posted to the loop with `call_soon_threadsafe`: for
    loops that watch no fds. The callback is an edge, so the event is cleared only by a waiter
    that has just found nothing to read (a wake-up between that read and the wait is kept)."""

    def __init__(self, stream: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._stream = stream
        self._ready = asyncio.Event()
        self._armed = False

    def _wake(self) -> None:  # on an engine worker thread
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._ready.set)

    async def wait(self) -> None:
        """Until chunks may be waiting (the caller reads until it gets none before waiting again)."""
        if not self._armed:
            # a chunk pushed before the callback was set woke nobody: return at once, the caller
            # reads again, and every later push calls back
            self._stream.set_notify(self._wake)
            self._armed = True
            return
        await self._ready.wait()
        self._ready.clear()  # a push after this point sets it again; its chunk is already queued

    def close(self) -> None:
        if self._armed:
            self._armed = False
            with contextlib.suppress(EngineStateError):
                self._stream.set_notify(None)


class NativeRunner:
    """A loaded model in this process (implements `pyollama.runner.base.Runner`)."""

    def __init__(self, model_path: str, options: LoadOptions, server: Any, metadata: ModelMetadata) -> None:
        self.model_path = model_path
        self.options = options
        self._server = server
        self._metadata = metadata
        self._closed = False
        self._live: set[Any] = set()
        self._media_marker = "<__media__>"  # replaced by the engine's own at load

    # --- loading --------------------------------------------------------------------------------

    @classmethod
    async def load(cls, model_path: str, options: LoadOptions) -> NativeRunner:
        """Load a model (blocking work runs in a thread) and start its task loop."""
        from pyollama import engine
        from pyollama.engine import backends

        engine.init()  # the level stays what the daemon set (OLLAMA_DEBUG)
        await asyncio.to_thread(backends.load_plugins)  # GPU plugins (a no-op once loaded)
        header = await asyncio.to_thread(engine.read_gguf, model_path, 0)  # GGUFError if unreadable
        # what llama.cpp would assert on (an abort, not an exception); the arrays were left out, so
        # the vocabulary was checked before (at create, and when the daemon resolved the model)
        check_model(
            header["kv"], [(t["name"], t["shape"], t["type"]) for t in header["tensors"]], arrays=False
        )
        if options.rpc_servers:
            # llama.cpp aborts the process on a server that does not answer, and connects while
            # the configuration is parsed: ask each first, and parse off the event loop
            from pyollama import rpc

            try:
                await asyncio.to_thread(rpc.check_servers, options.rpc_servers)
            except rpc.RpcError as exc:
                raise ModelLoadError(str(exc)) from exc
            server = await asyncio.to_thread(engine.Server, json.dumps(engine_config(model_path, options)))
        else:
            server = engine.Server(json.dumps(engine_config(model_path, options)))
        try:
            await asyncio.to_thread(server.load)
            server.start()
            raw = json.loads(server.metadata())
            runner = cls(model_path, options, server, ModelMetadata())
            props = await runner._call("/props", {})
            runner._metadata = _metadata_from(raw, props)
            runner._media_marker = str(props.get("media_marker") or runner._media_marker)
            release_free_memory()  # the loader's and the header's freed heap (pyollama.runner.memory)
            return runner
        except BaseException:
            await asyncio.to_thread(server.close)
            raise

    @property
    def metadata(self) -> ModelMetadata:
        return self._metadata

    # --- plumbing -------------------------------------------------------------------------------

    async def _stream(self, route: str, body: dict[str, Any]) -> AsyncIterator[tuple[int, bool, bytes]]:
        """Submit a request and yield (status, is_stream, data) chunks as they arrive."""
        if self._closed:
            raise EngineStateError("model is unloaded")
        stream = self._server.submit(route, _encode_json.encode(body))
        self._live.add(stream)
        try:
            waiter = _FdWaiter(stream) if stream.fileno() >= 0 else _NotifyWaiter(stream)
            try:
                while True:
                    try:
                        item = stream.next(0)
                    except EOFError:
                        return
                    if item is None:
                        try:
                            await waiter.wait()
                        except NotImplementedError:  # this loop cannot watch fds: switch to callbacks
                            waiter.close()
                            waiter = _NotifyWaiter(stream)
                        continue
                    status, is_stream, is_last, data = item
                    yield status, is_stream, data
                    if is_last:
                        return
            finally:
                waiter.close()
        finally:
            self._live.discard(stream)
            stream.cancel()
            stream.close()

    async def _call(self, route: str, body: dict[str, Any]) -> Any:
        """A non-streamed request: the decoded JSON answer, or a typed error."""
        async for status, _is_stream, data in self._stream(route, body):
            if status != 200:
                raise _error_from(status, data)
            if not data:
                raise EngineStateError("request ended without an answer (model unloading?)")
            return _decode_json.decode(data)
        raise EngineStateError("request ended without an answer (model unloading?)")

    # --- generation -----------------------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "stream": True,
            "cache_prompt": True,
            "return_tokens": request.return_tokens,
        }
        body.update(sampling_body(request.options, slot_context=self._metadata.slot_context))
        body.update(format_body(request.format, chat=False))
        if request.preserved_tokens:
            body["preserved_tokens"] = request.preserved_tokens
        body.update(request.engine_extra)
        if request.logprobs:
            body["n_probs"] = max(1, request.top_logprobs)
        if request.images:
            import base64

            if not isinstance(request.prompt, str):
                raise BadRequest("images need a text prompt")
            text, images = place_media(request.prompt, request.images, self._media_marker)
            body["prompt"] = {
                "prompt_string": text,
                "multimodal_data": [base64.b64encode(i).decode() for i in images],
            }
        route = "/completion"
        if request.suffix is not None:  # llama.cpp builds the FIM prompt from the model's tokens
            route = "/infill"
            body.update(prompt="", input_prefix=request.prompt, input_suffix=request.suffix)
        async for status, _is_stream, data in self._stream(route, body):
            if status != 200:
                raise _error_from(status, data)
            for ev in _sse_events(data):
                if "error" in ev:
                    raise _error_from(500, _encode_json.encode(ev))
                chunk = Chunk(content=ev.get("content", ""))
                if request.return_tokens:
                    chunk.tokens = ev.get("tokens") or []
                if request.logprobs and ev.get("completion_probabilities"):
                    chunk.logprobs = _logprobs_from_completion(
                        ev["completion_probabilities"], request.top_logprobs
                    )
                if ev.get("stop"):
                    chunk.done = True
                    chunk.done_reason = "length" if ev.get("stop_type") == "limit" else "stop"
                    _timings(chunk, ev.get("timings"))
                    yield chunk
                    return
                yield chunk
        raise EngineStateError("generation ended early (model unloading?)")

    async def chat(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """llama.cpp's chat handler (its Jinja template and output parser): thinking and content
        stream as they come; each tool call is sent once it is complete (the next one starts, or
        the answer ends), as Ollama sends whole calls."""
        body: dict[str, Any] = {
            "messages": [_openai_message(m) for m in request.messages],
            "stream": True,
            "cache_prompt": True,
        }
        if request.tools:
            body["tools"] = request.tools
            body["tool_choice"] = request.tool_choice
        body.update(sampling_body(request.options, slot_context=self._metadata.slot_context))
        body.update(format_body(request.format, chat=True))
        if request.think is not None:
            # as Ollama passes it (llamaServerChatTemplateKwargs); llama.cpp's reasoning parser stays
            # on, so the empty think block of a think-off generation prompt never reaches content
            kwargs: dict[str, Any] = {"enable_thinking": request.think is not False}
            if isinstance(request.think, str):
                kwargs["reasoning_effort"] = request.think
            body["chat_template_kwargs"] = kwargs
        if request.logprobs and not request.tools:  # llama.cpp refuses logprobs with streamed tools
            body["logprobs"] = True
            body["top_logprobs"] = max(1, request.top_logprobs)
        calls: dict[int, dict[str, Any]] = {}
        sent = 0  # calls [0, sent) went out already

        def complete_calls(upto: int) -> list[ToolCall] | None:
            nonlocal sent
            ready = [_tool_call(i, calls[i]) for i in sorted(calls) if sent <= i < upto]
            sent = max(sent, upto)
            return ready or None

        async for status, _is_stream, data in self._stream("/v1/chat/completions", body):
            if status != 200:
                raise _error_from(status, data)
            for ev in _sse_events(data):
                if "error" in ev:
                    raise _error_from(500, _encode_json.encode(ev))
                choices = ev.get("choices") or []
                chunk = Chunk()
                finish = None
                if choices:
                    choice = choices[0]
                    delta = choice.get("delta") or {}
                    chunk.content = delta.get("content") or ""
                    chunk.thinking = delta.get("reasoning_content") or ""
                    for tc in delta.get("tool_calls") or []:
                        index = int(tc.get("index", 0))
                        if index not in calls:
                            chunk.tool_calls = complete_calls(index)  # a new call: the ones before are whole
                        acc = calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
                        acc["id"] = tc.get("id") or acc["id"]
                        fn = tc.get("function") or {}
                        acc["name"] += fn.get("name") or ""
                        acc["arguments"] += fn.get("arguments") or ""
                    lp = choice.get("logprobs")
                    if request.logprobs and lp and lp.get("content"):
                        chunk.logprobs = _logprobs_from_completion(lp["content"], request.top_logprobs)
                    finish = choice.get("finish_reason")
                if finish:
                    chunk.done = True
                    chunk.done_reason = "length" if finish == "length" else "stop"
                    last = complete_calls(len(calls) and max(calls) + 1)
                    chunk.tool_calls = (chunk.tool_calls or []) + (last or []) or None
                    _timings(chunk, ev.get("timings"))
                    yield chunk
                    return
                if chunk.content or chunk.thinking or chunk.logprobs or chunk.tool_calls:
                    yield chunk
        raise EngineStateError("generation ended early (model unloading?)")

    # --- the rest -------------------------------------------------------------------------------

    async def embed(self, inputs: list[str], *, truncate: bool = True, normalize: bool = True) -> Embeddings:
        if not self.options.embedding:
            raise BadRequest(f'"{self.model_path}" was loaded without embeddings')
        limit = min(self._metadata.slot_context or self.options.num_ctx, self.options.num_batch)
        token_lists: list[list[int]] = []
        for text in inputs:
            tokens = await self.tokenize(text, add_special=True)
            if len(tokens) > limit:
                if not truncate:
                    raise BadRequest("the input length exceeds the context length")
                tokens = tokens[:limit]
            token_lists.append(tokens)
        if not token_lists:
            return Embeddings(vectors=[])
        # llama.cpp's embd_normalize: 2 = Euclidean (L2), -1 = none
        body = {"content": token_lists, "embd_normalize": 2 if normalize else -1}
        result = await self._call("/embedding", body)
        items = sorted(result, key=lambda r: r.get("index", 0)) if isinstance(result, list) else [result]
        vectors: list[list[float]] = []
        for item in items:
            emb = item["embedding"]
            if emb and isinstance(emb[0], list):  # pooling none: one vector per token -> mean
                emb = [sum(col) / len(emb) for col in zip(*emb, strict=True)]
                emb = _normalize(emb) if normalize else emb
            vectors.append(emb)
        return Embeddings(vectors=vectors, prompt_eval_count=sum(len(t) for t in token_lists))

    async def rerank(self, query: str, documents: list[str]) -> Rerank:
        """llama.cpp's `/rerank` (each query/document pair through the model's rerank prompt or
        its BOS/EOS/SEP layout); it needs the model loaded with rank pooling."""
        if not self.options.embedding or self.options.pooling != "rank":
            raise BadRequest(f'"{self.model_path}" was loaded without rank pooling')
        if not documents:
            return Rerank(results=[])
        result = await self._call(
            "/rerank", {"query": query, "documents": documents, "top_n": len(documents)}
        )
        results = [
            RerankResult(index=int(r.get("index", 0)), score=float(r.get("relevance_score", 0.0)))
            for r in result.get("results") or []
        ]
        results.sort(key=lambda r: r.index)
        usage = result.get("usage") or {}
        return Rerank(results=results, prompt_eval_count=int(usage.get("prompt_tokens", 0)))

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        result = await self._call("/tokenize", {"content": text, "add_special": add_special})
        return list(result["tokens"])

    async def detokenize(self, tokens: list[int]) -> str:
        result = await self._call("/detokenize", {"tokens": tokens})
        return str(result["content"])

    async def apply_template(self, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        result = await self._call("/apply-template", {"messages": messages, **kwargs})
        return str(result["prompt"])

    def on_exit(self, callback: Callable[[str], None]) -> None:
        """Never called: when llama.cpp aborts in this process, there is nobody left to tell."""

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for stream in list(self._live):
            stream.cancel()
        await asyncio.to_thread(self._server.close)


def _openai_message(m: dict[str, Any]) -> dict[str, Any]:
    """Ollama-style extras (base64 `images`, `tool_name`) as llama.cpp's OpenAI message shape."""
    if "images" not in m and "tool_name" not in m:
        return m
    out = {k: v for k, v in m.items() if k not in ("images", "tool_name")}
    if m.get("tool_name") and "name" not in out:
        out["name"] = m["tool_name"]
    images = m.get("images") or []
    if images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": m.get("content") or ""}]
        for img in images:
            b64 = img if isinstance(img, str) else __import__("base64").b64encode(img).decode()
            parts.append({"type": "image_url", "image_url": {"url": f"data:{_mime(b64)};base64,{b64}"}})
        out["content"] = parts
    return out


def _mime(b64: str) -> str:
    head = b64[:16]
    if head.startswith("/9j/"):
        return "image/jpeg"
    if head.startswith("R0lGOD"):
        return "image/gif"
    if head.startswith("UklGR"):
        return "image/webp"
    return "image/png"


def _normalize(v: list[float]) -> list[float]:
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else v


def _tool_call(index: int, acc: dict[str, Any]) -> ToolCall:
    try:
        args = json.loads(acc["arguments"]) if acc["arguments"] else {}
    except ValueError:
        args = {"_raw": acc["arguments"]}
    if not isinstance(args, dict):
        args = {"value": args}
    return ToolCall(name=acc["name"], arguments=args, id=acc["id"], index=index)


def _metadata_from(raw: dict[str, Any], props: dict[str, Any]) -> ModelMetadata:
    template = str(props.get("chat_template") or "")
    caps = raw.get("chat_template_caps") or {}
    has_decoder = bool(raw.get("has_decoder", True))
    pooling = int(raw.get("pooling", -1))
    embedding_only = bool(raw.get("embeddings")) and not has_decoder
    thinking = any(m in template for m in ("enable_thinking", "reasoning_content", "<think>"))
    return ModelMetadata(
        architecture=str(raw.get("architecture", "")),
        name=str(raw.get("name", "")),
        parameter_count=int(raw.get("parameter_count", 0)),
        file_type=str(raw.get("file_type", "")),
        context_length=int(raw.get("context_length", 0)),
        embedding_length=int(raw.get("embedding_length", 0)),
        n_vocab=int(raw.get("n_vocab", 0)),
        size=int(raw.get("size", 0)),
        size_vram=int(raw.get("size_vram", 0)),
        devices=tuple(str(d) for d in raw.get("devices") or ()),
        slot_context=int(raw.get("slot_context", 0)),
        n_parallel=int(raw.get("n_parallel", 1)),
        chat_template=template,
        bos_token=str(raw.get("bos_token", "")),
        eos_token=str(raw.get("eos_token", "")),
        capabilities=Capabilities(
            completion=not embedding_only,
            chat=not embedding_only and bool(template),
            embedding=(bool(raw.get("embeddings")) and pooling != 0) or embedding_only,
            vision=bool(raw.get("has_vision")),
            audio=bool(raw.get("has_audio")),
            tools=bool(caps.get("supports_tools") or caps.get("supports_tool_calls")),
            thinking=thinking,
            insert=bool(raw.get("fim")),
        ),
        kv={},
    )


async def load_native_runner(model_path: str, options: LoadOptions) -> NativeRunner:
    """The default `RunnerFactory` (injected into the scheduler)."""
    return await NativeRunner.load(model_path, options)


__all__ = ["EngineError", "NativeRunner", "engine_config", "load_native_runner", "sampling_body"]
