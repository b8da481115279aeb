"""A real `pyollama serve` subprocess on loopback for the end-to-end tests (slow)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Daemon:
    """`python -m pyollama.cli.main serve` with its own port and models dir; log kept in a file."""

    def __init__(self, home: Path, models: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"serve-{self.port}.log"
        vars_ = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYOLLAMA_HOST": f"127.0.0.1:{self.port}",
            "PYOLLAMA_MODELS": str(models),
            "PYOLLAMA_NUM_THREAD": "2",
            "HOME": str(home),
            **(env or {}),
        }
        for k in ("OLLAMA_HOST", "OLLAMA_MODELS"):
            vars_.pop(k, None)
        self._fh = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pyollama.cli.main", "serve"],
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            env=vars_,
            cwd=home,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pyollama serve exited {self.proc.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("pyollama serve did not start")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._fh.close()
        return self.proc.returncode


def need_engine() -> None:
    pytest.importorskip("pyollama.engine")
    pytest.importorskip("ollama")


def create_from_file(url: str, name: str, path: Path, **fields: Any) -> None:
    """Upload the GGUF as a blob and create `name` from it through the official client."""
    import ollama

    client = ollama.Client(host=url)
    digest = client.create_blob(path)
    client.create(model=name, files={path.name: digest}, **fields)
