"""Offline export / import of models as tar archives in Ollama's store layout.

Ollama has no such command (ollama/ollama#335, #17115; PR #18578 was never merged); the archive is
simply a slice of the models folder, so an archive unpacked by hand into `~/.ollama/models` also
works:

```
manifests/<host>/<namespace>/<model>/<tag>    the manifest file, byte for byte as stored
blobs/sha256-<hex>                             the config blob and every layer, once each
```

Manifests come first, so an importer knows every digest and size before the first blob byte
arrives. Import trusts nothing in the archive: member names are never used as paths (a manifest
name must parse as a model name, a blob name as a digest), only regular files are accepted, every
blob is hashed while it streams into the store's atomic `BlobWriter` and must match the digest and
size its manifest gives, and manifests are written last, after every blob they name is present. A
refused archive removes the blobs it had added, so nothing of it stays installed.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from pyollama.errors import BadRequest
from pyollama.store.files import atomic_write
from pyollama.store.names import ModelName
from pyollama.store.store import DIGEST_RE, Manifest, Store, normalize_digest

Status = dict[str, Any]

_BLOCK = 512
_RECORD = 20 * _BLOCK  # what tar(1) and Python's tarfile pad an archive to
_CHUNK = 1 << 20
MAX_MANIFEST = 4 << 20  # a manifest is a few KiB; anything near this is not one


class ArchiveError(BadRequest):
    """An archive that is not a valid, untampered model export (nothing of it is installed)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"invalid archive: {message}")


