"""Wire types of Ollama's REST API as msgspec Structs, plus decoding with field-naming errors.

Field order and omit-when-empty behaviour follow Ollama's api/types.go so encoded bytes match: fields
without a default are always written, fields with a default are left out when they hold it
(`omit_defaults=True`), like Go's `omitempty`.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from pyollama.config import FOREVER
from pyollama.errors import BadRequest
from pyollama.go.time import DurationError, parse_duration
from pyollama.registry.types import Progress
from pyollama.store.model import ModelDetails as ModelDetails  # the store's, sent as it is
from pyollama.think import Think

T = TypeVar("T")


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


# --- shared pieces ---------------------------------------------------------------------------------


class ToolCallFunction(_Wire, kw_only=True, omit_defaults=True):
    name: str
    arguments: dict[str, Any] = {}
    index: int = 0


class ToolCallFunctionOut(msgspec.Struct, kw_only=True):
    """Encoded order as Ollama: index, name, arguments (index always present)."""

    index: int
    name: str
    arguments: dict[str, Any]


class ToolCallIn(_Wire, kw_only=True, omit_defaults=True):
    function: ToolCallFunction
    id: str = ""


class ToolCallOut(_Wire, kw_only=True, omit_defaults=True):
    id: str = ""
    function: ToolCallFunctionOut


class Message(_Wire, kw_only=True, omit_defaults=True):
    """A chat message as clients send it (role lower-cased after decoding)."""

    role: str
    content: str = ""
    thinking: str = ""
    images: list[str] | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_name: str = ""
    tool_call_id: str = ""


class MessageOut(_Wire, kw_only=True, omit_defaults=True):
    role: str
    content: str
    thinking: str = ""
    images: list[str] | None = None
    tool_calls: list[ToolCallOut] | None = None
    tool_name: str = ""
    tool_call_id: str = ""


class TopLogprob(_Wire, kw_only=True, omit_defaults=True):
    token: str
    logprob: float
    bytes: list[int] | None = None


class Logprob(_Wire, kw_only=True, omit_defaults=True):
    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] | None = None


# --- requests --------------------------------------------------------------------------------------

KeepAlive = float | str | None


class GenerateRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    prompt: str = ""
    suffix: str = ""
    system: str = ""
    template: str = ""
    context: list[int] | None = None
    stream: bool | None = None
    raw: bool = False
    format: str | dict[str, Any] | None = None
    keep_alive: KeepAlive = None
    images: list[str] | None = None
    options: dict[str, Any] | None = None
    think: Think = None
    truncate: bool | None = None
    shift: bool | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    debug_render_only: bool = msgspec.field(default=False, name="_debug_render_only")


class ChatRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    messages: list[Message] | None = None
    stream: bool | None = None
    format: str | dict[str, Any] | None = None
    keep_alive: KeepAlive = None
    tools: list[dict[str, Any]] | None = None
    options: dict[str, Any] | None = None
    think: Think = None
    truncate: bool | None = None
    shift: bool | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    debug_render_only: bool = msgspec.field(default=False, name="_debug_render_only")


class EmbedRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    input: Any = None  # str | list[str]; checked by the route for Ollama's message
    truncate: bool | None = None
    dimensions: int = 0
    keep_alive: KeepAlive = None
    options: dict[str, Any] | None = None


class EmbeddingsRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    prompt: str = ""
    keep_alive: KeepAlive = None
    options: dict[str, Any] | None = None


class ShowRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    name: str = ""  # deprecated
    verbose: bool = False
    system: str = ""
    options: dict[str, Any] | None = None


class CopyRequest(_Wire, kw_only=True, omit_defaults=True):
    source: str = ""
    destination: str = ""


class DeleteRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    name: str = ""


class CreateRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    name: str = ""  # deprecated
    from_: str = msgspec.field(default="", name="from")
    files: dict[str, str] | None = None
    adapters: dict[str, str] | None = None
    template: str | None = None
    system: str | None = None
    license: str | list[str] | None = None
    parameters: dict[str, Any] | None = None
    messages: list[Message] | None = None
    quantize: str = ""
    quantization: str = ""  # deprecated
    stream: bool | None = None
    renderer: str = ""
    parser: str = ""
    requires: str = ""
    remote_host: str = ""
    draft_files: dict[str, str] | None = None
    draft_quantize: str = ""
    info: dict[str, Any] | None = None


# --- responses -------------------------------------------------------------------------------------


class DebugInfo(msgspec.Struct, kw_only=True):
    """`_debug_info` of a `_debug_render_only` request: the prompt as the model would see it."""

    rendered_template: str
    image_count: int = 0


class GenerateResponse(_Wire, kw_only=True, omit_defaults=True):
    model: str
    created_at: str
    response: str
    thinking: str = ""
    done: bool
    done_reason: str = ""
    context: list[int] | None = None
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_cached_count: int | msgspec.UnsetType = msgspec.UNSET  # on the final line, even when 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    tool_calls: list[ToolCallOut] | None = None
    debug_info: DebugInfo | None = msgspec.field(default=None, name="_debug_info")
    logprobs: list[Logprob] | None = None


class ChatResponse(_Wire, kw_only=True, omit_defaults=True):
    model: str
    created_at: str
    message: MessageOut
    done_reason: str = ""
    debug_info: DebugInfo | None = msgspec.field(default=None, name="_debug_info")
    done: bool
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_cached_count: int | msgspec.UnsetType = msgspec.UNSET  # on the final line, even when 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    logprobs: list[Logprob] | None = None


class EmbedResponse(_Wire, kw_only=True, omit_defaults=True):
    model: str
    embeddings: list[list[float]]
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0


class EmbeddingsResponse(msgspec.Struct, kw_only=True):
    embedding: list[float]


class ListModel(_Wire, kw_only=True, omit_defaults=True):
    name: str
    model: str
    remote_model: str = ""
    remote_host: str = ""
    modified_at: str
    size: int
    digest: str
    details: ModelDetails


class ListResponse(msgspec.Struct, kw_only=True):
    models: list[ListModel]


class ProcessModel(msgspec.Struct, kw_only=True):
    name: str
    model: str
    size: int
    digest: str
    details: ModelDetails
    expires_at: str
    size_vram: int
    context_length: int


class ProcessResponse(msgspec.Struct, kw_only=True):
    models: list[ProcessModel]


class TensorOut(msgspec.Struct, kw_only=True):
    name: str
    type: str
    shape: list[int]


class ShowResponse(_Wire, kw_only=True, omit_defaults=True):
    license: str = ""
    modelfile: str = ""
    parameters: str = ""
    template: str = ""
    system: str = ""
    renderer: str = ""
    parser: str = ""
    details: ModelDetails = msgspec.field(default_factory=ModelDetails)
    messages: list[MessageOut] | None = None
    remote_model: str = ""
    remote_host: str = ""
    model_info: dict[str, Any]
    projector_info: dict[str, Any] | None = None
    tensors: list[TensorOut] | None = None
    capabilities: list[str] | None = None
    modified_at: str = ""
    requires: str = ""


# Ollama's ProgressResponse (create, pull, push): one type with the registry's transfers
ProgressResponse = Progress


class VersionResponse(msgspec.Struct, kw_only=True):
    version: str


class ErrorResponse(msgspec.Struct, kw_only=True):
    error: str


# --- encoding helpers ------------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


def encode_line(obj: Any) -> bytes:
    """One NDJSON line (Ollama's stream framing: object + "\\n", never a blank line)."""
    buf = bytearray()
    _encoder.encode_into(obj, buf)
    buf += b"\n"
    return bytes(buf)


# --- decoding --------------------------------------------------------------------------------------


def decode(body: bytes, kind: type[T]) -> T:
    """Decode a JSON body; any problem is a 400 whose message names the field (`$.options.num_ctx`)."""
    if not body.strip():
        raise BadRequest("missing request body")
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(str(exc)) from None


def parse_keep_alive(value: KeepAlive) -> float | None:
    """api.Duration: number = seconds, string = Go duration (unit required); negative = forever.

    Returns None when unset (keep the runner's current value).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadRequest("Unsupported type: 'bool' - at `$.keep_alive`")
    if isinstance(value, int | float):
        return FOREVER if value < 0 else float(value)
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        raise BadRequest(str(exc)) from None
    return FOREVER if seconds < 0 else seconds
