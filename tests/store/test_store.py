from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyollama.store import (
    BlobNotFound,
    DigestMismatch,
    InvalidDigest,
    Layer,
    ManifestNotFound,
    ModelDetails,
    ModelName,
    Store,
    list_models,
    show_model,
)
from pyollama.store.store import MEDIA_CONFIG, MEDIA_MODEL, MEDIA_SYSTEM, Manifest
from tests.store.conftest import gguf_py_reader, sha

HOSTILE_DIGESTS = [
    "",
    "sha256:",
    "sha256:abc",
    "sha256:" + "0" * 63,
    "sha256:" + "0" * 65,
    "sha256:" + "g" * 64,
    "sha256:../../etc/passwd",
    "../" + "0" * 64,
    "/etc/passwd",
    "sha256-" + "0" * 63 + "/",
    "sha256:" + "0" * 63 + "\x00",
    "sha512:" + "0" * 64,
    "SHA256:" + "0" * 64,
    " sha256:" + "0" * 64,
]


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def _chunks(*parts: bytes, fail: BaseException | None = None) -> AsyncIterator[bytes]:
    for p in parts:
        yield p
        await asyncio.sleep(0)
    if fail is not None:
        raise fail


@pytest.mark.parametrize("digest", HOSTILE_DIGESTS)
def test_invalid_digests_never_become_paths(store: Store, digest: str) -> None:
    with pytest.raises(InvalidDigest, match=r"^invalid digest format$"):
        store.blob_path(digest)
    with pytest.raises(InvalidDigest):
        asyncio.run(store.write_blob_stream(digest, _chunks(b"x")))
    assert not store.root.exists()


async def test_stream_blob_ok(store: Store) -> None:
    data = b"hello " * 1000
    d = sha(data)
    assert await store.write_blob_stream(d, _chunks(data[:10], data[10:])) is True
    assert store.blob_path(d).read_bytes() == data
    assert store.has_blob(d.replace(":", "-"))
    assert await store.write_blob_stream(d, _chunks(data)) is False  # already present
    assert _files(store.root) == {f"blobs/sha256-{d[7:]}"}


async def test_stream_blob_mismatch_leaves_nothing(store: Store) -> None:
    expected = sha(b"the real content")
    with pytest.raises(DigestMismatch) as e:
        await store.write_blob_stream(expected, _chunks(b"something else"))
    assert str(e.value) == f'digest mismatch, expected "{expected}", got "{sha(b"something else")}"'
    assert e.value.status == 400
    assert _files(store.root) == set()


async def test_truncated_upload_leaves_nothing(store: Store) -> None:
    data = b"0123456789" * 100
    with pytest.raises(DigestMismatch):
        await store.write_blob_stream(sha(data), _chunks(data[:500]))  # client stopped early
    with pytest.raises(ConnectionResetError):
        await store.write_blob_stream(sha(data), _chunks(data[:500], fail=ConnectionResetError()))
    with pytest.raises(Exception, match="unexpected EOF"):
        await store.write_blob_stream(sha(data[:500]), _chunks(data[:500]), size=len(data))
    assert _files(store.root) == set()


async def test_cancelled_upload_leaves_nothing(store: Store) -> None:
    started = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        started.set()
        await asyncio.sleep(3600)
        yield b"never"

    task = asyncio.create_task(store.write_blob_stream(sha(b"x"), slow()))
    await started.wait()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _files(store.root) == set()


def test_manifest_refuses_missing_blobs(store: Store) -> None:
    d, n, _ = store.write_blob_bytes(b"cfg")
    missing = sha(b"not stored")
    name = ModelName.parse("m")
    with pytest.raises(BlobNotFound):
        store.write_manifest(name, Layer(MEDIA_CONFIG, d, n), [Layer(MEDIA_MODEL, missing, 3)])
    assert not store.manifest_path(name).exists()
    assert not any(store.manifests_dir.rglob("*")) if store.manifests_dir.exists() else True


def test_manifest_bytes_like_go(store: Store) -> None:
    cd, cn, _ = store.write_blob_bytes(b"{}\n")
    sd, sn, _ = store.write_blob_bytes(b"sys")
    m = store.write_manifest(
        ModelName.parse("a/b:c"), Layer(MEDIA_CONFIG, cd, cn), [Layer(MEDIA_SYSTEM, sd, sn, from_="x:latest")]
    )
    raw = (store.manifests_dir / "registry.ollama.ai/a/b/c").read_bytes()
    assert (
        raw
        == (
            '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
            f'"config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{cd}","size":{cn}}},'
            f'"layers":[{{"mediaType":"application/vnd.ollama.image.system","digest":"{sd}","size":{sn},'
            '"from":"x:latest"}]}\n'
        ).encode()
    )
    assert m.digest == hashlib.sha256(raw).hexdigest()
    assert Manifest.from_bytes(raw).to_bytes() == raw


