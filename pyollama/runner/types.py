"""Transport-agnostic data the runner takes and yields.

These types are what the scheduler and routes see; nothing here knows about Cython, threads or HTTP,
so a runner living in a child process can hand back exactly the same objects.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class LoadOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Load-time options: changing any of them means reloading the model (nothing else does)."""

    num_ctx: int = 4096  # context per slot (Ollama's per-request num_ctx)
    num_parallel: int = 1  # slots; the engine gets n_ctx = num_ctx * num_parallel
    num_batch: int = 512
    num_ubatch: int | None = None
    num_thread: int | None = None  # None: llama.cpp's default (physical cores)
    num_gpu: int = -1  # layers on the GPU; -1 = as many as fit/all
    main_gpu: int = 0
    use_mmap: bool = True
    flash_attn: Literal["auto", "on", "off"] = "auto"
    kv_cache_type: str = "f16"  # f16, q8_0, q4_0 (Ollama's OLLAMA_KV_CACHE_TYPE)
    embedding: bool = False  # embeddings enabled (pooling applies)
    pooling: str | None = None  # mean, cls, last, rank, none; None = the model's default
    chat_template: str | None = None  # Jinja override
    projector: str | None = None
    lora: tuple[str, ...] = ()
    lora_scale: float = 1.0  # every adapter's scale (llama.cpp multiplies it by alpha/rank)
    draft_model: str | None = None  # speculative decoding with this draft model
    draft_num_predict: int = 0  # tokens the draft model proposes per step (with draft_model)
    draft_ngram: str | None = None  # llama.cpp's draft-free n-gram speculator (e.g. "ngram-mod")
    context_shift: bool = True
    num_keep: int = 0
    alias: str | None = None
    warmup: bool = True
    rpc_servers: tuple[str, ...] = ()  # ggml RPC servers (host:port) the layers are split across


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    completion: bool = True
    chat: bool = True
    embedding: bool = False
    vision: bool = False
    audio: bool = False
    tools: bool = False
    thinking: bool = False
    insert: bool = False


class ModelMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """What the loaded model says about itself (after load) or its GGUF header (before)."""

    architecture: str = ""
    name: str = ""
    parameter_count: int = 0
    file_type: str = ""  # e.g. "Q4_1"
    context_length: int = 0  # trained context
    embedding_length: int = 0
    n_vocab: int = 0
    size: int = 0  # bytes of weights
    size_vram: int = 0  # bytes the loaded model holds in device memory (weights, KV cache, buffers)
    devices: tuple[str, ...] = ()  # the devices its layers run on (e.g. "CUDA0"); empty on CPU alone
    slot_context: int = 0  # effective n_ctx per slot
    n_parallel: int = 1
    chat_template: str = ""
    bos_token: str = ""
    eos_token: str = ""
    capabilities: Capabilities = Capabilities()
    kv: dict[str, Any] = {}


class ToolCall(msgspec.Struct, kw_only=True):
    name: str
    arguments: dict[str, Any]
    id: str = ""
    index: int = 0


class TokenLogprob(msgspec.Struct, kw_only=True):
    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TokenLogprob] | None = None


class Chunk(msgspec.Struct, kw_only=True):
    """One piece of a generation; the last one has done=True and the counters."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] | None = None
    tokens: list[int] | None = None  # generated token ids in this chunk (completion only)
    logprobs: list[TokenLogprob] | None = None
    done: bool = False
    done_reason: str = ""  # "stop" | "length" on the last chunk
    prompt_eval_count: int = 0  # every prompt token, the ones reused from the KV cache included
    prompt_eval_cached_count: int = 0  # of those, the ones reused from the cache (not evaluated)
    prompt_eval_duration: int = 0  # ns
    eval_count: int = 0
    eval_duration: int = 0  # ns


class Embeddings(msgspec.Struct, kw_only=True):
    vectors: list[list[float]]
    prompt_eval_count: int = 0


class RerankResult(msgspec.Struct, kw_only=True):
    """One document's relevance to the query (higher is more relevant)."""

    index: int  # position in the request's documents
    score: float


class Rerank(msgspec.Struct, kw_only=True):
    results: list[RerankResult]  # in document order; the route sorts and cuts
    prompt_eval_count: int = 0
