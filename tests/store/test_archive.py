"""Export / import archives: Ollama's layout, byte-identical round trips, tampering refused."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from pyollama.store import ModelName, Store
from pyollama.store.archive import ArchiveError, export_model, import_archive
from pyollama.store.create import collect, create_model
from tests.store.conftest import gguf_py_reader, make_gguf


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture
def src(tmp_path: Path) -> Store:
    store = Store(tmp_path / "a")
    g = make_gguf(tmp_path / "m.gguf", n_params=300)
    digest, _, _ = store.write_blob_file(g)
    req = {"model": "alice/mine:v1", "files": {"m.gguf": digest}, "system": "be brief", "license": "MIT"}
    statuses = _run(collect(create_model(store, req, read_gguf=gguf_py_reader)))
    assert statuses[-1] == {"status": "success"}
    return store


def _run(coro: Coroutine[Any, Any, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    import asyncio

    return asyncio.run(coro)


def _export(store: Store, *names: str) -> bytes:
    buf = io.BytesIO()
    export_model(store, [ModelName.parse(n) for n in names], buf)
    return buf.getvalue()


def _import(store: Store, data: bytes) -> list[dict[str, object]]:
    return list(import_archive(store, io.BytesIO(data)))


def test_layout_is_ollamas(src: Store) -> None:
    data = _export(src, "alice/mine:v1")
    assert len(data) % 10240 == 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        assert names[0] == "manifests/registry.ollama.ai/alice/mine/v1"
        m = src.read_manifest(ModelName.parse("alice/mine:v1"))
        assert sorted(names[1:]) == sorted(f"blobs/sha256-{d[7:]}" for d in m.digests())
        for member in tar.getmembers():
            f = tar.extractfile(member)
            assert f is not None
            assert f.read() == (src.root / member.name).read_bytes()
    assert _export(src, "alice/mine:v1") == data  # deterministic


def test_round_trip_is_byte_identical(src: Store, tmp_path: Path) -> None:
    dst = Store(tmp_path / "b")
    statuses = _import(dst, _export(src, "alice/mine:v1"))
    assert statuses[0] == {"status": "reading manifest alice/mine:v1"}
    assert statuses[-2:] == [{"status": "writing manifest alice/mine:v1"}, {"status": "success"}]
    assert _tree(dst.root) == _tree(src.root)
    # and back again through a second export
    assert _export(dst, "alice/mine:v1") == _export(src, "alice/mine:v1")


def test_two_models_share_blobs(src: Store, tmp_path: Path) -> None:
    src.copy(ModelName.parse("alice/mine:v1"), ModelName.parse("other"))
    data = _export(src, "alice/mine:v1", "other")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
    assert len(names) == len(set(names))
    dst = Store(tmp_path / "b")
    _import(dst, data)
    assert _tree(dst.root) == _tree(src.root)


def test_import_into_a_store_that_has_some_blobs(src: Store, tmp_path: Path) -> None:
    dst = Store(tmp_path / "b")
    m = src.read_manifest(ModelName.parse("alice/mine:v1"))
    dst.write_blob_bytes(src.read_blob(m.layers[0].digest))
    _import(dst, _export(src, "alice/mine:v1"))
    assert _tree(dst.root) == _tree(src.root)


def _rewrite(data: bytes, edit: dict[str, bytes | None]) -> bytes:
    """The archive with members replaced (None drops one), headers rewritten to match."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as tin, tarfile.open(fileobj=out, mode="w") as tout:
        for member in tin.getmembers():
            f = tin.extractfile(member)
            assert f is not None
            body = f.read()
            if member.name in edit:
                new = edit[member.name]
                if new is None:
                    continue
                body = new
            member.size = len(body)
            tout.addfile(member, io.BytesIO(body))
    return out.getvalue()


def _model_blob(src: Store) -> str:
    m = src.read_manifest(ModelName.parse("alice/mine:v1"))
    return f"blobs/sha256-{m.layers[0].digest[7:]}"


def test_tampered_blob_is_refused_and_nothing_installed(src: Store, tmp_path: Path) -> None:
    data = _export(src, "alice/mine:v1")
    name = _model_blob(src)
    body = (src.root / name).read_bytes()
    tampered = _rewrite(data, {name: body[:-1] + bytes([body[-1] ^ 1])})
    dst = Store(tmp_path / "b")
    with pytest.raises(ArchiveError, match="does not match its digest"):
        _import(dst, tampered)
    assert _tree(dst.root) == {}


def test_tampered_later_blob_removes_earlier_ones(src: Store, tmp_path: Path) -> None:
    data = _export(src, "alice/mine:v1")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        last = tar.getnames()[-1]
    body = (src.root / last).read_bytes()
    dst = Store(tmp_path / "b")
    with pytest.raises(ArchiveError):
        _import(dst, _rewrite(data, {last: b"x" + body[1:]}))
    assert _tree(dst.root) == {}


@pytest.mark.parametrize(
    "problem",
    ["missing blob", "truncated", "extra member", "symlink", "bad name", "blob first", "not tar", "size"],
)
def test_malformed_archives(src: Store, tmp_path: Path, problem: str) -> None:
    data = _export(src, "alice/mine:v1")
    name = _model_blob(src)
    if problem == "missing blob":
        data = _rewrite(data, {name: None})
    elif problem == "truncated":
        data = data[: len(data) // 2]
    elif problem == "size":
        data = _rewrite(data, {name: (src.root / name).read_bytes() + b"\0"})
    elif problem in ("extra member", "symlink", "bad name", "blob first"):
        out = io.BytesIO()
        with tarfile.open(fileobj=io.BytesIO(data)) as tin, tarfile.open(fileobj=out, mode="w") as tout:
            members = tin.getmembers()
            if problem == "blob first":
                members = members[1:] + members[:1]
            for member in members:
                f = tin.extractfile(member)
                assert f is not None
                body = f.read()
                if problem == "bad name" and member.name.startswith("manifests/"):
                    member.name = "manifests/registry.ollama.ai/../../etc/passwd"
                tout.addfile(member, io.BytesIO(body))
            if problem == "extra member":
                extra = tarfile.TarInfo("notes.txt")
                extra.size = 2
                tout.addfile(extra, io.BytesIO(b"hi"))
            if problem == "symlink":
                link = tarfile.TarInfo("blobs/evil")
                link.type = tarfile.SYMTYPE
                link.linkname = "/etc/passwd"
                tout.addfile(link)
        data = out.getvalue()
    else:
        data = b"this is not a tar archive" * 40
    dst = Store(tmp_path / "b")
    with pytest.raises(ArchiveError):
        _import(dst, data)
    assert _tree(dst.root) == {}


def test_export_of_a_missing_model_fails_first(src: Store) -> None:
    from pyollama.store import ManifestNotFound

    buf = io.BytesIO()
    with pytest.raises(ManifestNotFound):
        export_model(src, [ModelName.parse("nope")], buf)
    assert buf.getvalue() == b""
