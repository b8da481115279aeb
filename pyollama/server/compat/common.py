"""What the dialects share: error bodies, body decoding with Go's messages where Ollama's are Go's,
tool-call arguments, reasoning effort, image data URIs, ids, chunk collection, SSE framing. Go's own
library behaviour (base64, encoding/json, %T) is `pyollama.go`'s.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec

from pyollama.errors import BadRequest
from pyollama.go import base64 as go_base64
from pyollama.go import json as go_json
from pyollama.go.strconv import quote as go_quote
from pyollama.runner.types import Chunk, TokenLogprob, ToolCall
from pyollama.server.planner import ToolChoice
from pyollama.think import LEVELS as THINK_LEVELS
from pyollama.think import Think

T = TypeVar("T")

# --- error bodies ----------------------------------------------------------------------------------

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


def openai_error_body(status: int, message: str) -> tuple[int, dict[str, Any]]:
    """`{"error":{"message","type","param":null,"code":null}}` (Go's openai.NewError); the
    Responses API answers errors in this shape too."""
    error = {"message": message, "type": _OPENAI_TYPES.get(status, "api_error"), "param": None, "code": None}
    return status, {"error": error}


def anthropic_error_body(
    status: int, message: str, *, rng: random.Random | None = None
) -> tuple[int, dict[str, Any]]:
    """`{"type":"error","error":{"type","message"},"request_id":"req_<24 hex>"}` (anthropic.NewError)."""
    error = {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message}
    return status, {"type": "error", "error": error, "request_id": hex_id("req", new_rng(rng))}


# --- ids -------------------------------------------------------------------------------------------

_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_rng(rng: random.Random | None) -> random.Random:
    """The caller's random source (tests pass a seeded one), or a fresh OS-seeded one."""
    return rng if rng is not None else random.Random()


def hex_id(prefix: str, rng: random.Random) -> str:
    """`<prefix>_<24 hex digits>`: anthropic.generateID's 12 random bytes."""
    return f"{prefix}_{rng.getrandbits(96):024x}"


def tool_call_id(rng: random.Random) -> str:
    """`call_<8 of [a-z0-9]>` (Go's toolCallId in server/routes.go), for calls the parser left
    without an id."""
    return "call_" + "".join(rng.choice(_ID_CHARS) for _ in range(8))


def with_ids(calls: list[ToolCall] | None, rng: random.Random) -> list[ToolCall]:
    """The chunk's tool calls, each with an id (Ollama's chat handler gives every call one)."""
    out = []
    for tc in calls or ():
        if not tc.id:
            tc = ToolCall(name=tc.name, arguments=tc.arguments, id=tool_call_id(rng), index=tc.index)
        out.append(tc)
    return out


# --- decoding --------------------------------------------------------------------------------------


class Body(msgspec.Struct, kw_only=True):
    """Base of the dialects' request Structs. Their fields are all optional and nullable: Go's
    encoding/json leaves a field alone on `null`, whatever its type."""


def decode_body(body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """A request body as its dialect's Struct; Gin's ShouldBindJSON says `EOF` for an empty body,
    type errors name the field (`$.messages[0].role`)."""
    if not body.strip():
        raise BadRequest("EOF")
    try:
        return decoder.decode(body)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise BadRequest(str(exc)) from None


def convert(obj: Any, kind: type[T], where: str = "") -> T:
    """A decoded JSON value as a Struct (for union-typed fields Go decodes in a second step)."""
    try:
        return msgspec.convert(obj, kind)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"{where}{exc}") from None


def json_object(text: str) -> dict[str, Any] | None:
    """Tool-call arguments from their JSON string, as `json.Unmarshal` into Ollama's arguments map
    fills them (top level in the text's order, nested maps sorted, numbers float64); None for `null`;
    ValueError with Go's message otherwise. A value that is not an object gets the wording of the
    `map[string]any` the arguments were before they became an ordered map, which clients match on."""
    value = go_json.decode(text)
    if value is not None and not isinstance(value, dict):
        raise ValueError(
            f"json: cannot unmarshal {go_json.kind(value)} into Go value of type map[string]interface {{}}"
        )
    return None if value is None else go_json.arguments_from_value(value)


# --- shared translations ---------------------------------------------------------------------------


def think_from_reasoning_effort(effort: str) -> Think:
    """OpenAI's reasoning effort as Ollama's think value (thinkFromReasoningEffort in
    openai/openai.go): OpenAI's scale runs past Ollama's at both ends, so the outer tiers clamp."""
    if effort == "":
        return None
    if effort == "none":
        return False
    if effort == "minimal":
        return "low"
    if effort in THINK_LEVELS:
        return effort
    if effort in ("xhigh", "ultra"):
        return "max"
    raise BadRequest(
        f"invalid reasoning value: {go_quote(effort)} "
        '(must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")'
    )


_IMAGE_PREFIXES = tuple(f"data:image/{t};base64," for t in ("jpeg", "jpg", "png", "webp"))


def decode_image_url(url: str) -> str:
    """A base64 data URI as the base64 image Ollama's messages carry (decodeImageURL): remote
    URLs are refused, a blank mime type is allowed like /api/chat's bare base64."""
    if url.startswith(("http://", "https://")):
        raise BadRequest("image URLs are not currently supported, please use base64 encoded data instead")
    if url.startswith("data:;base64,"):
        data = url[len("data:;base64,") :]
    else:
        prefix = next((p for p in _IMAGE_PREFIXES if url.startswith(p)), None)
        if prefix is None:
            raise BadRequest("invalid image input")
        data = url[len(prefix) :]
    try:
        raw = go_base64.decode_string(data)
    except ValueError:
        raise BadRequest("invalid image input") from None
    return base64.b64encode(raw).decode("ascii")


def function_tool_names(tools: list[dict[str, Any]] | None) -> set[str]:
    """Names of the functions in Ollama-shaped tools (`{"type":"function","function":{"name"}}`)."""
    names = set()
    for tool in tools or ():
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            names.add(fn["name"])
    return names


def checked_tool_choice(choice: ToolChoice, tools: list[dict[str, Any]] | None) -> ToolChoice:
    """Reject a choice that cannot be honoured: one that needs tools when none are given, or names
    a function that is not among them (Ollama ignores tool_choice; pyollama constrains output)."""
    if choice.mode != "required":
        return choice
    if not tools:
        raise BadRequest("tool_choice requires tools: none were given")
    if choice.name is not None and choice.name not in function_tool_names(tools):
        raise BadRequest(f"tool_choice names function {go_quote(choice.name)}, which is not in tools")
    return choice


# --- answers ---------------------------------------------------------------------------------------


def collect(chunks: Iterable[Chunk]) -> Chunk:
    """One chunk holding a whole generation (a non-streamed answer): the text, thinking, tool
    calls and logprobs of every chunk, the done reason and counters of the last one."""
    content: list[str] = []
    thinking: list[str] = []
    calls: list[ToolCall] = []
    logprobs: list[TokenLogprob] = []
    last = Chunk(done=True)
    for chunk in chunks:
        content.append(chunk.content)
        thinking.append(chunk.thinking)
        calls.extend(chunk.tool_calls or ())
        logprobs.extend(chunk.logprobs or ())
        last = chunk
    return Chunk(
        content="".join(content),
        thinking="".join(thinking),
        tool_calls=calls or None,
        logprobs=logprobs or None,
        done=True,
        done_reason=last.done_reason,
        prompt_eval_count=last.prompt_eval_count,
        prompt_eval_cached_count=last.prompt_eval_cached_count,
        prompt_eval_duration=last.prompt_eval_duration,
        eval_count=last.eval_count,
        eval_duration=last.eval_duration,
    )


def has_output(chunk: Chunk) -> bool:
    """Whether Ollama's handlers pass a chunk on: chunks with nothing in them are not sent."""
    return bool(chunk.content or chunk.thinking or chunk.tool_calls or chunk.logprobs or chunk.done)


_encoder = msgspec.json.Encoder()


def sse_data(obj: Any) -> bytes:
    """`data: <json>\\n\\n` (the OpenAI chat and completions framing)."""
    return b"data: " + _encoder.encode(obj) + b"\n\n"


def sse_event(event: str, obj: Any) -> bytes:
    """`event: <type>\\ndata: <json>\\n\\n` (the Responses and Anthropic framing)."""
    return b"event: " + event.encode() + b"\ndata: " + _encoder.encode(obj) + b"\n\n"
