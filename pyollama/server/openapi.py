"""The whole HTTP API as an OpenAPI 3.1 document, served at `/openapi.json`.

Schemas come from the msgspec Structs the daemon decodes requests with and encodes replies from
(`msgspec.json.schema_components`), so the document cannot drift from the wire: a field added to
a Struct appears here. The OpenAI and Anthropic replies are built as dicts by their translators
(`pyollama.server.compat`) and are described as open objects. `OPERATIONS` is the route table the
document is made from; a test checks it against the app's router, so a new route must be listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from aiohttp import web

import pyollama
from pyollama.registry.types import Progress
from pyollama.server.compat.anthropic import CountTokensRequest, MessagesRequest
from pyollama.server.compat.openai import ChatCompletionRequest, EmbeddingRequest
from pyollama.server.compat.openai import CompletionRequest as OpenAICompletionRequest
from pyollama.server.compat.responses import ResponsesRequest
from pyollama.server.routes_archive import ExportRequest
from pyollama.server.routes_registry import TransferRequest
from pyollama.server.schemas import (
    ChatRequest,
    ChatResponse,
    CopyRequest,
    CreateRequest,
    DeleteRequest,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EmbedRequest,
    EmbedResponse,
    ErrorResponse,
    GenerateRequest,
    GenerateResponse,
    ListResponse,
    ProcessResponse,
    ShowRequest,
    ShowResponse,
    VersionResponse,
)
from pyollama.server.schemas_extras import (
    DetokenizeRequest,
    DetokenizeResponse,
    RerankRequest,
    RerankResponse,
    TokenizeRequest,
    TokenizeResponse,
    V1RerankRequest,
    V1RerankResponse,
)
from pyollama.server.state import STATE

Stream = Literal["", "ndjson", "sse"]
Dialect = Literal["ollama", "openai", "anthropic", "pyollama"]


class OpenAIErrorDetail(msgspec.Struct, kw_only=True):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(msgspec.Struct, kw_only=True):
    """OpenAI's error object (Ollama's openai.NewError)."""

    error: OpenAIErrorDetail


class AnthropicErrorDetail(msgspec.Struct, kw_only=True):
    type: str
    message: str


class AnthropicError(msgspec.Struct, kw_only=True):
    """Anthropic's error object."""

    type: str
    error: AnthropicErrorDetail
    request_id: str | None = None


class CloudStatus(msgspec.Struct, kw_only=True):
    disabled: bool
    source: str


class StatusResponse(msgspec.Struct, kw_only=True):
    """`GET /api/status` (Ollama's cloud switch; always off here)."""

    cloud: CloudStatus


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    request: type | None = None  # JSON body
    response: type | None = None  # JSON reply; None: an open object (compat) or no body
    stream: Stream = ""  # the reply streams (by default) as NDJSON lines or SSE events
    ok: int = 200
    errors: Dialect | None = None  # None: from the path and tag (`_dialect`)
    empty: bool = False  # the success reply has no body
    raw_body: bool = False  # the request body is raw bytes (blob upload)
    text: str = ""  # the success reply is one of these (comma-separated) media types, not JSON


