"""Writing a file into the store so that a crash leaves the old file or the new one, never half of one.

Every file the store (or the puller) puts under the models folder goes through here: the bytes go to
a temp file in the target's own folder (a rename across filesystems would not be atomic), are
fsync'ed, and the temp file is renamed over the target; the folder is then fsync'ed so the rename
itself survives a power cut. `atomic_write` does all of it for bytes in memory; a writer that
streams (and hashes) a large file itself ends with `commit_temp`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

TMP_PREFIX = ".pyollama-tmp-"  # housekeeping removes stale ones (Store.housekeeping)
FILE_MODE = 0o644  # what Ollama's files end up as under the usual umask; blobs are world-readable


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (best effort: some filesystems refuse a directory fsync)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def temp_path(folder: Path) -> Path:
    """A fresh temp file name in `folder` (created with `open(..., "xb")`, so never shared)."""
    return folder / f"{TMP_PREFIX}{secrets.token_hex(8)}"


def commit_temp(tmp: Path, path: Path, *, durable: bool = True, mode: int = FILE_MODE) -> None:
    """Make the finished temp file `tmp` (same folder as `path`) the file `path`.

    fsync `tmp`, set its mode, rename it over `path`, fsync the folder. `durable=False` skips
    both fsyncs: still atomic if the process is killed, not across a power cut (for small state
    files rewritten several times a second on the event loop, where a lost one costs a re-fetch).
    """
    if durable:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes, *, durable: bool = True, mode: int = FILE_MODE) -> None:
    """Replace `path` with `data` atomically (temp file in its folder, fsync, rename, fsync folder);
    the folder must exist. On any error the temp file is removed and `path` is untouched."""
    tmp = temp_path(path.parent)
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        commit_temp(tmp, path, durable=durable, mode=mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
