"""The sha256 computed during a download (`PrefixHasher`) and its use by `_verify_and_commit`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
from pathlib import Path

import pytest

from pyollama.registry import RegistryError
from pyollama.registry import download as dl_mod
from pyollama.registry.client import RegistryClient
from pyollama.registry.download import (
    BlobDownload,
    Part,
    PrefixHasher,
    hash_state_path,
    load_hash_state,
    load_parts,
    partial_path,
    plan_parts,
    remove_partial,
    save_hash_state,
    save_part,
)
from pyollama.registry.hashstate import ResumableSha256, load_sha256
from pyollama.store import ModelName, Store
from pyollama.store.store import file_digest

TOTAL = 50_000
GEN = "0123456789abcdef"


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def sparse_file(path: Path, size: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, size)
    return fd


async def feed(
    fd: int, hasher: PrefixHasher, parts: list[Part], data: bytes, seed: int, *, save: bool = False
) -> None:
    """Write the missing bytes of every part in small chunks, parts interleaved at random.

    `save`: each part's state counts as saved as soon as its bytes are written (checkpoints allowed).
    """
    rng = random.Random(seed)
    todo = [p for p in parts if p.completed < p.size]
    while todo:
        part = rng.choice(todo)
        pos = part.offset + part.completed
        n = min(rng.randint(1, 3000), part.size - part.completed)
        hasher.writing(pos)
        os.pwrite(fd, data[pos : pos + n], pos)  # on disk before it is counted, as `_fetch` does
        part.completed += n
        if save:
            part.saved = part.completed
        hasher.advanced(n, part.completed == part.size)
        if part.completed == part.size:
            todo.remove(part)
        await asyncio.sleep(0)


def small_hasher(path: Path, parts: list[Part], total: int, blob: Path | None = None) -> PrefixHasher:
    hasher = PrefixHasher(path, parts, total, blob=blob)
    hasher.STEP = 1024  # many steps, many waits on a small file
    hasher.CHECKPOINT_STEP = 4096
    return hasher


needs_resumable = pytest.mark.skipif(load_sha256() is None, reason="no resumable sha256 here")


def checkpoint(blob: Path, data: bytes) -> None:
    """A `-partial.sha256` as an interrupted pull leaves it, covering `data`."""
    lib = load_sha256()
    assert lib is not None
    h = ResumableSha256(lib)
    h.update(data)
    save_hash_state(blob, h, GEN)


def interrupted(path: Path, data: bytes, done: tuple[int, ...]) -> tuple[int, list[Part]]:
    """A `-partial` file and its parts as a pull interrupted with `done` bytes per part leaves them."""
    fd = sparse_file(path, len(data))
    parts = plan_parts(len(data), 20_000)
    for part, n in zip(parts, done, strict=True):
        part.completed = part.saved = n
        part.gen = GEN
        os.pwrite(fd, data[part.offset : part.offset + n], part.offset)
    return fd, parts


@pytest.mark.parametrize("seed", range(5))
async def test_digest_equals_file_digest_parts_out_of_order(tmp_path: Path, seed: int) -> None:
    data = random.Random(seed).randbytes(TOTAL)
    path = tmp_path / "blob-partial"
    fd = sparse_file(path, TOTAL)
    parts = plan_parts(TOTAL, 7_000)
    hasher = small_hasher(path, parts, TOTAL)
    hasher.start()
    try:
        await feed(fd, hasher, parts, data, seed)
        got = await asyncio.wait_for(hasher.result(), 10)
    finally:
        hasher.close()
        os.close(fd)
    assert got == sha(data) == file_digest(path)


async def test_resume_hashes_existing_prefix_and_the_rest(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(TOTAL)
    path = tmp_path / "blob-partial"
    fd = sparse_file(path, TOTAL)
    parts = plan_parts(TOTAL, 20_000)
    for part, done in zip(parts, (20_000, 5_123, 0), strict=True):  # left by an interrupted pull
        part.completed = done
        os.pwrite(fd, data[part.offset : part.offset + done], part.offset)
    hasher = small_hasher(path, parts, TOTAL)
    hasher.start()
    try:
        await feed(fd, hasher, parts, data, 1)
        got = await asyncio.wait_for(hasher.result(), 10)
    finally:
        hasher.close()
        os.close(fd)
    assert got == sha(data)


async def test_nothing_missing_hashes_at_once(tmp_path: Path) -> None:
    data = random.Random(8).randbytes(TOTAL)
    path = tmp_path / "blob-partial"
    path.write_bytes(data)
    parts = plan_parts(TOTAL, 20_000)
    for part in parts:
        part.completed = part.size
    hasher = small_hasher(path, parts, TOTAL)
    hasher.start()
    assert await asyncio.wait_for(hasher.result(), 10) == sha(data)


async def test_write_below_hashed_bytes_gives_up(tmp_path: Path) -> None:
    """A part that restarts lower than what was hashed: no incremental digest, the caller re-reads."""
    data = random.Random(9).randbytes(TOTAL)
    path = tmp_path / "blob-partial"
    path.write_bytes(data)
    parts = plan_parts(TOTAL, 20_000)
    parts[0].completed = parts[0].size
    hasher = small_hasher(path, parts, TOTAL)
    hasher.start()
    try:
        for _ in range(1000):
            if hasher.claimed >= 10_000:
                break
            await asyncio.sleep(0.005)
        hasher.writing(0)
        assert await asyncio.wait_for(hasher.result(), 10) is None
    finally:
        hasher.close()


async def test_part_progress_going_backwards_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "blob-partial"
    path.write_bytes(bytes(TOTAL))
    parts = plan_parts(TOTAL, 20_000)
    parts[0].completed = 15_000
    hasher = small_hasher(path, parts, TOTAL)
    hasher.start()
    try:
        for _ in range(1000):
            if hasher.pos >= 14_000:
                break
            await asyncio.sleep(0.005)
        parts[0].completed = 1_000
        hasher.advanced(0, True)
        assert await asyncio.wait_for(hasher.result(), 10) is None
    finally:
        hasher.close()


async def test_close_stops_a_waiting_hasher(tmp_path: Path) -> None:
    path = tmp_path / "blob-partial"
    path.write_bytes(bytes(TOTAL))
    hasher = small_hasher(path, plan_parts(TOTAL, 20_000), TOTAL)
    hasher.start()
    hasher.close()
    assert await asyncio.wait_for(hasher.result(), 10) is None


def blob_download(tmp_path: Path, data: bytes, want: str) -> BlobDownload:
    store = Store(tmp_path / "models")
    client = RegistryClient(ModelName.parse("example.com/ns/m:latest"))
    dl = BlobDownload(store, want, len(data), client)
    dl.blob.parent.mkdir(parents=True)
    partial_path(dl.blob).write_bytes(data)
    return dl


async def test_commit_uses_incremental_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"weights" * 1000
    dl = blob_download(tmp_path, data, sha(data))

    def no_reread(path: Path) -> str:
        raise AssertionError("the file was hashed again")

    monkeypatch.setattr(dl_mod, "file_digest", no_reread)
    try:
        dl._verify_and_commit(sha(data))
    finally:
        await dl.client.close()
    assert dl.blob.read_bytes() == data
    assert not partial_path(dl.blob).exists()


async def test_incremental_mismatch_is_detected_and_deleted(tmp_path: Path) -> None:
    """Wrong bytes on disk hash (incrementally) to another digest: deleted, Ollama's message."""
    good = random.Random(3).randbytes(TOTAL)
    bad = bytearray(good)
    bad[TOTAL - 1] ^= 1
    path = tmp_path / "blob-partial"
    fd = sparse_file(path, TOTAL)
    parts = plan_parts(TOTAL, 7_000)
    hasher = small_hasher(path, parts, TOTAL)
    hasher.start()
    try:
        await feed(fd, hasher, parts, bytes(bad), 4)
        got = await asyncio.wait_for(hasher.result(), 10)
    finally:
        hasher.close()
        os.close(fd)
    assert got == sha(bytes(bad))
    dl = blob_download(tmp_path, bytes(bad), sha(good))
    try:
        with pytest.raises(
            RegistryError,
            match=f"digest mismatch, file must be downloaded again: want {sha(good)}, got {got}",
        ):
            dl._verify_and_commit(got)
    finally:
        await dl.client.close()
    assert not partial_path(dl.blob).exists()
    assert not dl.blob.exists()


