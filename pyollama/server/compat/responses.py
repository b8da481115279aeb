"""OpenAI's `/v1/responses`, the stateless subset Ollama serves (Go's openai/responses.go and
ResponsesMiddleware): the request as an Ollama chat, the answer as a Response object or as the
stream of Response events.

Ollama ignores `previous_response_id`, `conversation` and `include`, echoes `background` and
`truncation`, and so does this. Its built-in `web_search` tool runs searches on ollama.com, which
pyollama cannot, so that tool is left out of the request. Three places differ from Ollama on
purpose, each because Ollama's stream would otherwise contradict itself:
- text that comes before a tool call is closed as its own message item before the function_call
  items (Ollama leaves that item open and gives the call the same output_index), and the
  non-streamed response keeps that message too, as the streamed one does;
- text in the same chunk as a tool call is kept, not dropped;
- `tool_choice` is echoed as the request gave it (Ollama always echoes `auto`), since pyollama
  honours it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import msgspec

from pyollama.errors import BadRequest
from pyollama.go import json as go_json
from pyollama.go.strconv import quote as go_quote
from pyollama.runner.types import Chunk, ToolCall
from pyollama.server.compat.common import (
    Body,
    convert,
    decode_body,
    decode_image_url,
    has_output,
    json_object,
    new_rng,
    think_from_reasoning_effort,
    with_ids,
)
from pyollama.server.compat.openai import openai_tool_calls, tool_choice
from pyollama.server.planner import ToolChoice
from pyollama.server.schemas import ChatRequest, Message, ToolCallFunction, ToolCallIn

# --- request body (Go's openai.ResponsesRequest) ---------------------------------------------------


class ResponsesReasoning(Body):
    effort: str | None = None
    generate_summary: str | None = None
    summary: str | None = None


class ResponsesTextFormat(Body):
    type: str | None = None
    name: str | None = None
    schema: Any = None
    strict: bool | None = None


class ResponsesText(Body):
    format: ResponsesTextFormat | None = None


class ResponsesTool(Body):
    type: str | None = None
    name: str | None = None
    description: str | None = None
    strict: bool | None = None
    parameters: dict[str, Any] | None = None
    tools: list[ResponsesTool] | None = None  # a "namespace" tool's member functions


class ResponsesRequest(Body):
    model: str | None = None
    background: bool | None = None
    conversation: Any = None  # not supported: ignored, as Ollama does
    include: Any = None
    input: Any = None  # a string, or a list of input items
    instructions: str | None = None
    max_output_tokens: int | None = None
    reasoning: ResponsesReasoning | None = None
    temperature: float | None = None
    text: ResponsesText | None = None
    top_p: float | None = None
    truncation: str | None = None
    tools: list[ResponsesTool] | None = None
    tool_choice: Any = None
    stream: bool | None = None


_REQUEST = msgspec.json.Decoder(ResponsesRequest)


class _Content(Body):
    type: str = ""
    text: str | None = None
    image_url: str | None = None


class _FunctionCall(Body):
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None


class _Reasoning(Body):
    encrypted_content: str | None = None


class _InputMessage(msgspec.Struct, kw_only=True):
    role: str
    content: list[_Content]


class _FunctionCallOutput(msgspec.Struct, kw_only=True):
    call_id: str
    output: str
    items: list[_Content] | None


_Item = _InputMessage | _FunctionCall | _FunctionCallOutput | _Reasoning | None
_CONTENT_TYPES = ("input_text", "input_image", "output_text", "input_file")
_TYPE_ROLE = 'struct { Type string "json:\\"type\\""; Role string "json:\\"role\\"" }'
_TYPE_ONLY = 'struct { Type string "json:\\"type\\"" }'


class ResponsesTranslation(msgspec.Struct, frozen=True, kw_only=True):
    """A Responses request as the planner takes it; `source` is kept to echo fields back."""

    request: ChatRequest
    tool_choice: ToolChoice
    defaults: dict[str, Any]  # under the Modelfile, not over it
    stream: bool
    source: ResponsesRequest


def responses_request(body: bytes) -> ResponsesTranslation:
    """A `/v1/responses` body (ResponsesMiddleware + FromResponsesRequest)."""
    r = decode_body(body, _REQUEST)
    text, items = _input(r.input)
    messages: list[Message] = []
    if r.instructions:
        messages.append(Message(role="system", content=r.instructions))
    if text:
        messages.append(Message(role="user", content=text))
    messages.extend(_item_messages(items))

    options: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    if r.temperature is not None:
        options["temperature"] = r.temperature
    else:
        defaults["temperature"] = 1.0
    if r.top_p is not None:  # Ollama gives no top_p default here (a TODO in responses.go)
        options["top_p"] = r.top_p
    if r.max_output_tokens is not None:
        options["num_predict"] = r.max_output_tokens
    think = think_from_reasoning_effort((r.reasoning.effort if r.reasoning else None) or "")
    tools = [tool for t in r.tools or () if t.type != "web_search" for tool in _expand(t)] or None
    fmt = None
    if r.text is not None and r.text.format is not None and r.text.format.type == "json_schema":
        schema = r.text.format.schema
        fmt = schema if isinstance(schema, dict | str) else None
    stream = bool(r.stream)
    request = ChatRequest(
        model=r.model or "",
        messages=messages,
        stream=stream,
        format=fmt,
        tools=tools,
        options=options or None,
        think=think,
    )
    choice = tool_choice(r.tool_choice, tools, flat_name=True)
    return ResponsesTranslation(
        request=request, tool_choice=choice, defaults=defaults, stream=stream, source=r
    )


def _input(value: Any) -> tuple[str, list[_Item]]:
    """ResponsesInput.UnmarshalJSON: a string, or items each read by their `type` (or, without
    one, as a message when they have a `role`)."""
    if value is None or isinstance(value, str):
        return value or "", []
    if not isinstance(value, list):
        raise BadRequest(
            "input must be a string or array: json: cannot unmarshal "
            f"{go_json.kind(value)} into Go value of type []json.RawMessage"
        )
    return "", [_input_item(i, raw) for i, raw in enumerate(value)]


def _input_item(i: int, raw: Any) -> _Item:
    where = f"input[{i}]: "
    if not isinstance(raw, dict):
        raise BadRequest(
            f"{where}json: cannot unmarshal {go_json.kind(raw)} into Go value of type {_TYPE_ROLE}"
        )
    kind = raw.get("type") or ""
    role = raw.get("role") or ""
    if kind == "" and role != "":
        kind = "message"
    if kind == "message":
        if not isinstance(role, str):
            raise BadRequest(
                f"{where}json: cannot unmarshal {go_json.kind(role)} into Go value of type string"
            )
        return _InputMessage(role=role, content=_contents(raw.get("content"), where, "content"))
    if kind == "function_call":
        return convert(raw, _FunctionCall, where)
    if kind == "function_call_output":
        call_id = convert(raw.get("call_id") or "", str, where)
        output = raw.get("output")
        if output is None or isinstance(output, str):
            return _FunctionCallOutput(call_id=call_id, output=output or "", items=None)
        items = _contents(output, where, "output")
        text = "".join(c.text or "" for c in items if c.type in ("input_text", "output_text"))
        return _FunctionCallOutput(call_id=call_id, output=text, items=items)
    if kind == "reasoning":
        return convert(raw, _Reasoning, where)
    if kind == "web_search_call":
        return None  # history of a built-in search: the next assistant message carries its result
    if kind == "":
        raise BadRequest(f"{where}input item missing required 'type' field")
    raise BadRequest(f"{where}unknown input item type: {go_quote(str(kind))}")


def _contents(value: Any, where: str, field: str) -> list[_Content]:
    """A message's `content` (or a tool output): a string is one input_text."""
    if value is None:
        return []
    if isinstance(value, str):
        return [_Content(type="input_text", text=value)]
    if not isinstance(value, list):
        raise BadRequest(
            f"{where}{field} must be a string or array: json: cannot unmarshal "
            f"{go_json.kind(value)} into Go value of type []json.RawMessage"
        )
    out = []
    for j, raw in enumerate(value):
        at = f"{where}{field}[{j}]: "
        if not isinstance(raw, dict):
            raise BadRequest(
                f"{at}json: cannot unmarshal {go_json.kind(raw)} into Go value of type {_TYPE_ONLY}"
            )
        if raw.get("type") not in _CONTENT_TYPES:
            raise BadRequest(f"{at}unknown content type: {raw.get('type') or ''}")
        out.append(convert(raw, _Content, at))
    return out


