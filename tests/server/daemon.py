"""A real `pyollama serve` subprocess on loopback for the end-to-end tests (slow)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.process import free_port, port_open, stop, wait_ready

ROOT = Path(__file__).resolve().parents[2]


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
        try:
            wait_ready(self.proc, port_open(self.port), what="pyollama serve", log=self.log)
        except BaseException:
            self.stop()
            raise

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int | None:
        rc = stop(self.proc)
        self._fh.close()
        return rc


def need_engine() -> None:
    pytest.importorskip("pyollama.engine")
    pytest.importorskip("ollama")


def create_from_file(url: str, name: str, path: Path, **fields: Any) -> None:
    """Upload the GGUF as a blob and create `name` from it through the official client."""
    import ollama

    with ollama.Client(host=url) as client:  # closed: an open one is a ResourceWarning under -W error
        digest = client.create_blob(path)
        client.create(model=name, files={path.name: digest}, **fields)
