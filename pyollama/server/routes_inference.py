"""`/api/generate`, `/api/chat`, `/api/embed`, `/api/embeddings`.

Each route decodes and checks its request, resolves the model in the store, layers options
(defaults <- Modelfile PARAMETERs <- request), then holds a scheduler lease while the runner works.
A model with a Go TEMPLATE is prompted through the injected renderer and `runner.complete`; any
other model goes through the GGUF's Jinja template inside llama.cpp (`runner.chat`).
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import secrets
import string
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, NamedTuple, TypedDict

import msgspec
from aiohttp import web

from pyollama.errors import BadRequest, InternalError, ModelNotFound, NotFound
from pyollama.options import LOAD_TIME_OPTIONS, OPTIONS, check_option
from pyollama.runner.base import IMAGE_TAG, CompletionRequest, Format, Runner
from pyollama.runner.base import ChatRequest as RunnerChatRequest
from pyollama.runner.types import Chunk, LoadOptions, TokenLogprob
from pyollama.server.fitting import DEFAULT_NUM_KEEP, fit_chat, fit_prompt
from pyollama.server.models import ModelInfo
from pyollama.server.scheduler import LoadRequest
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
    Message,
    MessageOut,
    ToolCallFunctionOut,
    ToolCallOut,
    TopLogprob,
    decode,
    go_time,
    parse_keep_alive,
)
from pyollama.server.state import STATE, ServerState, json_response
from pyollama.server.streaming import stream_ndjson

log = logging.getLogger("pyollama.server")

THINK_LEVELS = ("low", "medium", "high", "max")
_ID_CHARS = string.ascii_lowercase + string.digits


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


# Ollama's sampling defaults (api.DefaultOptions) where llama.cpp's differ or matter: llama.cpp
# would otherwise sample with its own top_p 0.95 and min_p 0.05. seed -1 and num_predict -1 mean
# "unset" and stay out; num_keep is applied by the routes.
SAMPLING_DEFAULTS: dict[str, Any] = {
    name: OPTIONS[name].default
    for name in (
        "temperature",
        "top_k",
        "top_p",
        "min_p",
        "typical_p",
        "repeat_last_n",
        "repeat_penalty",
        "presence_penalty",
        "frequency_penalty",
    )
}


def merge_options(info: ModelInfo, request_options: dict[str, Any] | None) -> dict[str, Any]:
    """Ollama's defaults, overlaid by the Modelfile's PARAMETERs, overlaid by checked request
    options; unknown request keys are logged and dropped."""
    merged = {**SAMPLING_DEFAULTS, **info.parameters}
    for key, value in (request_options or {}).items():
        if key not in OPTIONS:
            log.warning("invalid option provided: %s", key)
            continue
        try:
            checked = check_option(key, value)
        except InternalError as exc:
            raise BadRequest(f"{exc.message} - at `$.options.{key}`") from None
        if checked is not None:
            merged[key] = checked
    return merged


def load_request(
    state: ServerState, info: ModelInfo, options: dict[str, Any], keep_alive: float | None
) -> LoadRequest:
    """The load-time half of the options as `LoadOptions` (changing any of them reloads)."""
    settings = state.settings
    num_ctx = int(options.get("num_ctx") or settings.default_num_ctx)
    if info.context_length > 0:
        num_ctx = min(num_ctx, info.context_length)
    num_ctx = max(num_ctx, 4)
    embedding_only = "embedding" in info.capabilities and "completion" not in info.capabilities
    num_parallel = int(options.get("num_parallel", settings.num_parallel))
    if embedding_only:
        num_parallel = 1
    num_thread = int(options.get("num_thread") or settings.num_thread or 0) or None
    use_mmap = options.get("use_mmap")
    num_batch = int(options.get("num_batch") or (2048 if embedding_only else 512))
    lo = LoadOptions(
        num_ctx=num_ctx,
        num_parallel=max(num_parallel, 0),
        num_batch=num_batch,
        # as Ollama passes -b and -ub alike: an embedding input must fit one micro-batch, and
        # llama.cpp's default ubatch (512) would cap num_batch (and so embedding inputs) at 512
        num_ubatch=num_batch,
        num_thread=num_thread,
        num_gpu=int(options.get("num_gpu", -1)),
        main_gpu=int(options.get("main_gpu") or 0),
        use_mmap=True if use_mmap is None else bool(use_mmap),
        flash_attn=settings.flash_attention,  # type: ignore[arg-type]
        kv_cache_type=settings.kv_cache_type,
        # Embeddings are always on: /api/embed works on generative models without a reload
        # (llama.cpp switches per batch; generation pays nothing for it). Decoder models have no
        # pooling of their own, so they get mean pooling; embedding models keep theirs.
        embedding=True,
        pooling=None if embedding_only else "mean",
        projector=info.projector,
        lora=tuple(info.adapters),
    )
    return LoadRequest(
        name=info.name,
        model_path=info.model_path,
        options=lo,
        keep_alive=keep_alive,
        digest=info.digest,
        details=info.details,
        kv=info.kv,
        file_size=info.size,
    )


def sampling_options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in LOAD_TIME_OPTIONS}


def check_format(value: str | dict[str, Any] | None) -> Format:
    if value is None or value == "":
        return None
    if value == "json" or isinstance(value, dict):
        return value  # type: ignore[return-value]
    raise BadRequest(f'invalid format: "{value}"; expected "json" or a valid JSON Schema object')


def check_logprobs(top_logprobs: int) -> None:
    if not 0 <= top_logprobs <= 20:
        raise BadRequest("top_logprobs must be between 0 and 20")


def check_think(model: str, think: bool | str | None, info: ModelInfo) -> bool | str | None:
    if isinstance(think, str) and think not in THINK_LEVELS:
        raise BadRequest("invalid think value")
    thinking = "thinking" in info.capabilities
    if think and not thinking:
        raise BadRequest(f'"{model}" does not support thinking')
    if think is None and thinking:
        return True
    return think


def decode_images(images: list[str] | None) -> list[bytes]:
    out: list[bytes] = []
    for i, img in enumerate(images or []):
        try:
            out.append(base64.b64decode(img, validate=True))
        except (binascii.Error, ValueError):
            raise BadRequest(f"illegal base64 data at input byte 0 - at `$.images[{i}]`") from None
    return out


def tool_call_id() -> str:
    return "call_" + "".join(secrets.choice(_ID_CHARS) for _ in range(8))


def tool_calls_out(chunk: Chunk) -> list[ToolCallOut] | None:
    if not chunk.tool_calls:
        return None
    return [
        ToolCallOut(
            id=tc.id or tool_call_id(),
            function=ToolCallFunctionOut(index=tc.index, name=tc.name, arguments=tc.arguments),
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


def message_for_runner(m: Message) -> dict[str, Any]:
    """An Ollama message as the OpenAI-shaped dict llama.cpp's chat templates take."""
    out: dict[str, Any] = {"role": m.role.lower(), "content": m.content}
    if m.thinking:
        out["reasoning_content"] = m.thinking
    if m.images:
        out["images"] = m.images
    if m.tool_calls:
        import json

        out["tool_calls"] = [
            {
                "id": tc.id or tool_call_id(),
                "type": "function",
                "function": {"name": tc.function.name, "arguments": json.dumps(tc.function.arguments)},
            }
            for tc in m.tool_calls
        ]
    if m.tool_name:
        out["name"] = m.tool_name
        out["tool_name"] = m.tool_name
    if m.tool_call_id:
        out["tool_call_id"] = m.tool_call_id
    return out


