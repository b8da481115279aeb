"""The native engine: llama.cpp's server core, in-process, through Cython and a C ABI.

Import errors here mean the extension was not built (`pip install -e .` builds it). llama.cpp logs
errors only until `init(level)` or `set_log_verbosity(level)` says otherwise (the daemon passes
`Settings.llama_log_level`, from OLLAMA_DEBUG).
"""

from __future__ import annotations

import json
import os
from typing import Any

from pyollama.engine._engine import (
    QuantizeJob,
    Server,
    Stream,
    init,
    rpc_server_run,
    set_log_verbosity,
    version,
)
from pyollama.engine._engine import read_gguf as _read_gguf_json

__all__ = [
    "QuantizeJob",
    "Server",
    "Stream",
    "init",
    "read_gguf",
    "rpc_server_run",
    "set_log_verbosity",
    "version",
]


def read_gguf(path: str | os.PathLike[str], max_array_len: int = -1) -> dict[str, Any]:
    """GGUF header as {"version", "kv", "tensors"} without loading weights (raises GGUFError)."""
    init()
    result: dict[str, Any] = json.loads(_read_gguf_json(os.fspath(path), max_array_len))
    return result