def _content(contents: list[_Content]) -> tuple[str, list[str] | None]:
    """convertResponsesContent: the text parts joined, images decoded, files refused."""
    text, images = "", []
    for c in contents:
        if c.type in ("input_text", "output_text"):
            text += c.text or ""
        elif c.type == "input_image":
            if c.image_url:  # file_id images are not supported: skipped
                images.append(decode_image_url(c.image_url))
        elif c.type == "input_file":
            raise BadRequest("file inputs are not currently supported")
    return text, images or None


def _item_messages(items: list[_Item]) -> list[Message]:
    """The item list as chat messages (FromResponsesRequest): reasoning joins the next assistant
    message, function calls join the assistant message before them, and an assistant message
    replayed between a call and its output merges into the call's message."""
    messages: list[Message] = []
    pending = ""
    for i, item in enumerate(items):
        if isinstance(item, _Reasoning):
            pending = item.encrypted_content or ""
        elif isinstance(item, _InputMessage):
            text, images = _content(item.content)
            msg = Message(role=item.role, content=text, images=images)
            if msg.role == "assistant" and pending:
                msg.thinking, pending = pending, ""
            nxt = items[i + 1] if i + 1 < len(items) else None
            answered = nxt.call_id if isinstance(nxt, _FunctionCallOutput) else ""
            if msg.role == "assistant" and answered and messages:
                last = messages[-1]
                if last.role == "assistant" and any(tc.id == answered for tc in last.tool_calls or ()):
                    if last.content and msg.content:
                        last.content += "\n"
                    last.content += msg.content
                    last.images = [*(last.images or ()), *(msg.images or ())] or None
                    if msg.thinking:
                        last.thinking = msg.thinking
                    continue
            messages.append(msg)
        elif isinstance(item, _FunctionCall):
            args: dict[str, Any] | None = None
            if item.arguments:
                try:
                    args = json_object(item.arguments)
                except ValueError as exc:
                    raise BadRequest(f"failed to parse function call arguments: {exc}") from None
            call = ToolCallIn(
                id=item.call_id or "", function=ToolCallFunction(name=item.name or "", arguments=args or {})
            )
            if messages and messages[-1].role == "assistant":
                last = messages[-1]
                last.tool_calls = [*(last.tool_calls or ()), call]
            else:
                last = Message(role="assistant", tool_calls=[call])
                messages.append(last)
            if pending:
                last.thinking, pending = pending, ""
        elif isinstance(item, _FunctionCallOutput):
            content, images = item.output, None
            if item.items:
                content, images = _content(item.items)
            messages.append(Message(role="tool", content=content, images=images, tool_call_id=item.call_id))
    if pending:
        messages.append(Message(role="assistant", thinking=pending))
    return messages