def message_for_template(m: dict[str, Any]) -> dict[str, Any]:
    return m


async def _collect_stream(lines: AsyncGenerator[Any, None]) -> list[Any]:
    try:
        return [item async for item in lines]
    finally:
        await lines.aclose()


def _use_go_template(state: ServerState, template: str | None) -> bool:
    if state.renderer is None or not template:
        return False
    return state.settings.go_template is not False


class _Prepared(NamedTuple):
    """A generate/chat request checked against its model, with its options layered."""

    info: ModelInfo
    fmt: Format
    think: bool | str | None
    options: dict[str, Any]
    lreq: LoadRequest


def _require(info: ModelInfo, model: str, capability: str, what: str) -> None:
    if capability not in info.capabilities:
        raise BadRequest(f'"{model}" does not support {what}')


def _prepare(
    state: ServerState, req: GenerateRequest | ChatRequest, action: str, also_needs: str | None
) -> _Prepared:
    """The checks /api/generate and /api/chat share, in Ollama's order (it decides which error wins).

    `action` names the route in the "does not support" error; `also_needs` is a capability the
    request asks for on top of completion (`insert` for a suffix, `tools` for tools).
    """
    check_logprobs(req.top_logprobs)
    fmt = check_format(req.format)
    keep_alive = parse_keep_alive(req.keep_alive)
    info = resolve(state, req.model, f"model '{req.model}' not found")
    _require(info, req.model, "completion", action)
    if also_needs:
        _require(info, req.model, also_needs, also_needs)
    think = check_think(req.model, req.think, info)
    options = merge_options(info, req.options)
    return _Prepared(info, fmt, think, options, load_request(state, info, options, keep_alive))


