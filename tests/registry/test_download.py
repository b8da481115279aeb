"""The sha256 computed during a download (`PrefixHasher`) and its use by `_verify_and_commit`."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from pathlib import Path

import pytest

from pyollama.registry import RegistryError
from pyollama.registry import download as dl_mod
from pyollama.registry.client import RegistryClient
from pyollama.registry.download import BlobDownload, Part, PrefixHasher, partial_path, plan_parts
from pyollama.store import ModelName, Store

TOTAL = 50_000


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def sparse_file(path: Path, size: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, size)
    return fd


async def feed(fd: int, hasher: PrefixHasher, parts: list[Part], data: bytes, seed: int) -> None:
    """Write the missing bytes of every part in small chunks, parts interleaved at random."""
    rng = random.Random(seed)
    todo = [p for p in parts if p.completed < p.size]
    while todo:
        part = rng.choice(todo)
        pos = part.offset + part.completed
        n = min(rng.randint(1, 3000), part.size - part.completed)
        hasher.writing(pos)
        os.pwrite(fd, data[pos : pos + n], pos)  # on disk before it is counted, as `_fetch` does
        part.completed += n
        hasher.advanced(n, part.completed == part.size)
        if part.completed == part.size:
            todo.remove(part)
        await asyncio.sleep(0)


def small_hasher(path: Path, parts: list[Part], total: int) -> PrefixHasher:
    hasher = PrefixHasher(path, parts, total)
    hasher.STEP = 1024  # many steps, many waits on a small file
    return hasher


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
    assert got == sha(data) == dl_mod.file_digest(path)


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
