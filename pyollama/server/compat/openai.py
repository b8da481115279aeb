"""OpenAI's `/v1/chat/completions`, `/v1/completions` and `/v1/embeddings` as Ollama requests, and
Ollama's answers as OpenAI bodies and SSE streams (Go's openai/openai.go and middleware/openai.go).

Two deliberate differences from Ollama: the sampling defaults OpenAI implies (temperature and top_p
1.0) come back apart from the options the request set, so the planner can put a Modelfile
PARAMETER above them (Ollama lets the default override the Modelfile); and `tool_choice`, which
Ollama ignores, is translated so the planner can honour it.
"""

from __future__ import annotations

import base64
import random
import struct
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from pyollama.errors import BadRequest
from pyollama.go import base64 as go_base64
from pyollama.go import json as go_json
from pyollama.go.fmt import t_any
from pyollama.go.strconv import quote as go_quote
from pyollama.runner.types import Chunk, TokenLogprob, ToolCall
from pyollama.server.compat.common import (
    Body,
    checked_tool_choice,
    decode_body,
    decode_image_url,
    has_output,
    json_object,
    new_rng,
    sse_data,
    think_from_reasoning_effort,
    with_ids,
)
from pyollama.server.planner import AUTO, ToolChoice
from pyollama.server.schemas import (
    ChatRequest,
    DebugInfo,
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    Message,
    ToolCallFunction,
    ToolCallIn,
)

# --- request bodies (Go's openai.ChatCompletionRequest & co.) ---------------------------------------


class FunctionIn(Body):
    name: str | None = None
    arguments: str | None = None


class ToolCallInput(Body):
    id: str | None = None
    index: int | None = None
    type: str | None = None
    function: FunctionIn | None = None


class MessageInput(Body):
    role: str | None = None
    content: Any = None  # string, content parts, or (with tool_calls) absent
    reasoning: str | None = None
    tool_calls: list[ToolCallInput] | None = None
    name: str | None = None
    tool_call_id: str | None = None


class StreamOptions(Body):
    include_usage: bool | None = None


class JsonSchema(Body):
    schema: Any = None


class ResponseFormat(Body):
    type: str | None = None
    json_schema: JsonSchema | None = None


class Reasoning(Body):
    effort: str | None = None


class ChatCompletionRequest(Body):
    model: str | None = None
    messages: list[MessageInput] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    seed: int | None = None
    stop: Any = None
    temperature: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    top_p: float | None = None
    response_format: ResponseFormat | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    reasoning: Reasoning | None = None
    reasoning_effort: str | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    debug_render_only: bool | None = msgspec.field(default=None, name="_debug_render_only")


class CompletionRequest(Body):
    model: str | None = None
    prompt: str | None = None
    frequency_penalty: float | None = None
    max_tokens: int | None = None
    presence_penalty: float | None = None
    seed: int | None = None
    stop: Any = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: float | None = None
    top_p: float | None = None
    suffix: str | None = None
    logprobs: int | None = None
    debug_render_only: bool | None = msgspec.field(default=None, name="_debug_render_only")


class EmbeddingRequest(Body):
    input: Any = None
    model: str | None = None
    dimensions: int | None = None
    encoding_format: str | None = None


_CHAT = msgspec.json.Decoder(ChatCompletionRequest)
_COMPLETION = msgspec.json.Decoder(CompletionRequest)
_EMBEDDING = msgspec.json.Decoder(EmbeddingRequest)

# --- translations ----------------------------------------------------------------------------------


class ChatTranslation(msgspec.Struct, frozen=True, kw_only=True):
    """An OpenAI chat request as the planner takes it."""

    request: ChatRequest
    tool_choice: ToolChoice
    defaults: dict[str, Any]  # OpenAI's implied sampling options: under the Modelfile, not over it
    stream: bool
    include_usage: bool


class CompletionTranslation(msgspec.Struct, frozen=True, kw_only=True):
    request: GenerateRequest
    defaults: dict[str, Any]
    stream: bool
    include_usage: bool


