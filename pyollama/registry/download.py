"""Blob downloads: parallel ranged parts into `<blob>-partial`, resumable from `-partial-N` state.

Layout (Ollama's download.go): the data goes to `blobs/sha256-<hex>-partial` (a sparse file of the
final size), and part `N`'s progress to `blobs/sha256-<hex>-partial-N` as
`{"N":..,"Offset":..,"Size":..,"Completed":..}`. Bytes are written to the data file *before* the
part state that counts them is saved, so after a kill -9 the state never claims bytes that were not
written; a resumed pull asks only for `Offset+Completed ..` of each part. The sha256 of the whole
file is checked before it is renamed into place, so a torn write can cost a re-download, never a
wrong blob. That sha256 is computed while the download runs (`PrefixHasher`, a worker thread that
reads back the file's complete prefix), so a finished download is not read a second time; and its
running state is checkpointed to `-partial.sha256` (after an fdatasync of the bytes it covers), so a
resumed pull hashes only the bytes after the checkpoint instead of the whole prefix again. That file
is pyollama's own (Ollama's resume globs `-partial-*`, which it does not match), and it is trusted
only by the part files of the download that wrote it (their extra `Gen` field, which Go's decoder
ignores and Ollama drops when it rewrites them).

One `BlobDownload` per (store, digest) runs at a time in a process (`DownloadManager`); every pull
that needs the blob watches it, and it is cancelled when the last watcher leaves.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from yarl import URL

from pyollama.registry.client import RegistryClient
from pyollama.registry.hashstate import ResumableSha256, load_sha256
from pyollama.registry.types import Progress, RegistryError, TransferOptions, TransientError
from pyollama.store.files import atomic_write, commit_temp
from pyollama.store.store import Store, file_digest

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class StallError(TransientError):
    pass


@dataclass
class Part:
    n: int
    offset: int
    size: int
    completed: int = 0
    saved: int = 0  # `completed` as the part's state file last recorded it
    # which download planned this part (pyollama's own field; Ollama ignores it and drops it when
    # it rewrites the file): a sha256 checkpoint is only trusted by parts of its own download
    gen: str = ""

    def to_json(self) -> dict[str, int | str]:
        d: dict[str, int | str] = {
            "N": self.n,
            "Offset": self.offset,
            "Size": self.size,
            "Completed": self.completed,
        }
        if self.gen:
            d["Gen"] = self.gen
        return d


def plan_parts(total: int, part_size: int) -> list[Part]:
    parts: list[Part] = []
    offset = 0
    gen = secrets.token_hex(8)
    while offset < total:
        size = min(part_size, total - offset)
        parts.append(Part(len(parts), offset, size, gen=gen))
        offset += size
    return parts


def partial_path(blob: Path) -> Path:
    return blob.with_name(blob.name + "-partial")


def state_path(blob: Path, n: int) -> Path:
    return blob.with_name(f"{blob.name}-partial-{n}")


def state_files(blob: Path) -> list[Path]:
    prefix = blob.name + "-partial-"
    return [p for p in blob.parent.glob(prefix + "*") if p.name[len(prefix) :].isdigit()]


def load_parts(blob: Path, total: int) -> list[Part] | None:
    """Saved part state, or None when it is missing or does not describe exactly `total` bytes."""
    if not partial_path(blob).is_file():
        return None
    parts: list[Part] = []
    for p in state_files(blob):
        try:
            d = json.loads(p.read_bytes())
            part = Part(int(d["N"]), int(d["Offset"]), int(d["Size"]), int(d["Completed"]))
            part.saved = part.completed
            part.gen = str(d.get("Gen", ""))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not (0 <= part.completed <= part.size) or part.offset < 0:
            return None
        parts.append(part)
    parts.sort(key=lambda x: x.offset)
    offset = 0
    for i, part in enumerate(parts):
        if part.offset != offset or part.n != i:
            return None
        offset += part.size
    return parts if parts and offset == total else None


def save_part(blob: Path, part: Part) -> None:
    """Atomically replace `-partial-N` (a kill leaves the old or the new state).

    Not fsync'ed: it is rewritten several times a second per part, on the event loop, and after a
    power cut a stale state only costs re-fetching bytes (the sha256 check catches the rest)."""
    completed = part.completed
    data = json.dumps(part.to_json(), separators=(",", ":")).encode()
    atomic_write(state_path(blob, part.n), data, durable=False)
    part.saved = completed


def hash_state_path(blob: Path) -> Path:
    return blob.with_name(blob.name + "-partial.sha256")


def load_hash_state(blob: Path, parts: list[Part]) -> ResumableSha256 | None:
    """The checkpointed sha256 of the `-partial` file's first bytes, when it can be trusted.

    Trusted only if it was taken during the download that planned these parts (every part file
    still carries that download's `Gen`: not one another tool started again or rewrote), every
    byte it covers is complete by the saved part state (so no resumed write lands below it), and
    it restores cleanly; anything else means hashing from byte 0.
    """
    lib = load_sha256()
    path = hash_state_path(blob)
    if lib is None or not path.is_file():
        return None
    try:
        d = json.loads(path.read_bytes())
        offset, state = int(d["Offset"]), bytes.fromhex(d["State"])
        gen = str(d["Gen"])
        if not gen or any(p.gen != gen for p in parts):
            return None
        if not 0 < offset <= complete_prefix(parts, "completed"):
            return None
        return ResumableSha256(lib, state, offset)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_hash_state(blob: Path, h: ResumableSha256, gen: str) -> None:
    """Record `h` as the hash of the first `h.offset` bytes of the `-partial` file of download `gen`."""
    data = json.dumps({"Offset": h.offset, "State": h.state().hex(), "Gen": gen}).encode()
    atomic_write(hash_state_path(blob), data)


def complete_prefix(parts: list[Part], field: str) -> int:
    """How many bytes from 0 are complete, by each part's `completed` (live) or `saved` (on disk)."""
    end = 0
    for p in sorted(parts, key=lambda x: x.offset):
        if p.offset != end:
            break
        end = p.offset + getattr(p, field)
        if getattr(p, field) < p.size:
            break
    return end


def remove_partial(blob: Path) -> None:
    for p in [
        partial_path(blob),
        *state_files(blob),
        *blob.parent.glob(blob.name + "-partial-*.tmp"),  # older pyollama's temp names (now the
        *blob.parent.glob(blob.name + "-partial.*.tmp"),  # store's temp files, which housekeeping removes)
        hash_state_path(blob),
        hash_state_path(blob).with_name(hash_state_path(blob).name + ".tmp"),
    ]:
        p.unlink(missing_ok=True)


class _Hash(Protocol):
    def update(self, data: Any, /) -> None: ...
    def hexdigest(self) -> str: ...


class PrefixHasher:
    """sha256 of the `-partial` file, fed by a worker thread as its prefix becomes complete.

    The bytes of part i in [offset, offset+completed) are on disk and never written again (a part
    only ever resumes at offset+completed), so the thread hashes the file in order up to the first
    byte not yet complete, and waits for progress there. It reads the file rather than the network
    stream, so its digest is exactly the file's. Anything unexpected (a write below what was hashed,
    a read error) makes `result()` None and the caller hashes the file itself.
    """

    STEP = 4 << 20  # read (and wake up) in steps of this many bytes
    SYNC_STEP = 32 << 20  # flush written data while waiting, once this much is dirty
    CHECKPOINT_STEP = 64 << 20  # save the hash state (after an fdatasync) every this many bytes

    def __init__(self, path: Path, parts: list[Part], total: int, *, blob: Path | None = None) -> None:
        """`blob`: keep (and start from) that blob's `-partial.sha256` checkpoint; None: no checkpoints."""
        self.path = path
        self.parts = sorted(parts, key=lambda p: p.offset)
        self.total = total
        self.blob = blob
        self._resumed = load_hash_state(blob, self.parts) if blob is not None else None
        self.pos = self._resumed.offset if self._resumed else 0  # bytes hashed so far
        self.claimed = self.pos  # bytes hashed or being read: writes below this invalidate the digest
        self._cond = threading.Condition()
        self._closed = False
        self._invalid = False
        self._unnotified = 0
        self.dirty = 0  # bytes written since the thread last flushed them (while it had nothing to hash)
        self._future: Future[str | None] = Future()
        self._thread = threading.Thread(target=self._work, name=f"sha256 {path.name[7:19]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def advanced(self, n: int, part_done: bool) -> None:
        """Called (on the event loop) after `n` more bytes of a part were written and counted."""
        self._unnotified += n
        self.dirty += n
        if part_done or self._unnotified >= self.STEP:
            self._unnotified = 0
            with self._cond:
                self._cond.notify()

    def writing(self, offset: int) -> None:
        """Bytes are about to be written from `offset` on: if that is below what was hashed, give up."""
        if offset < self.claimed:
            self.invalidate()

    def invalidate(self) -> None:
        with self._cond:
            self._invalid = True
            self._closed = True
            self._cond.notify()

    def close(self) -> None:
        """Stop the thread (it owns its own fd, so this never waits for a read)."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    async def result(self) -> str | None:
        """`sha256:<hex>` of the whole file, or None when it could not be computed incrementally."""
        return await asyncio.wrap_future(self._future)

    def _complete_to(self, pos: int, i: int) -> int:
        """End of the run of complete bytes starting at `pos`, which lies in part `i`."""
        parts = self.parts
        while i < len(parts):
            p = parts[i]
            if not p.offset <= pos <= p.offset + p.completed:  # progress went back: let the caller hash
                raise ValueError(f"part {p.n} does not continue at byte {pos}")
            pos = p.offset + p.completed
            if p.completed < p.size:
                break
            i += 1
        return pos

    def _work(self) -> None:
        self._future.set_running_or_notify_cancel()  # from now on a cancelled waiter cannot cancel it
        digest: str | None = None
        try:
            digest = self._hash()
        except BaseException:  # any failure means "hash the file yourself"
            digest = None
        finally:
            self._future.set_result(digest)

    def _hasher(self) -> _Hash:
        if self._resumed is not None:
            return self._resumed
        lib = load_sha256()
        if lib is not None and self.blob is not None:
            return ResumableSha256(lib)
        return hashlib.sha256()

    def _checkpoint(self, fd: int, h: _Hash) -> bool:
        """Save the hash state if every byte it covers is durable and counted by saved part state."""
        gen = self.parts[0].gen
        if self.blob is None or not isinstance(h, ResumableSha256) or not gen:
            return False
        if self.pos > complete_prefix(self.parts, "saved"):
            return False  # a resume would refetch (rewrite) some of these bytes: wait for the state
        os.fdatasync(fd)  # the state never vouches for bytes a power cut could still lose
        save_hash_state(self.blob, h, gen)
        return True

    def _hash(self) -> str | None:
        h = self._hasher()
        checkpointed = self.pos
        buf = bytearray(self.STEP)
        view = memoryview(buf)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            i = 0  # the part self.pos lies in
            while self.pos < self.total:
                while self.pos >= self.parts[i].offset + self.parts[i].size:
                    i += 1
                with self._cond:
                    while True:
                        if self._closed:
                            return None
                        end = self._complete_to(self.pos, i)
                        if end - self.pos >= self.STEP or end == self.total:
                            break
                        if self.dirty >= self.SYNC_STEP:
                            # idle: start writing back now, so the fsync before the rename has less to do
                            self.dirty = 0
                            self._cond.release()
                            try:
                                os.fdatasync(fd)
                            finally:
                                self._cond.acquire()
                            continue
                        self._cond.wait(1.0)
                    self.claimed = min(end, self.pos + self.STEP)
                want = self.claimed - self.pos
                got = os.preadv(fd, [view[:want]], self.pos)
                if got <= 0:
                    return None
                h.update(view[:got])  # releases the GIL on buffers this large
                self.pos += got
                due = self.pos - checkpointed >= self.CHECKPOINT_STEP and self.pos < self.total
                if due and self._checkpoint(fd, h):
                    checkpointed = self.pos
        finally:
            os.close(fd)
        with self._cond:
            if self._invalid:
                return None
        return "sha256:" + h.hexdigest()


class BlobDownload:
    """Fetches one blob into the store; `completed`/`total` are read by every watcher."""

    def __init__(self, store: Store, digest: str, total: int, client: RegistryClient) -> None:
        self.store = store
        self.digest = digest
        self.total = total
        self.completed = 0
        self.fetched = 0  # bytes received over the network by this run (tests, bench)
        self.client = client
        self.options: TransferOptions = client.options
        self.blob = store.blob_path(digest)
        self.refs = 0
        self.task: asyncio.Task[None] | None = None
        self._hasher: PrefixHasher | None = None

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            await self.client.close()

    async def _run(self) -> None:
        if self.store.has_blob(self.digest):
            self.completed = self.total
            return
        blob = self.blob
        blob.parent.mkdir(parents=True, exist_ok=True)
        parts = load_parts(blob, self.total)
        if parts is None:
            remove_partial(blob)
            parts = plan_parts(self.total, self.options.part_size(self.total))
        have = sum(p.completed for p in parts)
        free = shutil.disk_usage(blob.parent).free
        if self.total - have > free:
            raise RegistryError(
                f"not enough disk space for {self.digest}: need {self.total - have} bytes, {free} free"
            )
        self.completed = have
        fd = os.open(partial_path(blob), os.O_RDWR | os.O_CREAT, 0o644)
        hasher: PrefixHasher | None = None
        try:
            if os.fstat(fd).st_size != self.total:
                os.ftruncate(fd, self.total)
            for part in parts:
                if not state_path(blob, part.n).exists():
                    save_part(blob, part)
            # hashes the complete prefix now (on resume: from its checkpoint) and the rest as it arrives
            hasher = self._hasher = PrefixHasher(partial_path(blob), parts, self.total, blob=blob)
            hasher.start()
            url = [self.client.blob_url(self.digest)]
            # at most `concurrent_parts` at once, started in file order: the complete prefix (and so
            # the hash) keeps up with the download instead of waiting for the last part
            gate = asyncio.Semaphore(max(1, self.options.concurrent_parts))

            async def fetch(part: Part) -> None:
                async with gate:
                    await self._part(fd, part, url)

            async with asyncio.TaskGroup() as tg:
                for part in parts:
                    if part.completed < part.size:
                        tg.create_task(fetch(part))
            got = await hasher.result()
        except* RegistryError as eg:
            raise eg.exceptions[0] from None
        except* OSError as eg:  # the disk (full, read-only, I/O error): its own words, not a group
            raise RegistryError(f"{self.digest[7:19]}: {eg.exceptions[0]}") from None
        finally:
            if hasher is not None:
                hasher.close()
            self._hasher = None
            os.close(fd)
        await asyncio.to_thread(self._verify_and_commit, got)

    def _verify_and_commit(self, got: str | None = None) -> None:
        """Check the sha256 (`got`, hashed during the download, or the file's when None), then commit."""
        blob = self.blob
        partial = partial_path(blob)
        if got is None:
            got = file_digest(partial)
        if got != self.digest:
            remove_partial(blob)
            raise RegistryError(
                f"digest mismatch, file must be downloaded again: want {self.digest}, got {got}"
            )
        commit_temp(partial, blob)  # data durable before the name says "complete"
        for p in [*state_files(blob), hash_state_path(blob)]:
            p.unlink(missing_ok=True)

    async def _part(self, fd: int, part: Part, url: list[URL]) -> None:
        """Fetch what is missing of one part; transient errors are retried with exponential back-off."""
        opts = self.options
        tries = stalls = 0
        while part.completed < part.size:
            try:
                await self._fetch(fd, part, url)
            except StallError as exc:
                stalls += 1
                if stalls > opts.max_stalls:
                    raise RegistryError(f"{self.digest[7:19]} part {part.n} stalled: {exc}") from None
                await asyncio.sleep(min(opts.backoff, 1.0))
            except TransientError as exc:
                tries += 1
                if tries >= opts.max_retries:
                    raise RegistryError(f"{exc} (after {tries} tries)") from None
                await asyncio.sleep(opts.backoff * 2**tries)
            finally:
                save_part(self.blob, part)

    async def _fetch(self, fd: int, part: Part, url: list[URL]) -> None:
        start = part.offset + part.completed
        end = part.offset + part.size - 1
        hasher = self._hasher
        if hasher is not None:
            hasher.writing(start)
        want = end - start + 1
        resp = await self.client.request(
            "GET", url[0], headers={"Range": f"bytes={start}-{end}"}, follow_redirects=False
        )
        redirects = 0
        while resp.status in (301, 302, 303, 307, 308):
            # Follow to the blob's direct location (a CDN, maybe) and remember it for the other parts.
            location = resp.headers.get("Location", "")
            resp.release()
            redirects += 1
            if not location or redirects > self.options.max_redirects:
                raise RegistryError("too many redirects" if location else "redirect without a location")
            url[0] = self.client.check_redirect(url[0], location)
            resp = await self.client.request(
                "GET", url[0], headers={"Range": f"bytes={start}-{end}"}, follow_redirects=False
            )
        surplus = False
        try:
            if resp.status == 206:
                m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
                if (
                    not m
                    or int(m.group(1)) != start
                    or int(m.group(2)) != end
                    or (m.group(3) != "*" and int(m.group(3)) != self.total)
                ):
                    raise RegistryError(
                        f"registry sent range {resp.headers.get('Content-Range', '')!r}"
                        f" for bytes={start}-{end} of {self.total}"
                    )
            elif resp.status == 200:
                if start != 0:
                    raise RegistryError("registry does not support range requests")
                if resp.content_length is not None and resp.content_length != self.total:
                    raise RegistryError(
                        f"blob {self.digest} is {resp.content_length} bytes, manifest says {self.total}"
                    )
            else:
                raise await self.client.error_from(resp, "")
            if resp.status == 206 and resp.content_length is not None and resp.content_length != want:
                raise RegistryError(f"wrong content length {resp.content_length} for {want} bytes requested")
            pos = start
            last_save = time.monotonic()
            content = resp.content
            while pos <= end:
                try:
                    chunk = await content.readany()
                except (TimeoutError, aiohttp.ServerTimeoutError):
                    raise StallError(f"no data for {self.options.stall_timeout:g}s") from None
                except aiohttp.ClientError as exc:
                    raise TransientError(
                        f"reading {self.digest[7:19]}: {exc or type(exc).__name__}"
                    ) from None
                if not chunk:
                    raise TransientError(f"unexpected EOF at byte {pos} of {self.digest[7:19]}")
                n = len(chunk)
                if n > end + 1 - pos:
                    chunk = chunk[: end + 1 - pos]  # more than asked for: keep what was asked, drop the rest
                    n = len(chunk)
                    surplus = True
                os.pwrite(fd, chunk, pos)
                pos += n
                part.completed += n
                self.completed += n
                self.fetched += n
                if hasher is not None:
                    hasher.advanced(n, part.completed == part.size)
                now = time.monotonic()
                if now - last_save >= self.options.state_interval:
                    save_part(self.blob, part)
                    last_save = now
            if resp.status == 200 and not content.at_eof():
                surplus = True
        finally:
            if surplus:
                resp.close()  # never drain an endless body
            else:
                resp.release()


class DownloadManager:
    """The blob downloads in flight in this process, so concurrent pulls share one per blob."""

    def __init__(self) -> None:
        self._active: dict[tuple[str, str], BlobDownload] = {}

    def get(self, store: Store, digest: str) -> BlobDownload | None:
        return self._active.get((str(store.root.resolve()), digest))

    def start(self, store: Store, digest: str, total: int, client: RegistryClient) -> BlobDownload:
        key = (str(store.root.resolve()), digest)
        dl = self._active.get(key)
        if dl is not None and dl.task is not None and not dl.task.done():
            return dl
        dl = BlobDownload(store, digest, total, client.fork())
        dl.task = asyncio.get_running_loop().create_task(dl.run(), name=f"pull {digest[7:19]}")

        def _done(task: asyncio.Task[None]) -> None:
            if self._active.get(key) is dl:
                del self._active[key]
            if not task.cancelled():
                task.exception()  # retrieved here so asyncio never logs it as unretrieved

        dl.task.add_done_callback(_done)
        self._active[key] = dl
        return dl

    async def watch(self, dl: BlobDownload, label: str, interval: float) -> AsyncIterator[Progress]:
        """Progress of a shared download; leaving early drops this watcher (the last one cancels it)."""
        task = dl.task
        assert task is not None
        dl.refs += 1
        try:
            await asyncio.sleep(0)  # let a new download count what an earlier pull left (resume)
            last = -1
            while not task.done():
                if dl.completed != last:
                    last = dl.completed
                    yield Progress(status=label, digest=dl.digest, total=dl.total, completed=dl.completed)
                await asyncio.wait({task}, timeout=interval)
            if task.cancelled():
                raise RegistryError("download canceled")
            exc = task.exception()
            if exc is not None:
                if isinstance(exc, RegistryError):
                    raise RegistryError(exc.message) from None
                raise RegistryError(f"{label}: {exc}") from exc
            yield Progress(status=label, digest=dl.digest, total=dl.total, completed=dl.total)
        finally:
            dl.refs -= 1
            if dl.refs <= 0 and not task.done():
                task.cancel()
