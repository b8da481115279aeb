"""Wire types of the routes pyollama has beyond Ollama: tokenize, detokenize and rerank.

Same conventions as `pyollama.server.schemas` (omit-when-empty through `omit_defaults`, `_Wire`
requests decoded with field-naming errors). The `/v1/rerank` shapes are the Jina/Cohere ones that
llama.cpp's server answers with.
"""

from __future__ import annotations

from typing import Any

import msgspec

from pyollama.server.schemas import KeepAlive, _Wire


class TokenizeRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    content: str = ""
    add_special: bool = False  # BOS/EOS as the model adds them to a prompt
    keep_alive: KeepAlive = None
    options: dict[str, Any] | None = None


class TokenizeResponse(msgspec.Struct, kw_only=True):
    model: str
    tokens: list[int]


class DetokenizeRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    tokens: list[int] | None = None
    keep_alive: KeepAlive = None
    options: dict[str, Any] | None = None


class DetokenizeResponse(msgspec.Struct, kw_only=True):
    model: str
    content: str


class RerankRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    query: str = ""
    documents: list[str] | None = None
    top_n: int | None = None  # keep the best n (all when unset)
    return_documents: bool = False  # echo each document's text in its result
    keep_alive: KeepAlive = None
    options: dict[str, Any] | None = None


class RerankResultOut(_Wire, kw_only=True, omit_defaults=True):
    index: int
    relevance_score: float
    document: str | None = None


class RerankResponse(_Wire, kw_only=True, omit_defaults=True):
    model: str
    results: list[RerankResultOut]
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0


# --- /v1/rerank (Jina / Cohere, as llama.cpp's server answers) -------------------------------------


class DocumentText(msgspec.Struct, kw_only=True):
    text: str


class V1RerankRequest(_Wire, kw_only=True, omit_defaults=True):
    model: str = ""
    query: str = ""
    documents: list[str | DocumentText] | None = None
    top_n: int | None = None
    return_documents: bool = False


class V1RerankResult(_Wire, kw_only=True, omit_defaults=True):
    index: int
    relevance_score: float
    document: DocumentText | None = None


class V1RerankUsage(msgspec.Struct, kw_only=True):
    prompt_tokens: int
    total_tokens: int


class V1RerankResponse(msgspec.Struct, kw_only=True):
    model: str
    object: str
    usage: V1RerankUsage
    results: list[V1RerankResult]