class EmbeddingTranslation(msgspec.Struct, frozen=True, kw_only=True):
    request: EmbedRequest
    encoding_format: str  # "float" or "base64" (any case), "" = float


def chat_request(body: bytes) -> ChatTranslation:
    """A `/v1/chat/completions` body (ChatMiddleware + FromChatRequest)."""
    req = decode_body(body, _CHAT)
    if not req.messages:
        raise BadRequest("[] is too short - 'messages'")
    return from_chat_request(req)


def from_chat_request(r: ChatCompletionRequest) -> ChatTranslation:
    options: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    stop = r.stop
    if isinstance(stop, str):
        options["stop"] = [stop]
    elif isinstance(stop, list):  # the chat route drops non-strings, the completions route refuses
        stops = [s for s in stop if isinstance(s, str)]
        if stops:
            options["stop"] = stops
    # max_completion_tokens is OpenAI's newer name (Ollama reads only max_tokens); it wins.
    max_tokens = r.max_completion_tokens if r.max_completion_tokens is not None else r.max_tokens
    if max_tokens is not None:
        options["num_predict"] = max_tokens
    _set_or_default(options, defaults, "temperature", r.temperature, 1.0)
    if r.seed is not None:
        options["seed"] = r.seed
    if r.frequency_penalty is not None:
        options["frequency_penalty"] = r.frequency_penalty
    if r.presence_penalty is not None:
        options["presence_penalty"] = r.presence_penalty
    _set_or_default(options, defaults, "top_p", r.top_p, 1.0)

    fmt: str | dict[str, Any] | None = None
    if r.response_format is not None:
        kind = (r.response_format.type or "").strip().lower()
        if kind == "json_object":
            fmt = "json"
        elif kind == "json_schema" and r.response_format.json_schema is not None:
            schema = r.response_format.json_schema.schema
            fmt = schema if isinstance(schema, dict | str) else None

    # `reasoning` wins over `reasoning_effort` even when its effort is empty (as Go reads them).
    effort = (r.reasoning.effort if r.reasoning is not None else r.reasoning_effort) or ""
    think = think_from_reasoning_effort(effort)
    tools = r.tools or None
    request = ChatRequest(
        model=r.model or "",
        messages=_messages(r.messages or []),
        stream=bool(r.stream),
        format=fmt,
        tools=tools,
        options=options or None,
        think=think,
        logprobs=bool(r.logprobs),
        top_logprobs=r.top_logprobs or 0,
        debug_render_only=bool(r.debug_render_only),
    )
    return ChatTranslation(
        request=request,
        tool_choice=tool_choice(r.tool_choice, tools),
        defaults=defaults,
        stream=bool(r.stream),
        include_usage=bool(r.stream_options and r.stream_options.include_usage),
    )


def _set_or_default(
    options: dict[str, Any], defaults: dict[str, Any], key: str, value: Any, dflt: Any
) -> None:
    if value is not None:
        options[key] = value
    else:
        defaults[key] = dflt


def tool_choice(value: Any, tools: list[dict[str, Any]] | None, *, flat_name: bool = False) -> ToolChoice:
    """OpenAI's `tool_choice` (`auto`, `none`, `required`, `{"type":"function","function":{"name"}}`;
    with `flat_name`, also the Responses API's `{"type":"function","name"}`) as a ToolChoice."""
    if value is None:
        return AUTO
    if isinstance(value, str):
        if value not in ("auto", "none", "required"):
            raise BadRequest(
                f'invalid tool_choice: {go_quote(value)} (must be "auto", "none", "required" or a function)'
            )
        mode: Literal["auto", "none", "required"] = value  # type: ignore[assignment]
        return checked_tool_choice(ToolChoice(mode=mode), tools)
    if not isinstance(value, dict):
        raise BadRequest(f"invalid tool_choice: expected a string or an object, got {go_json.kind(value)}")
    kind = value.get("type")
    if kind is None:
        raise BadRequest('invalid tool_choice: the object has no "type"')
    if kind != "function":
        shown = go_quote(kind) if isinstance(kind, str) else go_json.kind(kind)
        raise BadRequest(f'invalid tool_choice type: {shown} (only "function" is supported)')
    fn = value.get("function")
    name = fn.get("name") if isinstance(fn, dict) else None
    if name is None and flat_name:
        name = value.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest('tool_choice of type "function" needs the function\'s name')
    return checked_tool_choice(ToolChoice(mode="required", name=name), tools)