def test_copy_is_the_same_bytes_written_durably(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyollama.store import files

    cd, cn, _ = store.write_blob_bytes(b"{}\n")
    src = store.write_manifest(ModelName.parse("a/src"), Layer(MEDIA_CONFIG, cd, cn), [])
    synced: list[Path] = []
    monkeypatch.setattr(files, "fsync_dir", synced.append)
    store.copy(ModelName.parse("a/src"), ModelName.parse("b/dst:v2"))
    dst = store.manifests_dir / "registry.ollama.ai/b/dst/v2"
    assert src.path is not None and dst.read_bytes() == src.path.read_bytes()
    assert synced == [dst.parent]  # the rename survives a power cut, as write_manifest's does
    assert sorted(p.name for p in dst.parent.iterdir()) == ["v2"]


def test_case_insensitive_lookup_and_delete_prunes(store: Store) -> None:
    shared, sn, _ = store.write_blob_bytes(b"shared weights")
    own, on, _ = store.write_blob_bytes(b"own system")
    cd, cn, _ = store.write_blob_bytes(b"{}\n")
    a, b = ModelName.parse("Alice/Model:V1"), ModelName.parse("bob/other")
    layers = [Layer(MEDIA_MODEL, shared, sn), Layer(MEDIA_SYSTEM, own, on)]
    store.write_manifest(a, Layer(MEDIA_CONFIG, cd, cn), layers)
    store.write_manifest(b, Layer(MEDIA_CONFIG, cd, cn), [Layer(MEDIA_MODEL, shared, sn)])
    assert store.resolve(ModelName.parse("alice/model:v1")) == a
    store.delete(ModelName.parse("ALICE/MODEL:v1"))
    assert not store.has_blob(own) and store.has_blob(shared) and store.has_blob(cd)
    assert not (store.manifests_dir / "registry.ollama.ai" / "Alice").exists()
    store.delete(b)
    assert not store.has_blob(shared) and not store.has_blob(cd)
    assert list(store.manifests_dir.iterdir()) == []
    with pytest.raises(ManifestNotFound):
        store.delete(b)


def test_existing_name_reuses_each_stored_part(store: Store) -> None:
    cd, cn, _ = store.write_blob_bytes(b"{}\n")
    for n in ("alice/x:Q4", "hf.co/Bob/Repo:latest"):
        store.write_manifest(ModelName.parse(n), Layer(MEDIA_CONFIG, cd, cn), [])

    def existing(s: str) -> str:
        return str(store.existing_name(ModelName.parse(s)))

    # parts matched one by one, as Ollama's getExistingName: the `alice/` folder is reused
    assert existing("Alice/new") == "registry.ollama.ai/alice/new:latest"
    assert existing("ALICE/X:q4") == "registry.ollama.ai/alice/x:Q4"  # the whole stored name
    assert existing("carol/x:q4") == "registry.ollama.ai/carol/x:Q4"
    assert existing("HF.CO/bob/other") == "hf.co/Bob/other:latest"
    assert existing("hf.co/u/REPO:LATEST") == "hf.co/u/Repo:latest"
    assert existing("new/Model:Tag") == "registry.ollama.ai/new/Model:Tag"  # nothing stored: as given


def test_housekeeping(store: Store) -> None:
    keep, kn, _ = store.write_blob_bytes(b"kept")
    orphan, _, _ = store.write_blob_bytes(b"orphan")
    cd, cn, _ = store.write_blob_bytes(b"{}\n")
    store.write_manifest(ModelName.parse("m"), Layer(MEDIA_CONFIG, cd, cn), [Layer(MEDIA_MODEL, keep, kn)])
    colon = store.blobs_dir / ("sha256:" + hashlib.sha256(b"old").hexdigest())
    colon.write_bytes(b"old")
    tmp = store.blobs_dir / ".pyollama-tmp-dead"
    tmp.write_bytes(b"partial")
    partial = store.blobs_dir / f"sha256-{'0' * 64}-partial"
    partial.write_bytes(b"download in progress")
    (store.manifests_dir / "h" / "n" / "empty").mkdir(parents=True)
    store.housekeeping(min_age=3600)  # everything is fresh: only renames happen
    assert store.has_blob(orphan) and tmp.exists()
    assert store.has_blob(sha(b"old")) and not colon.exists()
    old = time.time() - 7200
    for p in store.blobs_dir.iterdir():
        os.utime(p, (old, old))
    store.housekeeping(noprune=True, min_age=3600)
    assert store.has_blob(orphan)
    store.housekeeping(min_age=3600)
    assert not store.has_blob(orphan) and not store.has_blob(sha(b"old")) and not tmp.exists()
    assert store.has_blob(keep) and store.has_blob(cd) and partial.exists()
    assert not (store.manifests_dir / "h").exists()


def test_reads_a_store_written_by_ollama(ollama_store: Path) -> None:
    store = Store(ollama_store)
    store.housekeeping(min_age=3600)  # renames the old `sha256:` license blob
    by_name = {m.name.display_shortest(): m for m in list_models(store)}
    assert set(by_name) == {"llama3.2:latest", "alice/Mine:v1"}
    llama = by_name["llama3.2:latest"]
    raw = (ollama_store / "manifests/registry.ollama.ai/library/llama3.2/latest").read_bytes()
    assert llama.digest == hashlib.sha256(raw).hexdigest()
    assert llama.details == ModelDetails(
        format="gguf", family="llama", families=["llama"], parameter_size="64", quantization_level="Q4_K_M"
    )
    m = store.read_manifest(ModelName.parse("llama3.2"))
    assert llama.size == m.size == sum(x.size for x in m.layers) + m.config.size
    shown = show_model(store, "LLAMA3.2", read_gguf=gguf_py_reader)
    assert shown.license == "LLAMA 3.2 COMMUNITY LICENSE"
    assert (
        shown.parameters == 'stop                           "<|eot_id|>"\ntemperature                    0.6'
    )
    assert shown.template.startswith("{{- if .System }}")
    assert shown.gguf is not None and shown.gguf.architecture == "llama"
    mine = show_model(store, "alice/mine:V1", read_gguf=gguf_py_reader)
    assert mine.system == "You are Mario." and mine.details.parent_model == "llama3.2:latest"
    # models created here are readable by the same code path and do not disturb Ollama's files
    before = raw
    store.copy(ModelName.parse("llama3.2"), ModelName.parse("copy"))
    assert (ollama_store / "manifests/registry.ollama.ai/library/copy/latest").read_bytes() == before