def _unload_only(state: ServerState, req: GenerateRequest | ChatRequest, empty: bool) -> bool:
    """An empty request with keep_alive 0 unloads the model before any capability check, as in
    Ollama, so a model that cannot generate or chat (an embedding model) can still be stopped."""
    if not empty or parse_keep_alive(req.keep_alive) != 0:
        return False
    info = resolve(state, req.model, f"model '{req.model}' not found")
    state.scheduler.expire(info.model_path)
    return True


async def _load_only(state: ServerState, p: _Prepared) -> None:
    """An empty request (keep_alive 0 was handled by `_unload_only`) only loads the model."""
    async with state.scheduler.use(p.lreq):
        pass


def _empty_generate(req: GenerateRequest, reason: str) -> web.Response:
    return json_response(
        GenerateResponse(model=req.model, created_at=go_time(), response="", done=True, done_reason=reason)
    )


def _empty_chat(req: ChatRequest, reason: str) -> web.Response:
    message = MessageOut(role="assistant", content="")
    return json_response(
        ChatResponse(model=req.model, created_at=go_time(), message=message, done_reason=reason, done=True)
    )


def referenced_images(prompt_text: str, images: list[bytes]) -> list[bytes]:
    """The images a rendered prompt still refers to, so that `[img-N]` is the N-th of them.

    History fitting drops the oldest messages, and their images with them; the tags of the kept
    ones are numbered from 0, so the kept images are the last ones.
    """
    if not images:
        return images  # the common case: no regex over the prompt
    tags = {int(n) for n in IMAGE_TAG.findall(prompt_text)}
    if len(tags) >= len(images):
        return images
    return images[len(images) - len(tags) :]


async def _fit_text_prompt(
    runner: Runner, prompt_text: str, images: list[bytes], *, num_ctx: int, num_keep: int, shift: bool
) -> str | list[int]:
    """A rendered prompt fitted to the context; with images it goes as text (the runner places them)."""
    if images:
        return prompt_text
    return await fit_prompt(runner, prompt_text, num_ctx=num_ctx, num_keep=num_keep, shift=shift)


def _completion(
    req: GenerateRequest | ChatRequest,
    options: dict[str, Any],
    fmt: Format,
    prompt: str | list[int],
    **kw: Any,
) -> CompletionRequest:
    """A completion with the request's sampling options, format and logprobs settings."""
    return CompletionRequest(
        prompt=prompt, options=options, format=fmt, logprobs=req.logprobs, top_logprobs=req.top_logprobs, **kw
    )


