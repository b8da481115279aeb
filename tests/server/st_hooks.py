"""Schemathesis hooks for the live-daemon run in test_openapi.py (loaded via SCHEMATHESIS_HOOKS).

- NDJSON replies are checked line by line: each line must be a JSON object, and the last one (the
  done line, or an error written after the first byte) is validated against the route's schema.
- Half the generated bodies name the real model, so generation, embedding and tokenizing run for
  real; their cost is capped (4 tokens), load-time options that would size the KV cache (num_ctx,
  num_batch, num_parallel) are dropped so a random integer cannot allocate gigabytes, and so is
  keep_alive, so the model is not reloaded for every request.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

MODEL = os.environ.get("PYOLLAMA_ST_MODEL", "smol")
_SIZING = ("num_ctx", "num_batch", "num_parallel", "num_thread", "num_gpu")


@schemathesis.deserializer("application/x-ndjson")
def ndjson(ctx: Any, response: Any) -> Any:
    lines = [line for line in response.content.split(b"\n") if line.strip()]
    if not lines:
        raise ValueError("empty NDJSON stream")
    objects = [json.loads(line) for line in lines]
    if not all(isinstance(o, dict) for o in objects):
        raise ValueError("an NDJSON line is not an object")
    return objects[-1]


# the field that caps an answer's length, per dialect
_CAPS = {
    "/v1/chat/completions": "max_tokens",
    "/v1/completions": "max_tokens",
    "/v1/responses": "max_output_tokens",
    "/v1/messages": "max_tokens",
}


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    if not isinstance(body, dict) or "model" not in body:
        return body
    if len(str(body.get("model"))) % 2 == 0:
        body["model"] = MODEL
        body.pop("keep_alive", None)  # a random keep_alive (0, 1 ms) would reload the model every time
    path = context.operation.path if context.operation is not None else ""
    if path in _CAPS:
        body[_CAPS[path]] = 4
    elif path.startswith("/api/"):
        options = body.get("options")
        options = options if isinstance(options, dict) else {}
        for key in _SIZING:
            options.pop(key, None)
        options["num_predict"] = 4
        body["options"] = options
    return body
