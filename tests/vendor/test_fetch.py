"""vendor/fetch.py: a wrong hash or a failed download stops with a clear message; a stamp makes
the second run a no-op. A local index (or a pip stub) stands in for PyPI: nothing is downloaded."""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
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


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """A local package index (PEP 691 JSON simple API) serving `files` at $PYOLLAMA_INDEX_URL."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path == "/simple/llama-cpp-python/":
                page = {"files": [{"filename": n, "url": f"/files/{n}", "hashes": {}} for n in files]}
                body, ctype = json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json"
            elif self.path.startswith("/files/") and self.path[7:] in files:
                body, ctype = files[self.path[7:]], "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PYOLLAMA_INDEX_URL", f"http://127.0.0.1:{server.server_address[1]}/simple")
    try:
        yield files
    finally:
        server.shutdown()
        server.server_close()


def test_downloads_from_the_index_without_pip(
    fetch: ModuleType, index: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CMake runs this inside pip's isolated build environment, where pip cannot be imported."""
    monkeypatch.setitem(sys.modules, "pip", None)  # `import pip` raises ImportError
    payload = b"a stand-in for the sdist"
    pin = {**fetch.load_pin(), "sha256": hashlib.sha256(payload).hexdigest()}
    index[pin["file"]] = payload
    got = fetch.download(pin, fetch.cache_dir())
    assert got.read_bytes() == payload and got.parent == fetch.cache_dir()
    assert fetch.download(pin, fetch.cache_dir()) == got  # cached: no second download


def test_wrong_hash_stops_with_a_clear_message(
    fetch: ModuleType, index: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    pin = fetch.load_pin()
    index[pin["file"]] = b"not the sdist"
    with pytest.raises(SystemExit) as exc:
        fetch.download(pin, fetch.cache_dir())
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "sha256 mismatch" in err and pin["sha256"] in err
    assert not list(fetch.cache_dir().iterdir())  # nothing half-written stays in the cache


def test_unreachable_index_without_pip_says_what_to_do(
    fetch: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYOLLAMA_INDEX_URL", "http://127.0.0.1:9/simple")  # discard port: refused
    monkeypatch.setitem(sys.modules, "pip", None)
    with pytest.raises(SystemExit):
        fetch.download(fetch.load_pin(), fetch.cache_dir())
    err = capsys.readouterr().err
    assert "could not download llama-cpp-python==0.3.36" in err
    assert "Check network access to the package index" in err and "PYOLLAMA_VENDOR_CACHE" in err


def test_pip_is_the_fallback_and_its_reason_is_shown(
    fetch: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYOLLAMA_INDEX_URL", "http://127.0.0.1:9/simple")

    def pip_fails(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        assert cmd[1:4] == ["-m", "pip", "download"]
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found")

    monkeypatch.setattr(fetch.subprocess, "run", pip_fails)
    with pytest.raises(SystemExit):
        fetch.download(fetch.load_pin(), fetch.cache_dir())
    err = capsys.readouterr().err
    assert "could not download llama-cpp-python==0.3.36" in err
    assert "No matching distribution" in err and "reading the index directly failed" in err


def test_pin_and_stamp(fetch: ModuleType) -> None:
    pin = fetch.load_pin()
    assert pin["version"] == "0.3.36" and len(pin["sha256"]) == 64
    stamp = ROOT / "vendor" / "llama.cpp" / ".pyollama-stamp"
    if stamp.exists():  # the build fetched it: the stamp matches the pin, so a rerun is a no-op
        assert stamp.read_text() == fetch.stamp_text(pin)
        assert fetch.main() == 0
