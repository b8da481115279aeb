from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pyollama.store.files import TMP_PREFIX, atomic_write, commit_temp, temp_path


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What got fsync'ed, in order: `file <name>` / `dir <name>`."""
    seen: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        seen.append(f"{'dir' if path.is_dir() else 'file'} {path.name}")
        real_fsync(fd)

    monkeypatch.setattr("pyollama.store.files.os.fsync", fsync)
    return seen


def test_atomic_write_replaces_and_syncs_file_then_folder(tmp_path: Path, synced: list[str]) -> None:
    target = tmp_path / "manifest"
    target.write_bytes(b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["manifest"]  # no temp file left
    assert len(synced) == 2 and synced[0].startswith(f"file {TMP_PREFIX}")  # before the rename
    assert synced[1] == f"dir {tmp_path.name}"


def test_not_durable_still_renames_but_skips_the_fsyncs(tmp_path: Path, synced: list[str]) -> None:
    atomic_write(tmp_path / "state", b"{}", durable=False)
    assert (tmp_path / "state").read_bytes() == b"{}" and synced == []


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "manifest"
    target.write_bytes(b"old")

    def replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pyollama.store.files.os.replace", replace)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["manifest"]


def test_commit_temp_ends_a_streamed_write(tmp_path: Path, synced: list[str]) -> None:
    tmp = temp_path(tmp_path)
    assert tmp.parent == tmp_path and tmp.name.startswith(TMP_PREFIX) and tmp != temp_path(tmp_path)
    with open(tmp, "xb") as f:
        f.write(b"streamed")
    commit_temp(tmp, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == b"streamed" and not tmp.exists()
    assert [s.split()[0] for s in synced] == ["file", "dir"]
