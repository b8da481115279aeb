"""Anthropic's `/v1/messages` and `/v1/messages/count_tokens` as Ollama chats, and Ollama's answers
as Message objects and Anthropic's event stream (Go's anthropic/anthropic.go and
middleware/anthropic.go).

Ollama drops requested thinking without an error when the model cannot think (the `relax_thinking`
flag the middleware sets); the translation says whether thinking was requested so the planner can
do the same. Differences from Ollama, each for the SDKs: thinking blocks carry an empty
`signature` and an empty answer has `content: []` (Anthropic's schema requires both, Ollama writes
neither); usage says `cache_read_input_tokens`, with `input_tokens` the uncached rest as Anthropic
counts it; `tool_choice`, which Ollama ignores, is translated; and the built-in `web_search*` tool,
which Ollama runs on ollama.com, is left out of the request.
"""

from __future__ import annotations

import random
from typing import Any, Literal

import msgspec

from pyollama.errors import BadRequest
from pyollama.go import base64 as go_base64
from pyollama.go import json as go_json
from pyollama.go.strconv import quote as go_quote
from pyollama.runner.types import Chunk
from pyollama.server.compat.common import (
    Body,
    checked_tool_choice,
    decode_body,
    has_output,
    hex_id,
    new_rng,
    sse_event,
    with_ids,
)
from pyollama.server.planner import AUTO, ToolChoice
from pyollama.server.schemas import ChatRequest, Message, ToolCallFunction, ToolCallIn
from pyollama.think import LEVELS as THINK_LEVELS

# --- request bodies (Go's anthropic.MessagesRequest & co.) -----------------------------------------


class ImageSource(Body):
    type: str | None = None
    media_type: str | None = None
    data: str | None = None
    url: str | None = None


class ContentBlock(Body):
    type: str | None = None
    text: str | None = None
    source: ImageSource | None = None
    id: str | None = None
    name: str | None = None
    input: dict[str, Any] | None = None
    tool_use_id: str | None = None
    content: Any = None  # a tool_result's string or blocks
    is_error: bool | None = None
    thinking: str | None = None
    signature: str | None = None


class MessageParam(Body):
    role: str | None = None
    # A string is one text block; null is an empty text (Go unmarshals null into a string as a
    # no-op); absent is Go's `unexpected end of JSON input`.
    content: str | list[ContentBlock] | msgspec.UnsetType | None = msgspec.UNSET


class Tool(Body):
    type: str | None = None
    name: str | None = None
    description: str | None = None
    input_schema: Any = None
    max_uses: int | None = None


class ThinkingConfig(Body):
    type: str | None = None
    budget_tokens: int | None = None  # accepted, not enforced (as Ollama)


class OutputConfig(Body):
    effort: str | None = None


class MessagesRequest(Body):
    model: str | None = None
    max_tokens: int | None = None
    messages: list[MessageParam] | None = None
    system: Any = None
    stream: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] | None = None
    tools: list[Tool] | None = None
    tool_choice: Any = None
    thinking: ThinkingConfig | None = None
    metadata: Any = None  # ignored
    output_config: OutputConfig | None = None


class CountTokensRequest(Body):
    model: str | None = None
    messages: list[MessageParam] | None = None
    system: Any = None
    tools: list[Tool] | None = None
    tool_choice: Any = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfig | None = None


_MESSAGES = msgspec.json.Decoder(MessagesRequest)
_COUNT = msgspec.json.Decoder(CountTokensRequest)


class MessagesTranslation(msgspec.Struct, frozen=True, kw_only=True):
    """An Anthropic request as the planner takes it."""

    request: ChatRequest
    tool_choice: ToolChoice
    stream: bool
    think_requested: bool  # drop `think` silently when the model cannot think (relax_thinking)
    estimated_input_tokens: int  # Ollama's len/4 guess, for message_start before the real count
    defaults: dict[str, Any] = {}  # Anthropic implies no sampling defaults (same shape as the others)


