"""Registry pull and push over the OCI distribution v2 API with Ollama's media types.

`pull_model` / `push_model` are async generators of Ollama's progress objects; the daemon's
`/api/pull` and `/api/push` stream them (its `ModelStore.pull` / `push`, bound in
pyollama/server/store_adapter.py).
"""

from __future__ import annotations

from pyollama.registry.auth import default_key_path, load_or_create_key
from pyollama.registry.client import RegistryClient
from pyollama.registry.download import DownloadManager
from pyollama.registry.pull import pull_model
from pyollama.registry.push import push_model
from pyollama.registry.types import Progress, RegistryError, TransferOptions

__all__ = [
    "DownloadManager",
    "Progress",
    "RegistryClient",
    "RegistryError",
    "TransferOptions",
    "default_key_path",
    "load_or_create_key",
    "pull_model",
    "push_model",
]