def _tar_header(name: str, size: int) -> bytes:
    """A PAX-format header with fixed owner, mode and time, so one store always exports the same
    bytes (and sizes past ustar's 8 GiB limit are recorded in a PAX record)."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    info.uname = info.gname = ""
    return info.tobuf(format=tarfile.PAX_FORMAT)


def _pad(n: int) -> bytes:
    return b"\0" * (-n % _BLOCK)


def export_names(store: Store, names: list[ModelName]) -> list[Manifest]:
    """The manifests `export_chunks` will write (raises `ManifestNotFound` before any byte)."""
    out = []
    for n in names:
        m = store.read_manifest(n)
        for d in m.digests():
            store.blob_size(d)  # BlobNotFound now rather than halfway through the archive
        out.append(m)
    return out


def export_chunks(store: Store, manifests: list[Manifest]) -> Iterator[bytes]:
    """The archive's bytes, in chunks, streamed from the store's files (constant memory)."""
    written = 0
    blobs: dict[str, None] = {}
    for m in manifests:
        assert m.name is not None and m.path is not None
        data = m.path.read_bytes()
        chunk = _tar_header(f"manifests/{m.name.relpath().as_posix()}", len(data)) + data + _pad(len(data))
        written += len(chunk)
        yield chunk
        for d in [m.config.digest, *(layer.digest for layer in m.layers)]:
            if d:
                blobs.setdefault(d)
    for d in blobs:
        path = store.blob_path(d)
        size = path.stat().st_size
        header = _tar_header(f"blobs/{path.name}", size)
        written += len(header)
        yield header
        with open(path, "rb") as f:
            sent = 0
            while chunk := f.read(_CHUNK):
                sent += len(chunk)
                written += len(chunk)
                yield chunk
        if sent != size:
            raise OSError(f"blob {d} changed size while it was exported")
        written += len(_pad(size))
        yield _pad(size)
    end = b"\0" * (2 * _BLOCK)
    written += len(end)
    yield end + b"\0" * (-written % _RECORD)


def export_model(store: Store, names: list[ModelName], out: IO[bytes]) -> int:
    """Write the archive of `names` to `out`; returns the number of bytes written."""
    n = 0
    for chunk in export_chunks(store, export_names(store, names)):
        out.write(chunk)
        n += len(chunk)
    return n


# --- import ------------------------------------------------------------------------------------


@dataclass
class _Expected:
    size: int
    seen: bool = False


@dataclass
class _Import:
    manifests: list[tuple[ModelName, bytes, Manifest]] = field(default_factory=list)
    blobs: dict[str, _Expected] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)


def _manifest_name(member: str) -> ModelName:
    rel = PurePosixPath(member).relative_to("manifests")
    name = ModelName.from_relpath(rel)
    if name is None:
        raise ArchiveError(f"{member!r} is not a model name")
    return name


def _read_member(f: IO[bytes], size: int) -> bytes:
    data = f.read(size)
    if len(data) != size:
        raise ArchiveError("unexpected end of archive")
    return data


def import_archive(store: Store, fileobj: IO[bytes]) -> Iterator[Status]:
    """Install the models of a tar stream; yields Ollama-style `{"status": ...}` progress.

    Raises `ArchiveError` (a 400) for anything not exactly a verified export, after removing the
    blobs this import created; the store is then as it was.
    """
    state = _Import()
    try:
        yield from _import(store, fileobj, state)
    except BaseException:
        if state.created:
            store.remove_unreferenced(state.created)
        raise


def _import(store: Store, fileobj: IO[bytes], st: _Import) -> Iterator[Status]:
    try:
        tar = tarfile.open(fileobj=fileobj, mode="r|")  # noqa: SIM115 - a stream: in order, no seeks
    except tarfile.TarError as exc:
        raise ArchiveError(str(exc) or "not a tar archive") from None
    with tar:
        members = iter(tar)
        while True:
            try:
                member = next(members)
            except StopIteration:
                break
            except tarfile.TarError as exc:
                raise ArchiveError(str(exc) or "corrupt tar header") from None
            name = member.name.removeprefix("./")
            if member.isdir():
                continue  # folders are never created from an archive: nothing to check
            if not member.isfile():
                raise ArchiveError(f"{member.name!r} is not a regular file")
            f = tar.extractfile(member)
            assert f is not None
            if name.startswith("manifests/"):
                yield from _take_manifest(store, st, name, member.size, f)
            elif name.startswith("blobs/"):
                yield from _take_blob(store, st, name, member.size, f)
            else:
                raise ArchiveError(f"unexpected member {member.name!r}")
    if not st.manifests:
        raise ArchiveError("no manifest")
    for d, exp in st.blobs.items():
        if not exp.seen and not store.has_blob(d):
            raise ArchiveError(f"blob {d} is missing")
    for mname, data, m in st.manifests:
        yield {"status": f"writing manifest {mname.display_shortest()}"}
        _install_manifest(store, mname, data, m)
    yield {"status": "success"}


def _take_manifest(store: Store, st: _Import, member: str, size: int, f: IO[bytes]) -> Iterator[Status]:
    if any(exp.seen for exp in st.blobs.values()):
        raise ArchiveError("manifests must come before blobs")
    if size > MAX_MANIFEST:
        raise ArchiveError(f"{member!r} is too large for a manifest")
    name = _manifest_name(member)
    data = _read_member(f, size)
    try:
        m = Manifest.from_bytes(data)
    except (ValueError, BadRequest) as exc:
        raise ArchiveError(f"{member!r} is not a manifest: {exc}") from None
    if not m.config.digest:
        raise ArchiveError(f"{member!r} has no config")
    for layer in [m.config, *m.layers]:
        exp = st.blobs.setdefault(layer.digest, _Expected(layer.size))
        if exp.size != layer.size:
            raise ArchiveError(f"blob {layer.digest} is given two sizes")
    st.manifests.append((name, data, m))
    yield {"status": f"reading manifest {name.display_shortest()}"}


def _take_blob(store: Store, st: _Import, member: str, size: int, f: IO[bytes]) -> Iterator[Status]:
    base = member.removeprefix("blobs/")
    if not DIGEST_RE.fullmatch(base):
        raise ArchiveError(f"{member!r} is not a blob name")
    digest = normalize_digest(base)
    exp = st.blobs.get(digest)
    if exp is None:
        raise ArchiveError(f"blob {digest} is not in any manifest")
    if exp.seen:
        raise ArchiveError(f"blob {digest} appears twice")
    if size != exp.size:
        raise ArchiveError(f"blob {digest} has {size} bytes, its manifest says {exp.size}")
    exp.seen = True
    yield {"status": f"importing {digest[7:19]}", "digest": digest, "total": size, "completed": 0}
    if store.has_blob(digest):
        # the store has it already: still read (and check) the bytes, but keep the file we trust
        h = hashlib.sha256()
        left = size
        while left:
            chunk = _read_member(f, min(_CHUNK, left))
            h.update(chunk)
            left -= len(chunk)
        if "sha256:" + h.hexdigest() != digest:
            raise ArchiveError(f"blob {digest} does not match its digest")
        return
    w = store.blob_writer()
    try:
        left = size
        while left:
            chunk = _read_member(f, min(_CHUNK, left))
            w.write(chunk)
            left -= len(chunk)
        if w.digest != digest:
            raise ArchiveError(f"blob {digest} does not match its digest")
        if w.commit(digest, size):
            st.created.append(digest)
    except BaseException:
        w.abort()
        raise
    yield {"status": f"importing {digest[7:19]}", "digest": digest, "total": size, "completed": size}


def _install_manifest(store: Store, name: ModelName, data: bytes, m: Manifest) -> None:
    """The manifest bytes as they came (so the round trip is byte-identical), written last and
    atomically, after checking every blob they name (as `Store.write_manifest` does)."""
    name = store.existing_name(name)
    path = store.manifest_path(name)
    with store.lock:
        for d in m.digests():
            if not store.has_blob(d):
                raise ArchiveError(f"blob {d} is missing")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