def messages_request(body: bytes) -> MessagesTranslation:
    """A `/v1/messages` body (AnthropicMessagesMiddleware + FromMessagesRequest)."""
    r = decode_body(body, _MESSAGES)
    if not r.model:
        raise BadRequest("model is required")
    if r.max_tokens is None or r.max_tokens <= 0:
        raise BadRequest("max_tokens is required and must be positive")
    if not r.messages:
        raise BadRequest("messages is required")
    options: dict[str, Any] = {"num_predict": r.max_tokens}
    if r.temperature is not None:
        options["temperature"] = r.temperature
    if r.top_p is not None:
        options["top_p"] = r.top_p
    if r.top_k is not None:
        options["top_k"] = r.top_k
    if r.stop_sequences:
        options["stop"] = r.stop_sequences
    return _translate(r, options, bool(r.stream))


def count_tokens_request(body: bytes) -> MessagesTranslation:
    """A `/v1/messages/count_tokens` body as the chat whose rendered prompt the planner counts
    (Ollama only estimates, in its Claude Desktop proxy)."""
    r = decode_body(body, _COUNT)
    if not r.model:
        raise BadRequest("model is required")
    if not r.messages:
        raise BadRequest("messages is required")
    return _translate(r, {}, False)


def count_tokens_response(input_tokens: int) -> dict[str, Any]:
    return {"input_tokens": input_tokens}


def _translate(
    r: MessagesRequest | CountTokensRequest, options: dict[str, Any], stream: bool
) -> MessagesTranslation:
    messages = _system(r.system)
    for msg in r.messages or ():
        messages.extend(_message(msg))
    tools = [_tool(t) for t in r.tools or () if not (t.type or "").startswith("web_search")] or None
    think: bool | str | None = None
    if r.thinking is not None and r.thinking.type == "enabled":
        think = True
    elif r.thinking is not None and r.thinking.type == "disabled":
        think = False
    elif r.output_config is not None:
        effort = (r.output_config.effort or "").strip().lower()
        effort = "high" if effort == "xhigh" else effort
        if effort in THINK_LEVELS:
            think = effort
    request = ChatRequest(
        model=r.model or "",
        messages=messages,
        stream=stream,
        tools=tools,
        options=options or None,
        think=think,
    )
    return MessagesTranslation(
        request=request,
        tool_choice=_tool_choice(r.tool_choice, tools),
        stream=stream,
        think_requested=think is True or isinstance(think, str),
        estimated_input_tokens=estimate_input_tokens(r),
    )


def _system(system: Any) -> list[Message]:
    """`system` as a string or text blocks (other block kinds are skipped)."""
    if isinstance(system, str):
        return [Message(role="system", content=system)] if system else []
    if isinstance(system, list):
        text = "".join(
            b["text"]
            for b in system
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        )
        return [Message(role="system", content=text)] if text else []
    return []


def _blocks(msg: MessageParam) -> list[ContentBlock]:
    if isinstance(msg.content, msgspec.UnsetType):
        raise BadRequest("unexpected end of JSON input")
    if msg.content is None or isinstance(msg.content, str):
        return [ContentBlock(type="text", text=msg.content or "")]
    return msg.content


def _message(msg: MessageParam) -> list[Message]:
    """convertMessage: a message's blocks as one Ollama message, with tool results as tool
    messages (before it for a user message, after it otherwise)."""
    role = (msg.role or "").lower()
    text, images, calls, thinking = "", [], [], ""
    results: list[Message] = []
    for block in _blocks(msg):
        kind = block.type
        if kind == "text":
            text += block.text or ""
        elif kind == "image":
            if block.source is None:
                raise BadRequest("invalid image source")
            images.append(_image(block.source))
        elif kind == "tool_use":
            if not block.id:
                raise BadRequest("tool_use block missing required 'id' field")
            if not block.name:
                raise BadRequest("tool_use block missing required 'name' field")
            calls.append(
                ToolCallIn(
                    id=block.id, function=ToolCallFunction(name=block.name, arguments=block.input or {})
                )
            )
        elif kind == "tool_result":
            content, result_images = _tool_result(block.content)
            results.append(
                Message(
                    role="tool", content=content, images=result_images, tool_call_id=block.tool_use_id or ""
                )
            )
        elif kind == "thinking":
            if block.thinking is not None:
                thinking = block.thinking
        elif kind == "server_tool_use":  # history of a built-in search
            calls.append(
                ToolCallIn(
                    id=block.id or "",
                    function=ToolCallFunction(name=block.name or "", arguments=block.input or {}),
                )
            )
        elif kind == "web_search_tool_result":
            results.append(
                Message(
                    role="tool",
                    content=_web_search_result(block.content),
                    tool_call_id=block.tool_use_id or "",
                )
            )
    out = list(results) if role == "user" else []
    if text or images or calls or thinking:
        out.append(
            Message(
                role=role, content=text, images=images or None, tool_calls=calls or None, thinking=thinking
            )
        )
    if role != "user":
        out.extend(results)
    return out