def _messages(msgs: list[MessageInput]) -> list[Message]:
    """OpenAI messages as Ollama's (FromChatRequest): every content part becomes a message of its
    own, and tool calls, tool name and reasoning of a parts message land on its last part."""
    out: list[Message] = []
    for msg in msgs:
        role = msg.role or ""
        tool_name = ""
        if role.lower() == "tool":
            tool_name = msg.name or ""
            if not tool_name and msg.tool_call_id:
                tool_name = _name_from_tool_call_id(msgs, msg.tool_call_id)
        content = msg.content
        if isinstance(content, str):
            out.append(
                Message(
                    role=role,
                    content=content,
                    thinking=msg.reasoning or "",
                    tool_calls=_tool_calls_in(msg.tool_calls),
                    tool_name=tool_name,
                    tool_call_id=msg.tool_call_id or "",
                )
            )
        elif isinstance(content, list):
            out.extend(_part(role, part) for part in content)
            if out and msg.tool_calls:
                last = out[-1]
                last.tool_calls = _tool_calls_in(msg.tool_calls)
                last.tool_name = tool_name
                last.tool_call_id = msg.tool_call_id or ""
                last.thinking = msg.reasoning or ""
        else:
            if msg.tool_calls is None:  # content may be absent only beside tool calls
                raise BadRequest(f"invalid message content type: {t_any(content)}")
            out.append(
                Message(
                    role=role,
                    thinking=msg.reasoning or "",
                    tool_calls=_tool_calls_in(msg.tool_calls),
                    tool_call_id=msg.tool_call_id or "",
                )
            )
    return out


def _part(role: str, data: Any) -> Message:
    if not isinstance(data, dict):
        raise BadRequest("invalid message format")
    kind = data.get("type")
    if kind == "text":
        text = data.get("text")
        if not isinstance(text, str):
            raise BadRequest("invalid message format")
        return Message(role=role, content=text)
    if kind == "image_url":
        image = data.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if not isinstance(url, str):
            raise BadRequest("invalid message format")
        return Message(role=role, images=[decode_image_url(url)])
    if kind == "input_audio":
        audio = data.get("input_audio")
        if not isinstance(audio, dict):
            raise BadRequest("invalid input_audio format")
        b64 = audio.get("data")
        if not isinstance(b64, str):
            raise BadRequest("invalid input_audio format: missing data")
        try:
            raw = go_base64.decode_string(b64)
        except ValueError as exc:
            raise BadRequest(f"invalid input_audio base64 data: {exc}") from None
        return Message(role=role, images=[base64.b64encode(raw).decode("ascii")])
    raise BadRequest("invalid message format")


def _name_from_tool_call_id(msgs: list[MessageInput], call_id: str) -> str:
    """The function a tool result answers, by its call id; the last match wins (duplicate ids)."""
    for msg in reversed(msgs):
        for tc in msg.tool_calls or ():
            if tc.id == call_id:
                return (tc.function.name if tc.function else None) or ""
    return ""


def _tool_calls_in(calls: list[ToolCallInput] | None) -> list[ToolCallIn] | None:
    """FromCompletionToolCall: JSON-string arguments parsed into objects."""
    out = []
    for tc in calls or ():
        fn = tc.function or FunctionIn()
        try:
            args = json_object(fn.arguments or "")
        except ValueError:
            raise BadRequest("invalid tool call arguments") from None
        out.append(
            ToolCallIn(id=tc.id or "", function=ToolCallFunction(name=fn.name or "", arguments=args or {}))
        )
    return out or None


