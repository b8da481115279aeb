"""The library's reply types: the `ollama` package's shapes (`ollama._types`), as msgspec Structs.

Code written for `ollama.Client` reads replies as attributes (`r.message.content`) or as a mapping
(`r["message"]["content"]`, `"thinking" in r.message`, `r.get("done")`); both work here. Fields the
daemon leaves out read as None, as with `ollama`'s optional pydantic fields. Times stay the RFC 3339
strings the API sends (`ollama` parses `modified_at` into a datetime).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec

T = TypeVar("T", bound="SubscriptableStruct")


class SubscriptableStruct(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Attribute and mapping access, like `ollama._types.SubscriptableBaseModel`."""

    def __getitem__(self, key: str) -> Any:
        if key in self.__struct_fields__:
            return getattr(self, key)
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def __contains__(self, key: object) -> bool:
        return key in self.__struct_fields__ and getattr(self, str(key)) is not None

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None) if key in self.__struct_fields__ else None
        return default if value is None else value

    def keys(self) -> Iterator[str]:
        return iter(k for k in self.__struct_fields__ if getattr(self, k) is not None)

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """A plain dict without the unset fields (what `ollama`'s `model_dump(exclude_none=True)` gives)."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out

    def model_dump_json(self, **_: Any) -> str:
        return msgspec.json.encode(self).decode()


class ToolCallFunction(SubscriptableStruct, kw_only=True):
    name: str
    arguments: dict[str, Any] = {}
    index: int | None = None


class ToolCall(SubscriptableStruct, kw_only=True):
    function: ToolCallFunction
    id: str | None = None


class Message(SubscriptableStruct, kw_only=True):
    role: str
    content: str | None = None
    thinking: str | None = None
    images: list[str] | None = None
    tool_name: str | None = None
    tool_calls: list[ToolCall] | None = None


class TopLogprob(SubscriptableStruct, kw_only=True):
    token: str
    logprob: float
    bytes: list[int] | None = None


class Logprob(SubscriptableStruct, kw_only=True):
    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] | None = None


class _Done(SubscriptableStruct, kw_only=True):
    model: str | None = None
    created_at: str | None = None
    done: bool | None = None
    done_reason: str | None = None
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None


class GenerateResponse(_Done, kw_only=True):
    response: str = ""
    thinking: str | None = None
    context: list[int] | None = None
    logprobs: list[Logprob] | None = None
    tool_calls: list[ToolCall] | None = None


class ChatResponse(_Done, kw_only=True):
    message: Message
    logprobs: list[Logprob] | None = None


class EmbedResponse(SubscriptableStruct, kw_only=True):
    model: str | None = None
    embeddings: list[list[float]] = []
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None


class EmbeddingsResponse(SubscriptableStruct, kw_only=True):
    embedding: list[float] = []


class ProgressResponse(SubscriptableStruct, kw_only=True):
    status: str | None = None
    completed: int | None = None
    total: int | None = None
    digest: str | None = None


class StatusResponse(SubscriptableStruct, kw_only=True):
    status: str | None = None


class ModelDetails(SubscriptableStruct, kw_only=True):
    parent_model: str | None = None
    format: str | None = None
    family: str | None = None
    families: list[str] | None = None
    parameter_size: str | None = None
    quantization_level: str | None = None


class ListModel(SubscriptableStruct, kw_only=True):
    model: str | None = None
    name: str | None = None
    modified_at: str | None = None
    digest: str | None = None
    size: int | None = None
    details: ModelDetails | None = None


class ListResponse(SubscriptableStruct, kw_only=True):
    models: list[ListModel] = []


class ShowResponse(SubscriptableStruct, kw_only=True):
    modified_at: str | None = None
    template: str | None = None
    modelfile: str | None = None
    license: str | None = None
    system: str | None = None
    details: ModelDetails | None = None
    modelinfo: dict[str, Any] | None = msgspec.field(default=None, name="model_info")
    parameters: str | None = None
    capabilities: list[str] | None = None
    projector_info: dict[str, Any] | None = None
    tensors: list[dict[str, Any]] | None = None
    messages: list[Message] | None = None
    renderer: str | None = None
    parser: str | None = None


class ProcessModel(SubscriptableStruct, kw_only=True):
    model: str | None = None
    name: str | None = None
    digest: str | None = None
    expires_at: str | None = None
    size: int | None = None
    size_vram: int | None = None
    details: ModelDetails | None = None
    context_length: int | None = None


class ProcessResponse(SubscriptableStruct, kw_only=True):
    models: list[ProcessModel] = []


# --- pyollama's own -------------------------------------------------------------------------------


class TokenizeResponse(SubscriptableStruct, kw_only=True):
    model: str | None = None
    tokens: list[int] = []


class DetokenizeResponse(SubscriptableStruct, kw_only=True):
    model: str | None = None
    content: str = ""


class RerankResult(SubscriptableStruct, kw_only=True):
    index: int
    relevance_score: float
    document: str | None = None


class RerankResponse(SubscriptableStruct, kw_only=True):
    model: str | None = None
    results: list[RerankResult] = []
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None


def convert(wire: Any, kind: type[T]) -> T:
    """A daemon reply (Struct or builtins) as the library's type; unknown fields are dropped."""
    return msgspec.convert(msgspec.to_builtins(wire), kind)
