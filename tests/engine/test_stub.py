"""The extension's type stub says what the compiled module really has (mypy's stubtest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_stub_matches_extension() -> None:
    pytest.importorskip("pyollama.engine._engine")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "pyollama.engine._engine",
            "--allowlist",
            str(HERE / "stubtest-allowlist.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parents[1],
    )
    assert result.returncode == 0, result.stdout + result.stderr