@needs_resumable
async def test_resume_starts_at_the_checkpoint(tmp_path: Path) -> None:
    """The checkpointed prefix is not read again: zeroing it on disk does not change the digest."""
    data = random.Random(11).randbytes(TOTAL)
    blob, path = tmp_path / "blob", tmp_path / "blob-partial"
    fd, parts = interrupted(path, data, (20_000, 5_123, 0))
    checkpoint(blob, data[:16_001])
    os.pwrite(fd, bytes(16_001), 0)
    hasher = small_hasher(path, parts, TOTAL, blob)
    assert hasher.pos == hasher.claimed == 16_001
    hasher.start()
    try:
        await feed(fd, hasher, parts, data, 2)
        got = await asyncio.wait_for(hasher.result(), 10)
    finally:
        hasher.close()
        os.close(fd)
    assert got == sha(data)


@needs_resumable
async def test_checkpoint_past_the_saved_parts_is_ignored(tmp_path: Path) -> None:
    """Part state that counts fewer bytes than the checkpoint: those bytes will be fetched again."""
    data = random.Random(12).randbytes(TOTAL)
    blob, path = tmp_path / "blob", tmp_path / "blob-partial"
    fd, parts = interrupted(path, data, (20_000, 5_123, 0))
    checkpoint(blob, data[:30_000])
    assert load_hash_state(blob, parts) is None
    hasher = small_hasher(path, parts, TOTAL, blob)
    assert hasher.pos == 0
    hasher.start()
    try:
        await feed(fd, hasher, parts, data, 3)
        assert await asyncio.wait_for(hasher.result(), 10) == sha(data)
    finally:
        hasher.close()
        os.close(fd)