def _image(source: ImageSource) -> str:
    """resolveImageSource: only base64 sources."""
    if source.type != "base64":
        raise BadRequest(f"invalid image source type: {source.type or ''}. Only base64 images are supported.")
    try:
        go_base64.decode_string(source.data or "")
    except ValueError as exc:
        raise BadRequest(f"invalid base64 image data: {exc}") from None
    return source.data or ""


def _tool_result(content: Any) -> tuple[str, list[str] | None]:
    """convertToolResultContent: a string, or text and image blocks."""
    if isinstance(content, str):
        return content, None
    if not isinstance(content, list):
        return "", None
    text, images = "", []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            text += block["text"]
        elif block.get("type") == "image":
            raw = block.get("source")
            if not isinstance(raw, dict):
                raise BadRequest("invalid tool_result image source")
            source = ImageSource(
                **{k: v for k in ("type", "media_type", "data") if isinstance(v := raw.get(k), str)}
            )
            images.append(_image(source))
    return text, images or None


def _search_error(code: Any) -> str:
    return (
        f"web_search_tool_result_error: {code}"
        if isinstance(code, str) and code
        else "web_search_tool_result_error"
    )


def _web_search_result(content: Any) -> str:
    """formatWebSearchToolResultContent: prior search results as the text the model saw."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        lines = []
        for item in content:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "web_search_result":
                title, url = item.get("title"), item.get("url")
                lines.append(
                    f"- {title if isinstance(title, str) else ''}: {url if isinstance(url, str) else ''}\n"
                )
            elif item.get("type") == "web_search_tool_result_error":
                return _search_error(item.get("error_code"))
        return "".join(lines)
    if isinstance(content, dict) and content.get("type") == "web_search_tool_result_error":
        return _search_error(content.get("error_code"))
    return go_json.marshal(content)


def _tool(t: Tool) -> dict[str, Any]:
    """convertTool: `input_schema` becomes the function's parameters."""
    schema = t.input_schema
    if schema is not None and not isinstance(schema, dict):
        raise BadRequest(
            f"invalid input_schema for tool {go_quote(t.name or '')}: json: cannot unmarshal "
            f"{go_json.kind(schema)} into Go value of type api.ToolFunctionParameters"
        )
    fn: dict[str, Any] = {"name": t.name or ""}
    if t.description:
        fn["description"] = t.description
    fn["parameters"] = schema if schema is not None else {"type": "object", "properties": {}}
    return {"type": "function", "function": fn}


_CHOICE_MODES: dict[str, Literal["auto", "none", "required"]] = {
    "auto": "auto",
    "any": "required",
    "none": "none",
}


def _tool_choice(value: Any, tools: list[dict[str, Any]] | None) -> ToolChoice:
    """Anthropic's `tool_choice` (`auto`, `any`, `tool` with a name, `none`) as a ToolChoice;
    `disable_parallel_tool_use` is accepted and not enforced."""
    if value is None:
        return AUTO
    if not isinstance(value, dict):
        raise BadRequest(f'invalid tool_choice: expected an object with a "type", got {go_json.kind(value)}')
    kind = value.get("type")
    if kind is None:
        raise BadRequest('invalid tool_choice: the object has no "type"')
    if kind == "tool":
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise BadRequest('tool_choice of type "tool" needs the tool\'s name')
        return checked_tool_choice(ToolChoice(mode="required", name=name), tools)
    if isinstance(kind, str) and kind in _CHOICE_MODES:
        return checked_tool_choice(ToolChoice(mode=_CHOICE_MODES[kind]), tools)
    shown = go_quote(kind) if isinstance(kind, str) else go_json.kind(kind)
    raise BadRequest(f'invalid tool_choice type: {shown} (must be "auto", "any", "tool" or "none")')


