"""The on-disk model store, laid out byte for byte as Ollama lays it out.

```
<root>/manifests/<host>/<namespace>/<model>/<tag>   Docker v2 manifest JSON
<root>/blobs/sha256-<64 hex>                          content-addressed blobs
```

Crash safety comes from ordering: every blob is written to a temp file in `blobs/`, hashed while
written, fsync'ed and renamed to its digest name; the manifest that references blobs is written
last and only after checking every blob it names exists. Every file goes in through
`pyollama.store.files` (temp file in the same folder, fsync, rename, fsync the folder). A process
killed at any point leaves either the old manifest or the new one, never one with missing blobs;
at worst an orphan temp file or unreferenced blob, which `housekeeping()` removes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from pyollama.errors import BadRequest, ModelNotFound, NotFound
from pyollama.go import json as go_json
from pyollama.store.files import TMP_PREFIX, atomic_write, commit_temp, temp_path
from pyollama.store.names import ModelName

_NAME_PARTS = ("host", "namespace", "model", "tag")

MEDIA_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_MODEL = "application/vnd.ollama.image.model"
MEDIA_PROJECTOR = "application/vnd.ollama.image.projector"
MEDIA_ADAPTER = "application/vnd.ollama.image.adapter"
MEDIA_TEMPLATE = "application/vnd.ollama.image.template"
MEDIA_PROMPT = "application/vnd.ollama.image.prompt"  # legacy template
MEDIA_SYSTEM = "application/vnd.ollama.image.system"
MEDIA_PARAMS = "application/vnd.ollama.image.params"
MEDIA_MESSAGES = "application/vnd.ollama.image.messages"
MEDIA_LICENSE = "application/vnd.ollama.image.license"
MEDIA_DRAFT = "application/vnd.ollama.image.draft"
MEDIA_TENSOR = "application/vnd.ollama.image.tensor"
MEDIA_JSON = "application/vnd.ollama.image.json"
MEDIA_EMBED = "application/vnd.ollama.image.embed"  # legacy, ignored

LAYER_MEDIA_TYPES = frozenset(
    {
        MEDIA_MODEL,
        MEDIA_PROJECTOR,
        MEDIA_ADAPTER,
        MEDIA_TEMPLATE,
        MEDIA_PROMPT,
        MEDIA_SYSTEM,
        MEDIA_PARAMS,
        MEDIA_MESSAGES,
        MEDIA_LICENSE,
        MEDIA_DRAFT,
        MEDIA_TENSOR,
        MEDIA_JSON,
        MEDIA_EMBED,
    }
)

DIGEST_RE = re.compile(r"sha256[:-][0-9a-fA-F]{64}")
INVALID_DIGEST = "invalid digest format"
_WRITE_BUFFER = 4 << 20


class InvalidDigest(BadRequest):
    def __init__(self) -> None:
        super().__init__(INVALID_DIGEST)


class DigestMismatch(BadRequest):
    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f'digest mismatch, expected "{expected}", got "{got}"')


class BlobNotFound(NotFound):
    def __init__(self, digest: str) -> None:
        super().__init__(f'blob "{digest}" not found')


class ManifestNotFound(ModelNotFound):
    """No manifest for a name; the daemon words the message per route."""

    def __init__(self, name: ModelName) -> None:
        self.name = name
        super().__init__(f"model '{name.display_shortest()}' not found")


def normalize_digest(digest: str) -> str:
    """`sha256:<lowercase hex>`; raises `InvalidDigest` for anything else (before any path use)."""
    if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
        raise InvalidDigest()
    return "sha256:" + digest[7:].lower()


@dataclass
class Layer:
    media_type: str
    digest: str
    size: int
    from_: str = ""  # source model (or, for GGUF files, the blob path Ollama records)
    name: str = ""  # tensor name (safetensors layers)
    status: str = field(default="", compare=False)  # progress line for create

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.from_:
            d["from"] = self.from_
        if self.name:
            d["name"] = self.name
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Layer:
        return cls(
            media_type=str(d.get("mediaType", "")),
            digest=normalize_digest(str(d.get("digest", ""))),
            size=int(d.get("size", 0)),
            from_=str(d.get("from", "") or ""),
            name=str(d.get("name", "") or ""),
        )


@dataclass
class Manifest:
    config: Layer
    layers: list[Layer]
    schema_version: int = 2
    media_type: str = MEDIA_MANIFEST
    # filled when read from disk
    name: ModelName | None = None
    path: Path | None = None
    digest: str = ""  # hex sha256 of the manifest file (what /api/tags reports)
    mtime_ns: int = 0

    @property
    def size(self) -> int:
        return self.config.size + sum(layer.size for layer in self.layers)

    def to_bytes(self) -> bytes:
        return go_json.encode_line(
            {
                "schemaVersion": self.schema_version,
                "mediaType": self.media_type,
                "config": self.config.to_json(),
                "layers": [layer.to_json() for layer in self.layers],
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        d = json.loads(data)
        if not isinstance(d, dict):
            raise ValueError("manifest is not a JSON object")
        cfg = d.get("config") or {}
        config = Layer.from_json(cfg) if cfg.get("digest") else Layer(MEDIA_CONFIG, "", 0)
        return cls(
            config=config,
            layers=[Layer.from_json(x) for x in d.get("layers") or []],
            schema_version=int(d.get("schemaVersion", 2)),
            media_type=str(d.get("mediaType", MEDIA_MANIFEST)),
            digest=hashlib.sha256(data).hexdigest(),
        )

    def digests(self) -> list[str]:
        out = [layer.digest for layer in self.layers]
        if self.config.digest:
            out.append(self.config.digest)
        return out

    def layer(self, media_type: str) -> Layer | None:
        return next((x for x in self.layers if x.media_type == media_type), None)


def file_digest(path: Path) -> str:
    """`sha256:<hex>` of a file's content (streamed; hashlib releases the GIL on large reads)."""
    with open(path, "rb") as f:
        return "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()