@pytest.mark.parametrize("bad", ["{", '{"Offset": 100}', '{"Offset": 100, "State": "00"}', '{"Offset": -1}'])
def test_broken_checkpoint_is_ignored(tmp_path: Path, bad: str) -> None:
    blob = tmp_path / "blob"
    parts = plan_parts(TOTAL, 20_000)
    for part in parts:
        part.completed = part.saved = part.size
    hash_state_path(blob).write_text(bad)
    assert load_hash_state(blob, parts) is None


@needs_resumable
async def test_checkpoint_of_another_download_is_ignored(tmp_path: Path) -> None:
    """Parts planned again (by another tool, or rewritten by Ollama without `Gen`): not trusted."""
    data = random.Random(14).randbytes(TOTAL)
    blob, path = tmp_path / "blob", tmp_path / "blob-partial"
    fd, parts = interrupted(path, data, (20_000, 20_000, 0))
    os.close(fd)
    checkpoint(blob, data[:16_000])
    assert load_hash_state(blob, parts) is not None
    parts[1].gen = ""  # Ollama resumed part 1 and rewrote its state file
    assert load_hash_state(blob, parts) is None
    for part in parts:
        part.gen = "another download"
    assert load_hash_state(blob, parts) is None


async def test_part_files_stay_ollama_readable(tmp_path: Path) -> None:
    """Ollama's fields, plus `Gen`, which Go's json decoder ignores."""
    blob = tmp_path / "blob"
    partial_path(blob).write_bytes(bytes(TOTAL))
    parts = plan_parts(TOTAL, 20_000)
    for part in parts:
        save_part(blob, part)
    loaded = load_parts(blob, TOTAL)
    assert loaded is not None and [p.gen for p in loaded] == [parts[0].gen] * 3
    d = json.loads(dl_mod.state_path(blob, 1).read_bytes())
    assert d == {"N": 1, "Offset": 20_000, "Size": 20_000, "Completed": 0, "Gen": parts[0].gen}


@needs_resumable
@pytest.mark.parametrize("saved", [True, False])
async def test_checkpoints_only_cover_saved_bytes(tmp_path: Path, saved: bool) -> None:
    data = random.Random(13).randbytes(TOTAL)
    blob, path = tmp_path / "blob", tmp_path / "blob-partial"
    fd = sparse_file(path, TOTAL)
    parts = plan_parts(TOTAL, 7_000)
    hasher = small_hasher(path, parts, TOTAL, blob)
    hasher.start()
    try:
        await feed(fd, hasher, parts, data, 5, save=saved)
        assert await asyncio.wait_for(hasher.result(), 10) == sha(data)
    finally:
        hasher.close()
        os.close(fd)
    if not saved:  # no part state on disk vouches for any byte: nothing to checkpoint
        assert not hash_state_path(blob).exists()
        return
    resumed = load_hash_state(blob, parts)
    assert resumed is not None and 0 < resumed.offset < TOTAL
    resumed.update(data[resumed.offset :])
    assert "sha256:" + resumed.hexdigest() == sha(data)
    remove_partial(blob)
    assert not hash_state_path(blob).exists()


async def test_commit_removes_the_checkpoint(tmp_path: Path) -> None:
    data = b"weights" * 1000
    dl = blob_download(tmp_path, data, sha(data))
    hash_state_path(dl.blob).write_text("{}")
    try:
        dl._verify_and_commit(sha(data))
    finally:
        await dl.client.close()
    assert dl.blob.read_bytes() == data
    assert not hash_state_path(dl.blob).exists()