_UI_TYPES = "text/html,text/javascript,text/css"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET", "/", "Health check: `Ollama is running`", "ollama", text="text/plain", errors="pyollama"
    ),
    Operation("GET", "/api/version", "The server's version", "ollama", response=VersionResponse),
    Operation("GET", "/api/status", "Cloud status (always disabled)", "ollama", response=StatusResponse),
    Operation(
        "POST", "/api/generate", "Complete a prompt", "ollama", GenerateRequest, GenerateResponse, "ndjson"
    ),
    Operation("POST", "/api/chat", "Answer a conversation", "ollama", ChatRequest, ChatResponse, "ndjson"),
    Operation("POST", "/api/embed", "Embed one or more inputs", "ollama", EmbedRequest, EmbedResponse),
    Operation(
        "POST",
        "/api/embeddings",
        "Embed one prompt (legacy)",
        "ollama",
        EmbeddingsRequest,
        EmbeddingsResponse,
    ),
    Operation("GET", "/api/ps", "Loaded models", "ollama", response=ProcessResponse),
    Operation("GET", "/api/tags", "Local models", "ollama", response=ListResponse),
    Operation("POST", "/api/show", "A model's details", "ollama", ShowRequest, ShowResponse),
    Operation("POST", "/api/create", "Create a model", "ollama", CreateRequest, Progress, "ndjson"),
    Operation("HEAD", "/api/blobs/{digest}", "Does the blob exist", "ollama", empty=True),
    Operation("POST", "/api/blobs/{digest}", "Upload a blob", "ollama", ok=201, empty=True, raw_body=True),
    Operation("POST", "/api/copy", "Copy a model", "ollama", CopyRequest, empty=True),
    Operation("DELETE", "/api/delete", "Delete a model", "ollama", DeleteRequest, empty=True),
    Operation(
        "POST", "/api/pull", "Pull a model from a registry", "ollama", TransferRequest, Progress, "ndjson"
    ),
    Operation(
        "POST", "/api/push", "Push a model to a registry", "ollama", TransferRequest, Progress, "ndjson"
    ),
    Operation("GET", "/api/pyollama/capabilities", "What create accepts on this server", "pyollama"),
    Operation(
        "POST",
        "/api/export",
        "Models as a tar of their manifests and blobs (Ollama's layout)",
        "pyollama",
        ExportRequest,
        text="application/x-tar",
    ),
    Operation(
        "POST",
        "/api/import",
        "Install the models of an export tar (every digest checked)",
        "pyollama",
        response=Progress,
        stream="ndjson",
        raw_body=True,
    ),
    Operation(
        "POST",
        "/api/tokenize",
        "Text to token ids",
        "pyollama",
        TokenizeRequest,
        TokenizeResponse,
    ),
    Operation(
        "POST",
        "/api/detokenize",
        "Token ids to text",
        "pyollama",
        DetokenizeRequest,
        DetokenizeResponse,
    ),
    Operation(
        "POST",
        "/api/rerank",
        "Score documents against a query (reranker models)",
        "pyollama",
        RerankRequest,
        RerankResponse,
    ),
    Operation(
        "POST",
        "/v1/chat/completions",
        "OpenAI chat completions",
        "openai",
        ChatCompletionRequest,
        None,
        "sse",
    ),
    Operation(
        "POST", "/v1/completions", "OpenAI completions", "openai", OpenAICompletionRequest, None, "sse"
    ),
    Operation("POST", "/v1/embeddings", "OpenAI embeddings", "openai", EmbeddingRequest),
    Operation("POST", "/v1/responses", "OpenAI responses", "openai", ResponsesRequest, None, "sse"),
    Operation("GET", "/v1/models", "OpenAI model list", "openai"),
    Operation("GET", "/v1/models/{model}", "OpenAI model", "openai"),
    Operation(
        "POST",
        "/v1/rerank",
        "Rerank (Jina/Cohere shape, as llama.cpp's server)",
        "pyollama",
        V1RerankRequest,
        V1RerankResponse,
    ),
    Operation("POST", "/v1/messages", "Anthropic messages", "anthropic", MessagesRequest, None, "sse"),
    Operation(
        "POST", "/v1/messages/count_tokens", "Anthropic token count", "anthropic", CountTokensRequest, None
    ),
    Operation("GET", "/metrics", "Prometheus metrics", "pyollama", text="text/plain"),
    Operation("GET", "/openapi.json", "This document", "pyollama"),
    Operation("GET", "/ui", "The web chat page", "pyollama", text="text/html"),
    Operation("GET", "/ui/{name}", "The chat page's scripts and styles", "pyollama", text=_UI_TYPES),
)

_REF = "#/components/schemas/{name}"
_OPEN_OBJECT: dict[str, Any] = {"type": "object"}
_SSE_EVENT: dict[str, Any] = {  # one event; `data` is a JSON object of the dialect's stream
    "type": "object",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
}
_PATH_PARAMS = {
    "digest": {"type": "string", "pattern": "^sha256[:-][0-9a-fA-F]{64}$"},
    "model": {"type": "string"},
    "name": {"type": "string", "enum": ["index.html", "app.js", "markdown.js", "style.css"]},
}