# --- Ollama's input-token estimate (EstimateCountTokens: bytes / 4) ---------------------------------


def _block_marshal_len(b: ContentBlock) -> int:
    """len(json.Marshal(block)) for a tool_use/tool_result block, fields in Go's order."""
    fields: list[tuple[str, Any]] = [("type", b.type or ""), ("text", b.text), ("id", b.id or None)]
    fields += [("name", b.name or None), ("input", b.input or None), ("tool_use_id", b.tool_use_id or None)]
    fields += [("content", b.content or None), ("is_error", b.is_error or None), ("thinking", b.thinking)]
    return len(go_json.marshal({k: v for k, v in fields if v is not None}).encode())


def _block_len(b: ContentBlock) -> int:
    n = len((b.text or "").encode()) + len((b.thinking or "").encode())
    if b.type in ("tool_use", "tool_result"):
        n += _block_marshal_len(b)
    return n


def _content_len(content: Any) -> int:
    if content is None or isinstance(content, msgspec.UnsetType):
        return 0
    if isinstance(content, str):
        return len(content.encode())
    if isinstance(content, list):
        total = 0
        for item in content:
            if isinstance(item, ContentBlock):
                total += _block_len(item)
            elif isinstance(item, dict):
                try:
                    total += _block_len(msgspec.convert(item, ContentBlock))
                except msgspec.ValidationError:
                    continue
        return total
    return len(go_json.marshal(content).encode())


def estimate_input_tokens(r: MessagesRequest | CountTokensRequest) -> int:
    """Ollama's rough token count of a request (bytes / 4, at least 1 when there is anything)."""
    total = _content_len(r.system)
    for msg in r.messages or ():
        total += len((msg.role or "").encode()) + _content_len(msg.content)
    for t in r.tools or ():
        schema = len(go_json.marshal(t.input_schema).encode()) if t.input_schema is not None else 0
        total += len((t.name or "").encode()) + len((t.description or "").encode()) + schema
    tokens = total // 4
    if tokens == 0 and (r.messages or r.system is not None):
        tokens = 1
    return tokens


# --- answers ---------------------------------------------------------------------------------------


def message_id(rng: random.Random | None = None) -> str:
    """`msg_<24 hex>` (GenerateMessageID)."""
    return hex_id("msg", new_rng(rng))


def stop_reason(done_reason: str, tool_calls: bool) -> str:
    """mapStopReason: tool calls win; `stop` ends the turn; `length` is max_tokens."""
    if tool_calls:
        return "tool_use"
    if done_reason == "stop":
        return "end_turn"
    if done_reason == "length":
        return "max_tokens"
    return "stop_sequence" if done_reason else ""


def _usage(chunk: Chunk) -> dict[str, Any]:
    cached = chunk.prompt_eval_cached_count
    return {
        "input_tokens": chunk.prompt_eval_count - cached,
        "output_tokens": chunk.eval_count,
        "cache_read_input_tokens": cached,
    }