def _expand(t: ResponsesTool) -> list[dict[str, Any]]:
    """convertTools: a `namespace` tool becomes its members, named `<namespace>.<member>`."""
    if t.type != "namespace":
        fn: dict[str, Any] = {"name": t.name or ""}
        if t.description:
            fn["description"] = t.description
        fn["parameters"] = t.parameters if t.parameters is not None else {"type": "object", "properties": {}}
        return [{"type": t.type or "", "function": fn}]
    out = []
    prefix = f"{t.name}." if t.name else ""
    for member in t.tools or ():
        for tool in _expand(member):
            name = tool["function"]["name"]
            if prefix and not name.startswith(prefix):
                tool["function"]["name"] = prefix + name
            out.append(tool)
    return out


# --- answers ---------------------------------------------------------------------------------------


def response_id(rng: random.Random | None = None) -> str:
    """`resp_<0..999998>` (ResponsesMiddleware's rand.Intn(999999))."""
    return f"resp_{new_rng(rng).randrange(999999)}"


def message_item_id(rng: random.Random | None = None) -> str:
    return f"msg_{new_rng(rng).randrange(999999)}"


def _usage(chunk: Chunk) -> dict[str, Any]:
    return {
        "input_tokens": chunk.prompt_eval_count,
        "output_tokens": chunk.eval_count,
        "total_tokens": chunk.prompt_eval_count + chunk.eval_count,
        # cache_write_tokens: the OpenAI SDK requires it (Ollama predates it); nothing is written.
        "input_tokens_details": {"cached_tokens": chunk.prompt_eval_cached_count, "cache_write_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }


def _text_format(source: ResponsesRequest) -> dict[str, Any]:
    fmt = source.text.format if source.text is not None else None
    if fmt is None:
        return {"type": "text"}
    out: dict[str, Any] = {"type": fmt.type or ""}
    if fmt.name:
        out["name"] = fmt.name
    if fmt.schema is not None:
        out["schema"] = fmt.schema
    if fmt.strict is not None:
        out["strict"] = fmt.strict
    return out


def _tool_echo(t: ResponsesTool, *, nested: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": t.type or "",
        "name": t.name or "",
        "description": t.description,
        "strict": t.strict,
        "parameters": t.parameters,
    }
    if nested and t.tools:
        out["tools"] = [_tool_echo(m, nested=True) for m in t.tools]
    return out


def _tool_choice_echo(choice: ToolChoice) -> Any:
    if choice.name is not None:
        return {"type": "function", "name": choice.name}
    return choice.mode


def _response(
    source: ResponsesRequest,
    *,
    rid: str,
    choice: ToolChoice,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    created_at: int,
    completed_at: int | None,
    streamed: bool,
) -> dict[str, Any]:
    """The Response object, echoing the request (ToResponse; buildResponseObject when streamed)."""
    reasoning: dict[str, Any] | None = None
    r = source.reasoning
    if r is not None and (r.effort or r.summary):
        if streamed:
            reasoning = {"effort": r.effort or None, "summary": r.summary or None}
        else:
            reasoning = {k: v for k, v in (("effort", r.effort), ("summary", r.summary)) if v}
    return {
        "id": rid,
        "object": "response",
        "created_at": created_at,
        "completed_at": completed_at,
        "status": status,
        "incomplete_details": None,
        "model": source.model or "",
        "previous_response_id": None,
        "instructions": source.instructions or None,
        "output": output,
        "error": None,
        "tools": [_tool_echo(t, nested=not streamed) for t in source.tools or ()],
        "tool_choice": _tool_choice_echo(choice),
        "truncation": source.truncation if source.truncation is not None else "disabled",
        "parallel_tool_calls": True,
        "text": {"format": _text_format(source)},
        "top_p": source.top_p if source.top_p is not None else 1.0,
        "presence_penalty": 0,
        "frequency_penalty": 0,
        "top_logprobs": 0,
        "temperature": source.temperature if source.temperature is not None else 1.0,
        "reasoning": reasoning,
        "usage": usage,
        "max_output_tokens": source.max_output_tokens,
        "max_tool_calls": None,
        "store": False,
        "background": bool(source.background),
        "service_tier": "default",
        "metadata": {},
        "safety_identifier": None,
        "prompt_cache_key": None,
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = [_text_part(text)] if status == "completed" else []
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _reasoning_item(item_id: str, thinking: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": thinking}],
        "encrypted_content": thinking,  # plain text, as Ollama sends it
    }


def _call_item(item_id: str, call: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    fn = call["function"]
    arguments = fn["arguments"] if status == "completed" else ""
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call["id"],
        "name": fn["name"],
        "arguments": arguments,
    }


def response_object(
    chunk: Chunk,
    translation: ResponsesTranslation,
    *,
    response_id: str,
    item_id: str,
    created_at: int,
    completed_at: int,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """A non-streamed Response from the collected generation (ToResponse)."""
    output: list[dict[str, Any]] = []
    if chunk.thinking:
        output.append(_reasoning_item(f"rs_{response_id}", chunk.thinking))
    calls = openai_tool_calls(with_ids(chunk.tool_calls, new_rng(rng)))
    if not calls or chunk.content:
        output.append(_message_item(item_id, chunk.content))
    output.extend(_call_item(f"fc_{response_id}_{i}", call) for i, call in enumerate(calls))
    return _response(
        translation.source,
        rid=response_id,
        choice=translation.tool_choice,
        status="completed",
        output=output,
        usage=_usage(chunk),
        created_at=created_at,
        completed_at=completed_at,
        streamed=False,
    )


_sorted = msgspec.json.Encoder(order="sorted")  # Go marshals these events from maps: keys sorted


class ResponsesStreamWriter:
    """One streamed Response (Go's ResponsesStreamConverter): each Chunk in, the events to send
    out as `event: <type>\\ndata: <json>\\n\\n`, numbered by `sequence_number`."""

    def __init__(
        self,
        translation: ResponsesTranslation,
        *,
        response_id: str,
        item_id: str,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.source = translation.source
        self.choice = translation.tool_choice
        self.response_id = response_id
        self.item_id = item_id
        self._clock = clock
        self._rng = new_rng(rng)
        self._first = True
        self._seq = 0
        self._index = 0  # output_index of the next item
        self._text = ""
        self._content_started = False
        self._tool_calls_sent = False
        self._thinking = ""
        self._reasoning_id = ""
        self._completed: list[dict[str, Any]] = []
        self._out = bytearray()

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        data["type"] = kind
        data["sequence_number"] = self._seq
        self._seq += 1
        self._out += b"event: " + kind.encode() + b"\ndata: " + _sorted.encode(data) + b"\n\n"

    def _object(
        self, status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None
    ) -> dict[str, Any]:
        return _response(
            self.source,
            rid=self.response_id,
            choice=self.choice,
            status=status,
            output=output,
            usage=usage,
            created_at=int(self._clock()),
            completed_at=None,
            streamed=True,
        )

    def _start(self) -> None:
        if self._first:
            self._first = False
            self._event("response.created", {"response": self._object("in_progress", [], None)})
            self._event("response.in_progress", {"response": self._object("in_progress", [], None)})

    def feed(self, chunk: Chunk) -> bytes:
        if not has_output(chunk):
            return b""
        self._start()
        if chunk.thinking:
            self._finish_message()  # thinking after text opens a new item (Ollama reuses the index)
            self._reasoning(chunk.thinking)
        if chunk.content and not self._tool_calls_sent:
            self._text_delta(chunk.content)
        if chunk.tool_calls:
            self._finish_reasoning()
            self._finish_message()
            self._function_calls(with_ids(chunk.tool_calls, self._rng))
            self._tool_calls_sent = True
        if chunk.done:
            self._complete(chunk)
        out, self._out = bytes(self._out), bytearray()
        return out

    def _reasoning(self, thinking: str) -> None:
        if not self._reasoning_id:
            self._reasoning_id = f"rs_{self._rng.randrange(999999)}"
            item = {"id": self._reasoning_id, "type": "reasoning", "summary": []}
            self._event("response.output_item.added", {"output_index": self._index, "item": item})
        self._thinking += thinking
        self._event(
            "response.reasoning_summary_text.delta",
            {
                "item_id": self._reasoning_id,
                "output_index": self._index,
                "summary_index": 0,
                "delta": thinking,
            },
        )

    def _finish_reasoning(self) -> None:
        if not self._reasoning_id:
            return
        item = _reasoning_item(self._reasoning_id, self._thinking)
        index = self._index
        self._completed.append(item)
        self._event(
            "response.reasoning_summary_text.done",
            {
                "item_id": self._reasoning_id,
                "output_index": index,
                "summary_index": 0,
                "text": self._thinking,
            },
        )
        self._event("response.output_item.done", {"output_index": index, "item": item})
        self._thinking, self._reasoning_id = "", ""
        self._index += 1

    def _text_delta(self, content: str) -> None:
        self._finish_reasoning()
        if not self._content_started:
            self._content_started = True
            item = _message_item(self.item_id, "", status="in_progress")
            self._event("response.output_item.added", {"output_index": self._index, "item": item})
            self._event(
                "response.content_part.added",
                {
                    "item_id": self.item_id,
                    "output_index": self._index,
                    "content_index": 0,
                    "part": _text_part(""),
                },
            )
        self._text += content
        self._event(
            "response.output_text.delta",
            {
                "item_id": self.item_id,
                "output_index": self._index,
                "content_index": 0,
                "delta": content,
                "logprobs": [],
            },
        )

    def _message_done(self) -> dict[str, Any]:
        """output_text.done, content_part.done and output_item.done of the open message."""
        where = {"item_id": self.item_id, "output_index": self._index, "content_index": 0}
        item = _message_item(self.item_id, self._text)
        self._event("response.output_text.done", {**where, "text": self._text, "logprobs": []})
        self._event("response.content_part.done", {**where, "part": _text_part(self._text)})
        self._event("response.output_item.done", {"output_index": self._index, "item": item})
        return item

    def _finish_message(self) -> None:
        """FinishMessageItem: close the open message so later items get their own index."""
        if not self._content_started:
            return
        self._completed.append(self._message_done())
        self._content_started, self._text = False, ""
        self._index += 1
        self.item_id = f"msg_{self.response_id.removeprefix('resp_')}_{self._index}"

    def _function_calls(self, calls: list[ToolCall]) -> None:
        converted = openai_tool_calls(calls)
        for i, call in enumerate(converted):
            index = self._index + i
            fc_id = f"fc_{self._rng.randrange(999999)}_{i}"
            item = _call_item(fc_id, call)
            self._completed.append(item)
            self._event(
                "response.output_item.added",
                {"output_index": index, "item": _call_item(fc_id, call, "in_progress")},
            )
            where = {"item_id": fc_id, "output_index": index}
            self._event("response.function_call_arguments.delta", {**where, "delta": item["arguments"]})
            self._event("response.function_call_arguments.done", {**where, "arguments": item["arguments"]})
            self._event("response.output_item.done", {"output_index": index, "item": item})
        self._index += len(converted)

    def _complete(self, chunk: Chunk) -> None:
        self._finish_reasoning()
        output = list(self._completed)
        if self._content_started:
            output.append(self._message_done())
        response = self._object("completed", output, _usage(chunk))
        response["completed_at"] = int(self._clock())
        self._event("response.completed", {"response": response})

    def error(self, message: str) -> bytes:
        """A failure after the stream began: `response.failed` (opening events first if none
        were sent), the way Ollama's web-search writer reports one."""
        self._start()
        response = self._object("failed", list(self._completed), None)
        response["error"] = {"code": "server_error", "message": message}
        self._event("response.failed", {"response": response})
        out, self._out = bytes(self._out), bytearray()
        return out
