"""vendor/fetch.py: a wrong hash or a failed download stops with a clear message; a stamp makes
the second run a no-op. pip is replaced by a stub, so nothing is downloaded."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fetch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("pyollama_vendor_fetch", ROOT / "vendor" / "fetch.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setenv("PYOLLAMA_VENDOR_CACHE", str(tmp_path / "cache"))
    return mod


def fake_pip(payload: bytes | None, rc: int = 0) -> Any:
    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        dest = Path(cmd[cmd.index("-d") + 1])
        if payload is not None:
            (dest / "llama_cpp_python-0.3.36.tar.gz").write_bytes(payload)
        return subprocess.CompletedProcess(cmd, rc, "", "ERROR: No matching distribution found" if rc else "")

    return run


def test_wrong_hash_stops_with_a_clear_message(
    fetch: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(fetch.subprocess, "run", fake_pip(b"not the sdist"))
    with pytest.raises(SystemExit) as exc:
        fetch.download(fetch.load_pin(), fetch.cache_dir())
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "sha256 mismatch" in err and fetch.load_pin()["sha256"] in err


def test_failed_download_stops_with_pips_reason(
    fetch: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(fetch.subprocess, "run", fake_pip(None, rc=1))
    with pytest.raises(SystemExit):
        fetch.download(fetch.load_pin(), fetch.cache_dir())
    err = capsys.readouterr().err
    assert "could not download llama-cpp-python==0.3.36" in err
    assert "No matching distribution" in err


def test_pin_and_stamp(fetch: ModuleType) -> None:
    pin = fetch.load_pin()
    assert pin["version"] == "0.3.36" and len(pin["sha256"]) == 64
    stamp = ROOT / "vendor" / "llama.cpp" / ".pyollama-stamp"
    if stamp.exists():  # the build fetched it: the stamp matches the pin, so a rerun is a no-op
        assert stamp.read_text() == fetch.stamp_text(pin)
        assert fetch.main() == 0