def completion_request(body: bytes) -> CompletionTranslation:
    """A `/v1/completions` body (CompletionsMiddleware + FromCompleteRequest)."""
    r = decode_body(body, _COMPLETION)
    options: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    if isinstance(r.stop, str):
        options["stop"] = [r.stop]
    elif isinstance(r.stop, list):
        for s in r.stop:
            if not isinstance(s, str):
                raise BadRequest(f"invalid type for 'stop' field: {t_any(s)}")
        if r.stop:
            options["stop"] = list(r.stop)
    if r.max_tokens is not None:
        options["num_predict"] = r.max_tokens
    _set_or_default(options, defaults, "temperature", r.temperature, 1.0)
    if r.seed is not None:
        options["seed"] = r.seed
    # Go reads both penalties as plain floats, so an absent one is an explicit 0.
    _set_or_default(options, defaults, "frequency_penalty", r.frequency_penalty, 0.0)
    _set_or_default(options, defaults, "presence_penalty", r.presence_penalty, 0.0)
    _set_or_default(options, defaults, "top_p", r.top_p or None, 1.0)  # Go: top_p 0 means unset
    top_logprobs = r.logprobs if r.logprobs is not None and r.logprobs > 0 else 0
    request = GenerateRequest(
        model=r.model or "",
        prompt=r.prompt or "",
        suffix=r.suffix or "",
        stream=bool(r.stream),
        options=options or None,
        logprobs=top_logprobs > 0,
        top_logprobs=top_logprobs,
        debug_render_only=bool(r.debug_render_only),
    )
    return CompletionTranslation(
        request=request,
        defaults=defaults,
        stream=bool(r.stream),
        include_usage=bool(r.stream_options and r.stream_options.include_usage),
    )


def embedding_request(body: bytes) -> EmbeddingTranslation:
    """A `/v1/embeddings` body (EmbeddingsMiddleware); token-array inputs reach /api/embed's own
    `invalid input type` check."""
    r = decode_body(body, _EMBEDDING)
    fmt = r.encoding_format or ""
    if fmt and fmt.lower() not in ("float", "base64"):
        raise BadRequest(
            f"Invalid value for 'encoding_format' = {fmt}. Supported values: ['float', 'base64']."
        )
    value = r.input
    if value == "":
        value = [""]
    if value is None or value == []:
        raise BadRequest("invalid input")
    request = EmbedRequest(model=r.model or "", input=value, dimensions=r.dimensions or 0)
    return EmbeddingTranslation(request=request, encoding_format=fmt)


# --- answers ---------------------------------------------------------------------------------------


def chat_id(rng: random.Random | None = None) -> str:
    """`chatcmpl-<0..998>` (ChatMiddleware's rand.Intn(999))."""
    return f"chatcmpl-{new_rng(rng).randrange(999)}"


def completion_id(rng: random.Random | None = None) -> str:
    return f"cmpl-{new_rng(rng).randrange(999)}"


def usage(chunk: Chunk) -> dict[str, Any]:
    """ToUsage, plus the prompt tokens the KV cache already held."""
    prompt, completion = chunk.prompt_eval_count, chunk.eval_count
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": chunk.prompt_eval_cached_count},
    }


def openai_tool_calls(calls: Iterable[ToolCall]) -> list[dict[str, Any]]:
    """ToToolCalls: arguments as the JSON string Go's json.Marshal writes."""
    return [
        {
            "id": tc.id,
            "index": tc.index,
            "type": "function",
            "function": {"name": tc.name, "arguments": go_json.marshal(tc.arguments)},
        }
        for tc in calls
    ]


def _token(lp: TokenLogprob) -> dict[str, Any]:
    return {"token": lp.token, "logprob": lp.logprob, "bytes": lp.bytes}


