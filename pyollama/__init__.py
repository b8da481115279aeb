"""pyollama: Ollama, re-built in Python on llama.cpp's server core.

`pyollama.Client` and `pyollama.AsyncClient` are the `ollama` package's clients run in this process
(no daemon); they are imported on first use, so `import pyollama` stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LIBRARY = ("AsyncClient", "Client", "ResponseError")


def __getattr__(name: str) -> Any:
    if name in _LIBRARY:
        from pyollama import library

        return getattr(library, name)
    raise AttributeError(f"module 'pyollama' has no attribute {name!r}")
