"""The daemon's resource caps, in one table: what one request, Modelfile or environment value may
ask for before it is clamped (with a logged warning) or refused (a 400).

Ollama clamps `num_ctx` to the model's trained context and `num_predict` to ten contexts, and
otherwise passes options on; pyollama also bounds the options that would make one request start
a thousand threads, allocate a buffer for a million-token batch, or open a thousand slots, and
bounds request bodies per route and connections per daemon.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("pyollama.server")

MAX_NUM_PARALLEL = 64  # slots per model
MAX_NUM_BATCH = 1 << 16  # tokens in one logical batch (llama.cpp clamps it to n_ctx for decoders)
MAX_NUM_CTX = 1 << 24  # context per slot when the model does not say its trained context
MAX_IMAGES = 64  # images in one request
MAX_IMAGE_BYTES = 64 << 20  # one decoded image

MIB = 1 << 20
# Largest request body per route: the inference routes carry base64 images (several multi-MB ones
# must fit, PYOLLAMA_MAX_REQUEST_SIZE sets their limit); the rest are small JSON objects. Blob
# uploads and archive imports are streamed to disk and not limited. Unknown routes get the small limit.
SMALL_BODY = 8 * MIB
INFERENCE_ROUTES = (
    "/api/generate",
    "/api/chat",
    "/api/embed",
    "/api/embeddings",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/responses",
    "/api/tokenize",
    "/api/detokenize",
    "/api/rerank",
    "/v1/rerank",
)
STREAMED_ROUTES = ("/api/blobs/", "/api/import")  # read in chunks straight to disk


def body_limit(path: str, inference_limit: int) -> int | None:
    """The largest body accepted on `path` (None: streamed, no limit)."""
    if path.startswith(STREAMED_ROUTES):
        return None
    if path in INFERENCE_ROUTES:
        return inference_limit
    return min(SMALL_BODY, inference_limit)


def logical_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, as Go's runtime.NumCPU counts them)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def clamp(name: str, value: int, low: int, high: int, why: str) -> int:
    """`value` within [low, high], with a warning naming the option when it was not."""
    if low <= value <= high:
        return value
    bounded = min(max(value, low), high)
    log.warning("%s %d is out of range (%s); using %d", name, value, why, bounded)
    return bounded
