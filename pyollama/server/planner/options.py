"""A request's options: Ollama's layering, its checks, and the load-time half for the scheduler.

Layering is Ollama's: defaults <- Modelfile PARAMETERs <- request `options`. The OpenAI and
Anthropic dialects have defaults of their own (OpenAI's temperature and top_p of 1.0), which sit
under the Modelfile as Ollama's middleware puts them: a PARAMETER still wins unless the request
itself sets the value.
"""

from __future__ import annotations

import logging
from typing import Any

from pyollama.config import Settings
from pyollama.errors import BadRequest, InternalError
from pyollama.options import DEFAULTS_SENT, LOAD_TIME_OPTIONS, OPTIONS, check_option
from pyollama.runner.base import Format
from pyollama.runner.types import LoadOptions
from pyollama.server.limits import MAX_NUM_BATCH, MAX_NUM_CTX, MAX_NUM_PARALLEL, clamp, logical_cpus
from pyollama.server.models import ModelInfo
from pyollama.server.scheduler import LoadRequest
from pyollama.think import LEVELS

log = logging.getLogger("pyollama.server")


def merge_options(
    info: ModelInfo, request_options: dict[str, Any] | None, dialect_defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Ollama's defaults (and a dialect's), the Modelfile's PARAMETERs, then the checked request
    options; unknown request keys are logged and dropped."""
    merged = {**DEFAULTS_SENT, **(dialect_defaults or {}), **info.parameters}
    for key, value in (request_options or {}).items():
        if key not in OPTIONS:
            log.warning("invalid option provided: %s", key)
            continue
        try:
            checked = check_option(key, value)
        except InternalError as exc:
            raise BadRequest(f"{exc.message} - at `$.options.{key}`") from None
        if checked is not None:
            merged[key] = checked
    return merged


def sampling_options(options: dict[str, Any]) -> dict[str, Any]:
    """The per-request half of merged options (load-time ones never reach a completion)."""
    return {k: v for k, v in options.items() if k not in LOAD_TIME_OPTIONS}


def load_request(
    settings: Settings, info: ModelInfo, options: dict[str, Any], keep_alive: float | None
) -> LoadRequest:
    """The load-time half of the options as `LoadOptions` (changing any of them reloads), within
    the daemon's caps (`pyollama.server.limits`): whether they came from the request, the
    Modelfile or the environment, out-of-range values are clamped with a warning."""
    asked_ctx = options.get("num_ctx")
    num_ctx = int(asked_ctx or settings.default_num_ctx)
    if info.context_length > 0:
        if num_ctx > info.context_length and asked_ctx:
            # Ollama's NewLlamaServer, which clamps too
            log.warning(
                "requested context size too large for model num_ctx=%d n_ctx_train=%d",
                num_ctx,
                info.context_length,
            )
        num_ctx = min(num_ctx, info.context_length)
    else:
        num_ctx = clamp("num_ctx", num_ctx, 4, MAX_NUM_CTX, "the model does not say its trained context")
    num_ctx = max(num_ctx, 4)
    embedding_only = "embedding" in info.capabilities and "completion" not in info.capabilities
    num_parallel = clamp(
        "num_parallel",
        int(options.get("num_parallel", settings.num_parallel)),
        0,
        MAX_NUM_PARALLEL,
        "0 = auto",
    )
    if embedding_only:
        num_parallel = 1
    num_thread = _num_thread(int(options.get("num_thread") or settings.num_thread or 0))
    use_mmap = options.get("use_mmap")
    asked_batch = options.get("num_batch")
    num_batch = int(asked_batch or (2048 if embedding_only else 512))
    if asked_batch is not None:
        num_batch = clamp("num_batch", num_batch, 1, MAX_NUM_BATCH, "tokens per batch")
    if embedding_only:
        num_batch = min(num_batch, num_ctx)  # Ollama's embeddingBatchSize: a batch never exceeds the context
    lo = LoadOptions(
        num_ctx=num_ctx,
        num_parallel=max(num_parallel, 0),
        num_batch=num_batch,
        # as Ollama passes -b and -ub alike: an embedding input must fit one micro-batch, and
        # llama.cpp's default ubatch (512) would cap num_batch (and so embedding inputs) at 512
        num_ubatch=num_batch,
        num_thread=num_thread,
        num_gpu=int(options.get("num_gpu", -1)),
        main_gpu=int(options.get("main_gpu") or 0),
        use_mmap=True if use_mmap is None else bool(use_mmap),
        flash_attn=settings.flash_attention,  # type: ignore[arg-type]
        kv_cache_type=settings.kv_cache_type,
        # Embeddings are always on: /api/embed works on generative models without a reload
        # (llama.cpp switches per batch; generation pays nothing for it). Decoder models have no
        # pooling of their own, so they get mean pooling; embedding models keep theirs.
        embedding=True,
        pooling="rank" if "rerank" in info.capabilities else None if embedding_only else "mean",
        projector=info.projector,
        lora=tuple(info.adapters),
        lora_scale=float(options.get("lora_scale", 1.0)),
        # Ollama's modelOptions: a model without a DRAFT drafts nothing unless told to; with one,
        # draft_num_predict (4 by default; 0 turns the draft model off)
        draft_model=info.draft,
        draft_num_predict=int(options.get("draft_num_predict", 4 if info.draft else 0)) if info.draft else 0,
        draft_ngram=str(options.get("draft_ngram") or "") or None,
        rpc_servers=settings.rpc_servers,
    )
    return LoadRequest(
        name=info.name,
        model_path=info.model_path,
        options=lo,
        keep_alive=keep_alive,
        digest=info.digest,
        details=info.details,
        kv=info.kv,
        file_size=info.size,
    )


def _num_thread(n: int) -> int | None:
    """At most the machine's logical CPUs (more threads than CPUs only contend); 0 or less: auto."""
    if n < 0:
        log.warning("num_thread %d is negative; using the default", n)
        return None
    if n == 0:
        return None
    return clamp("num_thread", n, 1, logical_cpus(), "more than the logical CPUs")


def check_format(value: str | dict[str, Any] | None) -> Format:
    if value is None or value == "":
        return None
    if value == "json" or isinstance(value, dict):
        return value  # type: ignore[return-value]
    raise BadRequest(f'invalid format: "{value}"; expected "json" or a valid JSON Schema object')


def check_logprobs(top_logprobs: int) -> None:
    if not 0 <= top_logprobs <= 20:
        raise BadRequest("top_logprobs must be between 0 and 20")


def check_think(
    model: str, think: bool | str | None, info: ModelInfo, *, relax: bool = False
) -> bool | str | None:
    """Ollama's think rules: a thinking model thinks unless told not to; asking a model that cannot
    is a 400 (or, with `relax` as Ollama's Anthropic layer does, quietly dropped)."""
    if isinstance(think, str) and think not in LEVELS:
        raise BadRequest("invalid think value")
    thinking = "thinking" in info.capabilities
    if think and not thinking:
        if relax:
            log.warning("model does not support thinking, relaxing thinking to nil model=%s", model)
            return None
        raise BadRequest(f'"{model}" does not support thinking')
    if think is None and thinking:
        return True
    return think


def require(info: ModelInfo, model: str, capability: str, what: str) -> None:
    if capability not in info.capabilities:
        raise BadRequest(f'"{model}" does not support {what}')