class BlobWriter:
    """A temp file in `blobs/` that becomes `sha256-<hex>` only if its content hashes right."""

    def __init__(self, store: Store) -> None:
        self._store = store
        store.blobs_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_path = temp_path(store.blobs_dir)
        self._f: BinaryIO | None = open(self.tmp_path, "xb")  # noqa: SIM115
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        assert self._f is not None
        self._f.write(data)
        self._hash.update(data)
        self.size += len(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def commit(self, expected: str | None = None, expected_size: int | None = None) -> bool:
        """fsync, verify, rename into place. Returns True if a new blob was created."""
        assert self._f is not None
        got = self.digest
        if expected is not None and got != expected:
            self.abort()
            raise DigestMismatch(expected, got)
        if expected_size is not None and self.size != expected_size:
            self.abort()
            raise BadRequest(f"unexpected EOF: got {self.size} of {expected_size} bytes")
        self._f.close()
        self._f = None
        final = self._store.blob_path(got)
        if final.exists():
            self.tmp_path.unlink(missing_ok=True)
            return False
        commit_temp(self.tmp_path, final)
        return True

    def abort(self) -> None:
        if self._f is not None:
            with contextlib.suppress(OSError):
                self._f.close()
            self._f = None
        self.tmp_path.unlink(missing_ok=True)


class Store:
    """Ollama's model store under `root` (the caller picks it: PYOLLAMA_MODELS > OLLAMA_MODELS)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.blobs_dir = self.root / "blobs"
        self.manifests_dir = self.root / "manifests"
        # Serialises manifest writes against deletes/prunes so a prune never races a
        # manifest that is about to reference the blob it removes.
        self.lock = threading.RLock()

    # --- blobs ---------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        """Path of a blob; the digest is validated before it becomes a path."""
        d = normalize_digest(digest)
        return self.blobs_dir / ("sha256-" + d[7:])

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def blob_size(self, digest: str) -> int:
        p = self.blob_path(digest)
        try:
            return p.stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def read_blob(self, digest: str) -> bytes:
        try:
            return self.blob_path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def blob_writer(self) -> BlobWriter:
        return BlobWriter(self)

    def write_blob_bytes(self, data: bytes, expected: str | None = None) -> tuple[str, int, bool]:
        """Store bytes as a blob: (digest, size, created)."""
        if expected is not None:
            expected = normalize_digest(expected)
        w = self.blob_writer()
        try:
            w.write(data)
            created = w.commit(expected)
        except BaseException:
            w.abort()
            raise
        return w.digest, w.size, created

    def write_blob_file(
        self, src: str | os.PathLike[str], expected: str | None = None
    ) -> tuple[str, int, bool]:
        """Copy a local file into the store (client-side helper, tests). (digest, size, created)."""
        if expected is not None:
            expected = normalize_digest(expected)
        w = self.blob_writer()
        try:
            with open(src, "rb") as f:
                while chunk := f.read(1 << 20):
                    w.write(chunk)
            created = w.commit(expected)
        except BaseException:
            w.abort()
            raise
        return w.digest, w.size, created

    def temp_blob_path(self) -> Path:
        """A fresh temp file name in `blobs/` for a writer that fills a file itself (the quantizer);
        `adopt_blob_file` then makes it a blob. Housekeeping removes one left behind."""
        self.blobs_dir.mkdir(parents=True, exist_ok=True)
        return temp_path(self.blobs_dir)

    def adopt_blob_file(self, tmp: Path) -> tuple[str, int, bool]:
        """Make the finished file `tmp` (from `temp_blob_path`) the blob of its own content:
        (digest, size, created). An identical blob already there wins and `tmp` is removed."""
        digest = file_digest(tmp)
        size = tmp.stat().st_size
        final = self.blob_path(digest)
        if final.exists():
            tmp.unlink(missing_ok=True)
            return digest, size, False
        commit_temp(tmp, final)
        return digest, size, True

    async def write_blob_stream(
        self, digest: str, chunks: AsyncIterator[bytes], *, size: int | None = None
    ) -> bool:
        """`POST /api/blobs/:digest`: stream to a temp file, verify, rename. True if created.

        Raises `InvalidDigest` or `DigestMismatch`; on any error, truncation or cancellation the
        temp file is removed and no blob appears.
        """
        import asyncio

        expected = normalize_digest(digest)
        # on the loop, not in a thread: a cancel landing while a thread created the temp file would
        # leave it behind (the try below would never see it)
        w = self.blob_writer()
        buf: list[bytes] = []
        pending = 0
        try:
            async for chunk in chunks:
                buf.append(bytes(chunk))
                pending += len(chunk)
                if pending >= _WRITE_BUFFER:
                    data, buf, pending = b"".join(buf), [], 0
                    await asyncio.to_thread(w.write, data)
            if buf:
                await asyncio.to_thread(w.write, b"".join(buf))
            return await asyncio.to_thread(w.commit, expected, size)
        except BaseException:
            w.abort()
            raise

    # --- manifests -----------------------------------------------------------------------------

    def manifest_path(self, name: ModelName) -> Path:
        return self.manifests_dir.joinpath(*name.relpath().parts)

    def _iter_manifest_files(self) -> Iterator[tuple[ModelName, Path]]:
        if not self.manifests_dir.is_dir():
            return
        for p in self.manifests_dir.glob("*/*/*/*"):
            if not p.is_file():
                continue
            n = ModelName.from_relpath(p.relative_to(self.manifests_dir).as_posix())
            if n is not None:
                yield n, p

    def resolve(self, name: ModelName) -> ModelName | None:
        """The stored spelling of `name` (case-insensitive match), or None."""
        if self.manifest_path(name).is_file():
            return name
        for n, _ in self._iter_manifest_files():
            if n.equal_fold(name):
                return n
        return None

    def existing_name(self, name: ModelName) -> ModelName:
        """Ollama's `getExistingName`: each part takes the spelling stored manifests already use.

        Host, namespace, model and tag are matched separately, so `create Alice/new` beside
        `alice/x` lands in the existing `alice/` folder instead of a second one. A stored model
        with the whole name wins outright; otherwise each part takes its first match in path order
        (Ollama takes whichever its map yields last, which can mix spellings at random).
        """
        whole = self.resolve(name)
        if whole is not None:
            return whole
        found: dict[str, str] = {}
        for n, _ in sorted(self._iter_manifest_files(), key=lambda item: item[1].as_posix()):
            for part in _NAME_PARTS:
                if part not in found and getattr(n, part).lower() == getattr(name, part).lower():
                    found[part] = getattr(n, part)
        return replace(name, **found)

    def read_manifest(self, name: ModelName) -> Manifest:
        found = self.resolve(name)
        if found is None:
            raise ManifestNotFound(name)
        p = self.manifest_path(found)
        try:
            data = p.read_bytes()
            st = p.stat()
        except FileNotFoundError:
            raise ManifestNotFound(name) from None
        m = Manifest.from_bytes(data)
        m.name, m.path, m.mtime_ns = found, p, st.st_mtime_ns
        return m

    def list_manifests(self) -> list[Manifest]:
        """Every readable manifest (bad ones are skipped, as Ollama does)."""
        out = []
        for n, p in self._iter_manifest_files():
            try:
                data = p.read_bytes()
                st = p.stat()
                m = Manifest.from_bytes(data)
            except (OSError, ValueError, BadRequest):
                continue
            m.name, m.path, m.mtime_ns = n, p, st.st_mtime_ns
            out.append(m)
        return out

    def referenced_digests(self, *, exclude: Path | None = None) -> set[str]:
        refs: set[str] = set()
        for m in self.list_manifests():
            if exclude is not None and m.path == exclude:
                continue
            refs.update(m.digests())
        return refs

    def write_manifest(
        self, name: ModelName, config: Layer, layers: list[Layer], *, pulled: bool = False
    ) -> Manifest:
        """Write the manifest last and atomically, refusing if any referenced blob is missing.

        Ollama writes a created model's manifest with Go's json.Encoder (a trailing newline) and a
        pulled one with json.Marshal (none); the bytes, and so the digest `list` shows, match its.
        """
        m = Manifest(config=config, layers=list(layers))
        data = m.to_bytes()
        if pulled:
            data = data.rstrip(b"\n")
        path = self.manifest_path(name)
        with self.lock:
            for d in m.digests():
                if not self.has_blob(d):
                    raise BlobNotFound(d)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)
        m.name, m.path = name, path
        m.digest = hashlib.sha256(data).hexdigest()
        m.mtime_ns = path.stat().st_mtime_ns
        return m

    def copy(self, src: ModelName, dst: ModelName) -> None:
        """Copy a manifest (blobs are shared). Raises `ManifestNotFound` for a missing source."""
        with self.lock:
            m = self.read_manifest(src)
            dst = self.existing_name(dst)
            assert m.path is not None
            if m.path == self.manifest_path(dst):
                return
            data = m.path.read_bytes()
            path = self.manifest_path(dst)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)  # the same bytes, so the copy lists with the same digest

    def delete(self, name: ModelName, *, prune_blobs: bool = True) -> Manifest:
        """Remove a model's manifest, empty folders, and the blobs nobody else references."""
        with self.lock:
            m = self.read_manifest(name)
            assert m.path is not None
            m.path.unlink()
            self.prune_empty_dirs()
            if prune_blobs:
                self.remove_unreferenced(m.digests())
        return m

    def remove_unreferenced(self, digests: list[str]) -> list[str]:
        """Delete those of `digests` that no manifest references; returns what was removed."""
        removed = []
        with self.lock:
            refs = self.referenced_digests()
            for d in dict.fromkeys(digests):
                if d in refs:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    self.blob_path(d).unlink()
                    removed.append(d)
        return removed

    def prune_empty_dirs(self) -> None:
        """Remove empty folders under manifests/ (deepest first)."""
        if not self.manifests_dir.is_dir():
            return
        for dirpath, _dirs, _files in sorted(os.walk(self.manifests_dir), key=lambda t: -len(t[0])):
            if Path(dirpath) == self.manifests_dir:
                continue
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)  # fails (and is skipped) when not empty

    # --- housekeeping --------------------------------------------------------------------------

    def fix_blobs(self) -> None:
        """Rename `sha256:<hex>` blobs (old Ollama, Windows-hostile) to `sha256-<hex>`."""
        if not self.blobs_dir.is_dir():
            return
        for p in self.blobs_dir.iterdir():
            if p.name.startswith("sha256:") and ":" in p.name:
                with contextlib.suppress(OSError):
                    os.replace(p, p.with_name(p.name.replace(":", "-")))

    def prune_blobs(self, *, min_age: float = 3600.0) -> list[str]:
        """Remove unreferenced blobs and stale temp files older than `min_age` seconds."""
        if not self.blobs_dir.is_dir():
            return []
        removed: list[str] = []
        now = time.time()
        with self.lock:
            refs = self.referenced_digests()
            for p in self.blobs_dir.iterdir():
                try:
                    st = p.stat()
                except OSError:
                    continue
                if now - st.st_mtime < min_age or not p.is_file():
                    continue
                if p.name.startswith(TMP_PREFIX):
                    p.unlink(missing_ok=True)
                    removed.append(p.name)
                    continue
                if not DIGEST_RE.fullmatch(p.name):
                    continue  # e.g. a -partial download: the puller owns it
                if normalize_digest(p.name) not in refs:
                    p.unlink(missing_ok=True)
                    removed.append(p.name)
        return removed

    def housekeeping(self, *, noprune: bool = False, min_age: float = 3600.0) -> None:
        """Startup chores, as Ollama's server does them (OLLAMA_NOPRUNE skips pruning)."""
        self.fix_blobs()
        if self.manifests_dir.is_dir():
            for p in self.manifests_dir.rglob(f"{TMP_PREFIX}*"):
                if time.time() - p.stat().st_mtime >= min_age:
                    p.unlink(missing_ok=True)
        if not noprune:
            self.prune_blobs(min_age=min_age)
            self.prune_empty_dirs()