async def _text_completion(
    runner: Runner,
    req: GenerateRequest | ChatRequest,
    options: dict[str, Any],
    fmt: Format,
    prompt_text: str,
    images: list[bytes],
    *,
    num_ctx: int,
    num_keep: int,
    shift: bool,
    return_tokens: bool = False,
) -> CompletionRequest:
    """A rendered prompt fitted to the context, with the images its `[img-N]` tags still name."""
    used = referenced_images(prompt_text, images)
    prompt = await _fit_text_prompt(
        runner, prompt_text, used, num_ctx=num_ctx, num_keep=num_keep, shift=shift
    )
    return _completion(req, options, fmt, prompt, images=used, return_tokens=return_tokens)


def _has_output(chunk: Chunk, calls: list[ToolCallOut] | None, lps: list[Logprob] | None) -> bool:
    """Whether a not-done chunk is worth a line: chunks with nothing to show are not sent."""
    return bool(chunk.content or chunk.thinking or calls or lps)


class _DoneMetrics(TypedDict):
    total_duration: int
    load_duration: int
    prompt_eval_count: int
    prompt_eval_duration: int
    eval_count: int
    eval_duration: int


def _done_metrics(chunk: Chunk, t0: int, load_duration: int) -> _DoneMetrics:
    """The timing and count fields of a final response line."""
    return _DoneMetrics(
        total_duration=time.perf_counter_ns() - t0,
        load_duration=load_duration,
        prompt_eval_count=chunk.prompt_eval_count,
        prompt_eval_duration=chunk.prompt_eval_duration,
        eval_count=chunk.eval_count,
        eval_duration=chunk.eval_duration,
    )


