"""pyollama as a library, no daemon: `Client` / `AsyncClient` with the `ollama` package's shape."""

from pyollama.library.client import AsyncClient, ResponseError, Runtime
from pyollama.library.sync import Client
from pyollama.library.types import (
    ChatResponse,
    EmbedResponse,
    GenerateResponse,
    ListResponse,
    Message,
    ProcessResponse,
    ProgressResponse,
    RerankResponse,
    ShowResponse,
    StatusResponse,
    TokenizeResponse,
)

__all__ = [
    "AsyncClient",
    "ChatResponse",
    "Client",
    "EmbedResponse",
    "GenerateResponse",
    "ListResponse",
    "Message",
    "ProcessResponse",
    "ProgressResponse",
    "RerankResponse",
    "ResponseError",
    "Runtime",
    "ShowResponse",
    "StatusResponse",
    "TokenizeResponse",
]