def _thinking_block(text: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": text, "signature": ""}


def messages_response(
    chunk: Chunk, *, message_id: str, model: str, rng: random.Random | None = None
) -> dict[str, Any]:
    """A non-streamed Message from the collected generation (ToMessagesResponse)."""
    content: list[dict[str, Any]] = []
    if chunk.thinking:
        content.append(_thinking_block(chunk.thinking))
    if chunk.content:
        content.append({"type": "text", "text": chunk.content})
    calls = with_ids(chunk.tool_calls, new_rng(rng))
    content.extend({"type": "tool_use", "id": tc.id, "name": tc.name, "input": tc.arguments} for tc in calls)
    body: dict[str, Any] = {"id": message_id, "type": "message", "role": "assistant", "model": model}
    body["content"] = content
    reason = stop_reason(chunk.done_reason, bool(calls))
    if reason:
        body["stop_reason"] = reason
    body["usage"] = _usage(chunk)
    return body


class MessagesStreamWriter:
    """One streamed Message (Go's anthropic.StreamConverter): each Chunk in, Anthropic's events out
    (`event: x\\ndata: {...}\\n\\n`): message_start, a content block per thinking run, text run and
    tool call (start, deltas, stop), then message_delta with the stop reason and usage, and
    message_stop.

    `input_tokens` is what message_start reports when the first chunk carries no count: the
    prompt's token count if the caller knows it, else `estimated_input_tokens`.
    """

    def __init__(
        self, *, message_id: str, model: str, input_tokens: int = 0, rng: random.Random | None = None
    ) -> None:
        self.id = message_id
        self.model = model
        self._estimate = input_tokens
        self._rng = new_rng(rng)
        self._first = True
        self._index = 0
        self._thinking_started = False
        self._thinking_done = False
        self._text_started = False
        self._sent: set[str] = set()
        self._out = bytearray()

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        self._out += sse_event(kind, data)

    def _stop_block(self) -> None:
        self._event("content_block_stop", {"type": "content_block_stop", "index": self._index})

    def _start_block(self, block: dict[str, Any]) -> None:
        self._event(
            "content_block_start",
            {"type": "content_block_start", "index": self._index, "content_block": block},
        )

    def _delta(self, delta: dict[str, Any]) -> None:
        self._event(
            "content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta}
        )

    def _close_thinking(self) -> None:
        if self._thinking_started and not self._thinking_done:
            self._thinking_done = True
            self._stop_block()
            self._index += 1

    def _close_text(self) -> None:
        if self._text_started:
            self._stop_block()
            self._index += 1
            self._text_started = False

    def feed(self, chunk: Chunk) -> bytes:
        if not has_output(chunk):
            return b""
        if self._first:
            self._first = False
            tokens = chunk.prompt_eval_count - chunk.prompt_eval_cached_count or self._estimate
            message: dict[str, Any] = {
                "id": self.id,
                "type": "message",
                "role": "assistant",
                "model": self.model,
            }
            message["content"] = []
            message["usage"] = {"input_tokens": tokens, "output_tokens": 0}
            self._event("message_start", {"type": "message_start", "message": message})
        if chunk.thinking and not self._thinking_done:
            self._close_text()
            if not self._thinking_started:
                self._thinking_started = True
                self._start_block(_thinking_block(""))
            self._delta({"type": "thinking_delta", "thinking": chunk.thinking})
        if chunk.content:
            self._close_thinking()
            if not self._text_started:
                self._text_started = True
                self._start_block({"type": "text", "text": ""})
            self._delta({"type": "text_delta", "text": chunk.content})
        for tc in with_ids(chunk.tool_calls, self._rng):
            if tc.id in self._sent:
                continue
            self._close_thinking()
            self._close_text()
            self._start_block({"type": "tool_use", "id": tc.id, "name": tc.name, "input": {}})
            self._delta({"type": "input_json_delta", "partial_json": go_json.marshal(tc.arguments)})
            self._stop_block()
            self._sent.add(tc.id)
            self._index += 1
        if chunk.done:
            if self._text_started or (self._thinking_started and not self._thinking_done):
                self._stop_block()
            reason = stop_reason(chunk.done_reason, bool(self._sent))
            delta = {"stop_reason": reason} if reason else {}
            self._event("message_delta", {"type": "message_delta", "delta": delta, "usage": _usage(chunk)})
            self._event("message_stop", {"type": "message_stop"})
        out, self._out = bytes(self._out), bytearray()
        return out

    def error(self, message: str) -> bytes:
        """A failure after the stream began, as Anthropic streams one (`event: error`)."""
        return sse_event("error", {"type": "error", "error": {"type": "api_error", "message": message}})