async def _aclose(stream: AsyncIterator[Chunk]) -> None:
    """Stop the runner's generation when the client goes away or the request ends early."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


# --- /api/generate ---------------------------------------------------------------------------------


async def generate(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    t0 = time.perf_counter_ns()
    req = decode(await request.read(), GenerateRequest)
    if not req.model:
        raise BadRequest("model is required")
    if req.raw and (req.template or req.system or req.context):
        raise BadRequest("raw mode does not support template, system, or context")
    if _unload_only(state, req, not req.prompt and not req.images):
        return _empty_generate(req, "unload")
    prep = _prepare(state, req, "generate", "insert" if req.suffix else None)
    info, fmt, think, options, lreq = prep.info, prep.fmt, prep.think, prep.options, prep.lreq
    images = decode_images(req.images)

    if not req.prompt and not images:
        await _load_only(state, prep)
        return _empty_generate(req, "load")

    sampling = sampling_options(options)
    num_keep = int(options.get("num_keep", DEFAULT_NUM_KEEP))
    infill = bool(req.suffix) and not req.raw and not _use_go_template(state, req.template or info.template)

    if req.debug_render_only:
        async with state.scheduler.use(lreq) as lease:
            text = await _generate_prompt(state, lease.runner, req, info, think)
            if text is None:
                msgs = msgs_for_context(req, info)
                text = await lease.runner.apply_template(msgs, add_generation_prompt=True)
        return json_response(
            GenerateResponse(
                model=req.model,
                created_at=go_time(),
                response="",
                done=False,
                debug_info=DebugInfo(rendered_template=text, image_count=len(images)),
            )
        )

    async def lines() -> AsyncGenerator[GenerateResponse, None]:
        async with state.scheduler.use(lreq) as lease:
            runner = lease.runner
            num_ctx = lease.model.context_length
            shift = req.shift is not False
            stream: AsyncIterator[Chunk]
            prompt_tokens: list[int] | None = None
            prompt_text = None if infill else await _generate_prompt(state, runner, req, info, think)
            if infill:  # a suffix without a Go template: the engine's fill-in-the-middle (/infill)
                stream = runner.complete(_completion(req, sampling, fmt, req.prompt, suffix=req.suffix))
            elif prompt_text is not None:
                creq = await _text_completion(
                    runner,
                    req,
                    sampling,
                    fmt,
                    prompt_text,
                    images,
                    num_ctx=num_ctx,
                    num_keep=num_keep,
                    shift=shift,
                    return_tokens=not req.raw,
                )
                if isinstance(creq.prompt, list):
                    prompt_tokens = creq.prompt
                stream = runner.complete(creq)
            else:
                msgs, shifted = await fit_chat(
                    runner,
                    msgs_for_context(req, info),
                    None,
                    num_ctx=num_ctx,
                    num_keep=num_keep,
                    truncate=True,
                    shift=shift,
                    template_len=len(runner.metadata.chat_template),
                )
                if shifted is not None:
                    prompt_tokens = shifted
                    stream = runner.complete(_completion(req, sampling, fmt, shifted, return_tokens=True))
                else:
                    stream = runner.chat(
                        RunnerChatRequest(
                            messages=msgs,
                            options=sampling,
                            format=fmt,
                            think=think,
                            logprobs=req.logprobs,
                            top_logprobs=req.top_logprobs,
                        )
                    )
            response_parts: list[str] = []
            tokens: list[int] = []
            try:
                async for chunk in stream:
                    response_parts.append(chunk.content)
                    if chunk.tokens:
                        tokens.extend(chunk.tokens)
                    calls = tool_calls_out(chunk)
                    lps = logprobs_out(chunk.logprobs)
                    if not chunk.done:
                        if _has_output(chunk, calls, lps):
                            yield GenerateResponse(
                                model=req.model,
                                created_at=go_time(),
                                response=chunk.content,
                                thinking=chunk.thinking,
                                done=False,
                                tool_calls=calls,
                                logprobs=lps,
                            )
                        continue
                    context: list[int] | None = None
                    if not req.raw:
                        context = await _context_tokens(
                            runner,
                            prompt_text,
                            prompt_tokens,
                            msgs_for_context(req, info),
                            response_parts,
                            tokens,
                        )
                    yield GenerateResponse(
                        model=req.model,
                        created_at=go_time(),
                        response=chunk.content,
                        thinking=chunk.thinking,
                        done=True,
                        done_reason=chunk.done_reason or "stop",
                        context=context,
                        tool_calls=calls,
                        logprobs=lps,
                        **_done_metrics(chunk, t0, lease.load_duration),
                    )
            finally:
                await _aclose(stream)

    if req.stream is not False:
        return await stream_ndjson(request, lines())
    items = await _collect_stream(lines())
    return json_response(_merge_generate(items, req.model))


def msgs_for_context(req: GenerateRequest, info: ModelInfo) -> list[dict[str, Any]]:
    """Ollama's generate messages: system (request's, else Modelfile's), MESSAGEs unless
    `context` is given, then the prompt."""
    msgs: list[dict[str, Any]] = []
    system = req.system or info.system
    if system:
        msgs.append({"role": "system", "content": system})
    if not req.context:
        msgs.extend(dict(m) for m in info.messages)
    user: dict[str, Any] = {"role": "user", "content": req.prompt}
    if req.images:
        user["images"] = req.images
    msgs.append(user)
    return msgs


async def _generate_prompt(
    state: ServerState, runner: Runner, req: GenerateRequest, info: ModelInfo, think: bool | str | None
) -> str | None:
    """The text prompt to complete, or None when the model's Jinja template renders it in llama.cpp."""
    template = req.template or info.template
    prompt_text: str | None = None
    if req.raw:
        return req.prompt
    if _use_go_template(state, template):
        assert state.renderer is not None and template is not None
        prompt_text = await state.renderer(
            template, messages=msgs_for_context(req, info), think=think, suffix=req.suffix, prompt=req.prompt
        )
    elif req.context:
        prompt_text = await runner.apply_template(msgs_for_context(req, info), add_generation_prompt=True)
    if prompt_text is not None and req.context:
        prompt_text = await runner.detokenize(req.context) + prompt_text
    return prompt_text