def _logprobs(items: list[TokenLogprob] | None) -> dict[str, Any] | None:
    """Ollama's logprobs in OpenAI's `choices[].logprobs` shape (`bytes` and `top_logprobs`
    always written, as OpenAI's schema requires)."""
    if not items:
        return None
    return {
        "content": [
            {**_token(lp), "top_logprobs": [_token(t) for t in lp.top_logprobs or ()]} for lp in items
        ]
    }


def chat_completion(
    chunk: Chunk,
    *,
    completion_id: str,
    model: str,
    created: int,
    rng: random.Random | None = None,
    debug_info: DebugInfo | None = None,
) -> dict[str, Any]:
    """A non-streamed `chat.completion` from the collected generation (ToChatCompletion)."""
    calls = with_ids(chunk.tool_calls, new_rng(rng))
    message: dict[str, Any] = {"role": "assistant", "content": chunk.content}
    if chunk.thinking:
        message["reasoning"] = chunk.thinking
    if calls:
        message["tool_calls"] = openai_tool_calls(calls)
    reason = chunk.done_reason
    if reason == "stop" and calls:
        reason = "tool_calls"
    choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": reason or None}
    logprobs = _logprobs(chunk.logprobs)
    if logprobs is not None:
        choice["logprobs"] = logprobs
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_ollama",
        "choices": [choice],
        "usage": usage(chunk),
    }
    if debug_info is not None:
        body["_debug_info"] = msgspec.to_builtins(debug_info)
    return body


def stream_error(message: str) -> bytes:
    """An error after the stream began, as OpenAI streams one: `data: {"error":{...}}`."""
    return sse_data({"error": {"message": message, "type": "api_error", "param": None, "code": None}})


