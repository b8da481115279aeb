"""The native engine: llama.cpp's server core, in-process, through Cython and a C ABI.

Import errors here mean the extension was not built (`pip install -e .` builds it).
"""

from __future__ import annotations

import json
import os
from typing import Any

from pyollama.engine._engine import Server, Stream, init, set_log_verbosity, version
from pyollama.engine._engine import read_gguf as _read_gguf_json

__all__ = ["Server", "Stream", "init", "read_gguf", "set_log_verbosity", "version"]


def read_gguf(path: str | os.PathLike[str], max_array_len: int = -1) -> dict[str, Any]:
    """GGUF header as {"version", "kv", "tensors"} without loading weights (raises GGUFError)."""
    init(_default_verbosity())
    result: dict[str, Any] = json.loads(_read_gguf_json(os.fspath(path), max_array_len))
    return result


def _default_verbosity() -> int:
    """OLLAMA_DEBUG / PYOLLAMA_DEBUG turn on llama.cpp's info logs; errors only otherwise."""
    debug = os.environ.get("PYOLLAMA_DEBUG") or os.environ.get("OLLAMA_DEBUG") or ""
    if debug.lower() in ("1", "true", "yes", "on"):
        return 3
    if debug == "2":
        return 4
    return 0