async def _context_tokens(
    runner: Runner,
    prompt_text: str | None,
    prompt_tokens: list[int] | None,
    msgs: list[dict[str, Any]],
    response_parts: list[str],
    generated: list[int],
) -> list[int]:
    """Ollama's `context`: prompt tokens followed by the answer's tokens."""
    if prompt_tokens is None:
        if prompt_text is None:
            prompt_text = await runner.apply_template(msgs, add_generation_prompt=True)
        prompt_tokens = await runner.tokenize(prompt_text, add_special=True)
    if generated:
        return prompt_tokens + generated
    return prompt_tokens + await runner.tokenize("".join(response_parts))


def _merge_generate(items: list[GenerateResponse], model: str) -> GenerateResponse:
    if not items:
        return GenerateResponse(model=model, created_at=go_time(), response="", done=True)
    last = items[-1]
    calls = [c for it in items for c in (it.tool_calls or [])]
    lps = [lp for it in items for lp in (it.logprobs or [])]
    last.response = "".join(it.response for it in items)
    last.thinking = "".join(it.thinking for it in items)
    last.tool_calls = calls or None
    last.logprobs = lps or None
    return last


# --- /api/chat -------------------------------------------------------------------------------------


async def chat(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    t0 = time.perf_counter_ns()
    req = decode(await request.read(), ChatRequest)
    if not req.model:
        raise BadRequest("model is required")
    if _unload_only(state, req, not req.messages):
        return _empty_chat(req, "unload")
    prep = _prepare(state, req, "chat", "tools" if req.tools else None)
    info, fmt, think, options, lreq = prep.info, prep.fmt, prep.think, prep.options, prep.lreq
    incoming = req.messages or []

    if not incoming:
        await _load_only(state, prep)
        return _empty_chat(req, "load")

    messages: list[dict[str, Any]] = [dict(m) for m in info.messages]
    converted = [message_for_runner(m) for m in incoming]
    if info.system and converted[0]["role"] != "system":
        messages.insert(0, {"role": "system", "content": info.system})
    messages.extend(converted)
    # a Go TEMPLATE sees Ollama's own message fields (.Thinking, .ToolCalls[].Function.Index, ids
    # only where the client gave them), not the llama.cpp-shaped dicts above
    wire_messages = messages[: len(messages) - len(converted)] + [
        {**msgspec.to_builtins(m), "role": m.role.lower()} for m in incoming
    ]
    images = [img for m in incoming for img in decode_images(m.images)]
    sampling = sampling_options(options)
    num_keep = int(options.get("num_keep", DEFAULT_NUM_KEEP))
    truncate = req.truncate is not False
    shift = req.shift is not False
    go_template = _use_go_template(state, info.template)

    async def render(runner: Runner, num_ctx: int) -> str:
        assert state.renderer is not None and info.template is not None

        async def count_tokens(text: str) -> int:
            return len(await runner.tokenize(text, add_special=True))

        return await state.renderer(
            info.template,
            messages=wire_messages,
            tools=req.tools,
            think=think,
            num_ctx=num_ctx,
            count_tokens=count_tokens,
            truncate=truncate,
        )

    if req.debug_render_only:
        async with state.scheduler.use(lreq) as lease:
            runner = lease.runner
            if go_template:
                text = await render(runner, lease.model.context_length)
            else:
                fitted, _ = await fit_chat(
                    runner,
                    messages,
                    req.tools,
                    num_ctx=lease.model.context_length,
                    num_keep=num_keep,
                    truncate=truncate,
                    shift=True,
                    template_len=len(runner.metadata.chat_template),
                )
                kwargs: dict[str, Any] = {"add_generation_prompt": True}
                if req.tools:
                    kwargs["tools"] = req.tools
                text = await runner.apply_template(fitted, **kwargs)
        return json_response(
            ChatResponse(
                model=req.model,
                created_at=go_time(),
                message=MessageOut(role="assistant", content=""),
                done=False,
                debug_info=DebugInfo(rendered_template=text, image_count=len(images)),
            )
        )

    async def lines() -> AsyncGenerator[ChatResponse, None]:
        async with state.scheduler.use(lreq) as lease:
            runner = lease.runner
            num_ctx = lease.model.context_length
            stream: AsyncIterator[Chunk]
            if go_template:
                prompt_text = await render(runner, num_ctx)
                creq = await _text_completion(
                    runner,
                    req,
                    sampling,
                    fmt,
                    prompt_text,
                    images,
                    num_ctx=num_ctx,
                    num_keep=num_keep,
                    shift=shift,
                )
                stream = runner.complete(creq)
            else:
                fitted, shifted = await fit_chat(
                    runner,
                    messages,
                    req.tools,
                    num_ctx=num_ctx,
                    num_keep=num_keep,
                    truncate=truncate,
                    shift=shift,
                    template_len=len(runner.metadata.chat_template),
                )
                if shifted is not None:
                    stream = runner.complete(_completion(req, sampling, fmt, shifted))
                else:
                    stream = runner.chat(
                        RunnerChatRequest(
                            messages=fitted,
                            tools=req.tools or None,
                            options=sampling,
                            format=fmt,
                            think=think,
                            logprobs=req.logprobs,
                            top_logprobs=req.top_logprobs,
                        )
                    )
            try:
                async for chunk in stream:
                    calls = tool_calls_out(chunk)
                    lps = logprobs_out(chunk.logprobs)
                    msg = MessageOut(
                        role="assistant", content=chunk.content, thinking=chunk.thinking, tool_calls=calls
                    )
                    if not chunk.done:
                        if _has_output(chunk, calls, lps):
                            yield ChatResponse(
                                model=req.model, created_at=go_time(), message=msg, done=False, logprobs=lps
                            )
                        continue
                    yield ChatResponse(
                        model=req.model,
                        created_at=go_time(),
                        message=msg,
                        done_reason=chunk.done_reason or "stop",
                        done=True,
                        logprobs=lps,
                        **_done_metrics(chunk, t0, lease.load_duration),
                    )
            finally:
                await _aclose(stream)

    if req.stream is not False:
        return await stream_ndjson(request, lines())
    items = await _collect_stream(lines())
    return json_response(_merge_chat(items, req.model))


def _merge_chat(items: list[ChatResponse], model: str) -> ChatResponse:
    if not items:
        empty = MessageOut(role="assistant", content="")
        return ChatResponse(model=model, created_at=go_time(), message=empty, done=True)
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


async def embed(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    t0 = time.perf_counter_ns()
    req = decode(await request.read(), EmbedRequest)
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
    lreq = load_request(state, info, options, keep_alive)
    async with state.scheduler.use(lreq) as lease:
        if not inputs:
            return json_response(EmbedResponse(model=req.model, embeddings=[]))
        result = await lease.runner.embed(inputs, truncate=req.truncate is not False)
        load_duration = lease.load_duration
    vectors = [_truncate_dims(v, req.dimensions) for v in result.vectors]
    return json_response(
        EmbedResponse(
            model=req.model,
            embeddings=vectors,
            total_duration=time.perf_counter_ns() - t0,
            load_duration=load_duration,
            prompt_eval_count=result.prompt_eval_count,
        )
    )


async def embeddings(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    req = decode(await request.read(), EmbeddingsRequest)
    if not req.model:
        raise BadRequest("model is required")
    keep_alive = parse_keep_alive(req.keep_alive)
    info = resolve(state, req.model, f'model "{req.model}" not found, try pulling it first')
    options = merge_options(info, req.options)
    lreq = load_request(state, info, options, keep_alive)
    async with state.scheduler.use(lreq) as lease:
        if not req.prompt:
            return json_response(EmbeddingsResponse(embedding=[]))
        result = await lease.runner.embed([req.prompt], normalize=False)  # Ollama's legacy route: raw
    return json_response(EmbeddingsResponse(embedding=result.vectors[0]))