def _errors(dialect: Dialect) -> dict[str, Any]:
    """Every non-success status, in the route's dialect (Ollama's `{"error": "..."}`, OpenAI's and
    Anthropic's error objects, or plain text from the small routes)."""
    names = {"ollama": "ErrorResponse", "openai": "OpenAIError", "anthropic": "AnthropicError"}
    if dialect in names:
        content: dict[str, Any] = {"application/json": {"schema": {"$ref": _REF.format(name=names[dialect])}}}
    else:
        content = {"text/plain": {"schema": {"type": "string"}}, "application/json": {"schema": _OPEN_OBJECT}}
    return {"default": {"description": "an error", "content": content}}


def _dialect(op: Operation) -> Dialect:
    """Whose error shape a route answers with: OpenAI's under /v1 (Anthropic's for its routes),
    Ollama's under /api, plain text or JSON for the rest."""
    if op.errors is not None:
        return op.errors
    if op.tag == "anthropic":
        return "anthropic"
    if op.path.startswith("/v1/"):
        return "openai"
    return "ollama" if op.path.startswith("/api/") else "pyollama"


def _operation(op: Operation, refs: dict[type, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": (
            op.method.lower() + op.path.replace("/", "_").replace("{", "").replace("}", "")
        ).strip("_"),
    }
    params = [p.strip("{}") for p in op.path.split("/") if p.startswith("{")]
    if params:
        out["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": _PATH_PARAMS.get(p, {"type": "string"})}
            for p in params
        ]
    if op.request is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[op.request]}}}
    elif op.raw_body:
        body = {"schema": {"type": "string", "format": "binary"}}
        out["requestBody"] = {"required": True, "content": {"application/octet-stream": body}}
    ok: dict[str, Any] = {"description": "success"}
    if op.text:
        ok["content"] = {kind: {"schema": {"type": "string"}} for kind in op.text.split(",")}
    elif not op.empty:
        schema = refs[op.response] if op.response is not None else _OPEN_OBJECT
        content: dict[str, Any] = {"application/json": {"schema": schema}}
        if op.stream == "ndjson":
            content["application/x-ndjson"] = {"schema": schema, "description": "one object a line"}
        elif op.stream == "sse":
            content["text/event-stream"] = {"schema": _SSE_EVENT}
        ok["content"] = content
    out["responses"] = {str(op.ok): ok, **_errors(_dialect(op))}
    return out


def build_spec(version: str = pyollama.__version__) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a plain dict, ready for JSON)."""
    types: list[type] = [ErrorResponse, OpenAIError, AnthropicError]
    for op in OPERATIONS:
        types.extend(t for t in (op.request, op.response) if t is not None)
    unique = list(dict.fromkeys(types))
    schemas, components = msgspec.json.schema_components(unique, ref_template=_REF)
    refs = dict(zip(unique, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pyollama",
            "version": version,
            "description": "Ollama's REST API, its OpenAI and Anthropic routes, and pyollama's own "
            "(tokenize, detokenize, rerank, metrics). Streaming routes answer NDJSON or SSE unless "
            "`stream` is false.",
        },
        "servers": [{"url": "http://127.0.0.1:11434"}],
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
        # only enforced when the daemon has API keys (OLLAMA_API_KEYS); `{}` means none needed
        "security": [{"bearer": []}, {"apiKey": []}, {}],
        "tags": [{"name": t} for t in ("ollama", "openai", "anthropic", "pyollama")],
        "paths": paths,
    }


def add_routes(app: web.Application) -> None:
    cache: list[bytes] = []  # built on first use: most apps (tests) never serve it

    async def openapi_json(request: web.Request) -> web.Response:
        if not cache:
            cache.append(msgspec.json.encode(build_spec(request.app[STATE].version)))
        return web.Response(body=cache[0], content_type="application/json")

    app.router.add_get("/openapi.json", openapi_json)