class ChatStreamWriter:
    """One streamed chat completion: each Chunk in, the SSE bytes to send out (Go's ChatWriter).

    The first chunk carries the role; a chunk with both reasoning and content (or tool calls) is
    split in two; the done chunk is followed by a finish chunk with an empty delta, the usage
    chunk when asked for, and `data: [DONE]`. One `created` stamps the whole stream.
    """

    def __init__(
        self,
        *,
        completion_id: str,
        model: str,
        created: int,
        include_usage: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        self.include_usage = include_usage
        self._head = {"id": completion_id, "object": "chat.completion.chunk", "created": created}
        self._head |= {"model": model, "system_fingerprint": "fp_ollama"}
        self._rng = new_rng(rng)
        self._first_sent = False
        self._tool_call_sent = False

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {**self._head, "choices": choices}

    def _delta(
        self, chunk: Chunk, calls: list[ToolCall], *, role: bool, content: bool, reasoning: bool, lps: bool
    ) -> dict[str, Any]:
        delta: dict[str, Any] = {}
        if role:
            delta["role"] = "assistant"
        if content:
            delta["content"] = chunk.content  # "" is written: Go's `any` content is only nil-omitted
        if reasoning and chunk.thinking:
            delta["reasoning"] = chunk.thinking
        if content and calls:
            delta["tool_calls"] = openai_tool_calls(calls)
        choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": None}
        logprobs = _logprobs(chunk.logprobs) if lps else None
        if logprobs is not None:
            choice["logprobs"] = logprobs
        return self._chunk([choice])

    def feed(self, chunk: Chunk) -> bytes:
        if not has_output(chunk):
            return b""
        out = bytearray()
        calls = with_ids(chunk.tool_calls, self._rng)
        # A done chunk with nothing in it is the metrics trailer: straight to the finish chunk,
        # unless nothing was sent yet (an empty completion still opens with a role chunk).
        trailer = (
            chunk.done
            and self._first_sent
            and not (chunk.content or chunk.thinking or calls or chunk.logprobs)
        )
        if not trailer:
            role = not self._first_sent
            if chunk.thinking and (chunk.content or calls):  # ToStreamChunks' split
                pieces = [
                    self._delta(chunk, calls, role=role, content=False, reasoning=True, lps=True),
                    self._delta(chunk, calls, role=False, content=True, reasoning=False, lps=False),
                ]
            else:
                pieces = [self._delta(chunk, calls, role=role, content=True, reasoning=True, lps=True)]
            for piece in pieces:
                if piece["choices"][0]["delta"].get("tool_calls"):
                    self._tool_call_sent = True
                out += sse_data(piece)
            self._first_sent = True
        if chunk.done:
            reason = chunk.done_reason or "stop"
            if reason == "stop" and self._tool_call_sent:
                reason = "tool_calls"
            out += sse_data(self._chunk([{"index": 0, "delta": {}, "finish_reason": reason}]))
            if self.include_usage:
                out += sse_data({**self._chunk([]), "usage": usage(chunk)})
            out += b"data: [DONE]\n\n"
        return bytes(out)

    def error(self, message: str) -> bytes:
        return stream_error(message)


def _completion_logprobs(items: list[TokenLogprob] | None, offset: int) -> dict[str, Any] | None:
    """Logprobs in the legacy completions shape (tokens, token_logprobs, top_logprobs as
    token->logprob maps, text_offset into the generated text); Ollama leaves them out here."""
    if not items:
        return None
    offsets = []
    for lp in items:
        offsets.append(offset)
        offset += len(lp.token)
    return {
        "tokens": [lp.token for lp in items],
        "token_logprobs": [lp.logprob for lp in items],
        "top_logprobs": [{t.token: t.logprob for t in lp.top_logprobs or ()} for lp in items],
        "text_offset": offsets,
    }


def _completion_choice(chunk: Chunk, offset: int) -> dict[str, Any]:
    choice: dict[str, Any] = {"text": chunk.content, "index": 0, "finish_reason": chunk.done_reason or None}
    logprobs = _completion_logprobs(chunk.logprobs, offset)
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return choice


def completion(chunk: Chunk, *, completion_id: str, model: str, created: int) -> dict[str, Any]:
    """A non-streamed `text_completion` (ToCompletion)."""
    return {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_ollama",
        "choices": [_completion_choice(chunk, 0)],
        "usage": usage(chunk),
    }


class CompletionStreamWriter:
    """One streamed completion (Go's CompleteWriter): a chunk per Chunk (with zero usage on each
    when usage was asked for, as Ollama writes it), then the usage chunk and `data: [DONE]`."""

    def __init__(self, *, completion_id: str, model: str, created: int, include_usage: bool = False) -> None:
        self.include_usage = include_usage
        self._head = {"id": completion_id, "object": "text_completion", "created": created}
        self._tail = {"model": model, "system_fingerprint": "fp_ollama"}  # CompletionChunk's order
        self._offset = 0

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {**self._head, "choices": choices, **self._tail}

    def feed(self, chunk: Chunk) -> bytes:
        if not has_output(chunk):
            return b""
        piece = self._chunk([_completion_choice(chunk, self._offset)])
        self._offset += sum(len(lp.token) for lp in chunk.logprobs or ())
        if self.include_usage:
            piece["usage"] = usage(Chunk())
        out = bytearray(sse_data(piece))
        if chunk.done:
            if self.include_usage:
                out += sse_data({**self._chunk([]), "usage": usage(chunk)})
            out += b"data: [DONE]\n\n"
        return bytes(out)

    def error(self, message: str) -> bytes:
        return stream_error(message)


def embedding_list(resp: EmbedResponse, *, model: str, encoding_format: str = "") -> dict[str, Any]:
    """ToEmbeddingList: base64 is the little-endian float32 bytes of each vector."""
    b64 = encoding_format.lower() == "base64"
    data = [
        {
            "object": "embedding",
            "embedding": base64.b64encode(struct.pack(f"<{len(e)}f", *e)).decode("ascii") if b64 else e,
            "index": i,
        }
        for i, e in enumerate(resp.embeddings)
    ]
    return {
        "object": "list",
        "data": data or None,
        "model": model,
        "usage": {"prompt_tokens": resp.prompt_eval_count, "total_tokens": resp.prompt_eval_count},
    }
