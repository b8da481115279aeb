"""Wire types, tunables and the error class shared by pull and push."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from pyollama.errors import PyollamaError

MB = 1000 * 1000


class Progress(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Ollama's `ProgressResponse`: zero `digest`/`total`/`completed` are omitted, as Go's omitempty does."""

    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0


class RegistryError(PyollamaError):
    """A registry transfer failed; the message is what the client sees in `{"error": ...}`."""

    status = 500


class TransientError(RegistryError):
    """A failure worth retrying (connection reset, 5xx, short body)."""


@dataclass(frozen=True)
class TransferOptions:
    """Knobs of a transfer; defaults are Ollama's (download.go / upload.go), tests shrink them."""

    parts: int = 64  # blobs are split into this many parts ...
    min_part_size: int = 16 * MB  # ... clamped to this range (Ollama: 16 parts of 100 MB-1 GB;
    max_part_size: int = 1000 * MB  # smaller parts fetched a few at a time keep the hash in step)
    concurrent_parts: int = 4  # parts in flight at once, started in file order
    stall_timeout: float = 30.0  # no byte for this long: the part is retried
    max_retries: int = 6  # other errors are retried this often ...
    backoff: float = 1.0  # ... after backoff * 2**try seconds
    max_stalls: int = 20
    progress_interval: float = 0.06  # Ollama reports every 60 ms
    state_interval: float = 0.25  # part state (`-partial-N`) is saved at least this often
    connect_timeout: float = 30.0
    max_manifest_size: int = 16 << 20  # defences against hostile registries
    max_layers: int = 65536
    max_small_body: int = 1 << 20  # tokens, error bodies
    max_redirects: int = 10

    def part_size(self, total: int) -> int:
        return max(self.min_part_size, min(self.max_part_size, total // max(1, self.parts)))
