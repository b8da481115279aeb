"""End-to-end: `pyollama export` from one real daemon, `pyollama import` into another (slow).

SmolLM2 is created in store A, exported by the CLI to a tar file, imported by the CLI into store B
(another daemon): B's files are byte-identical to A's and the model answers there. A tampered copy
of the archive is refused with exit status 1 and leaves B's store untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.daemon import ROOT, Daemon, create_from_file, need_engine

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYOLLAMA_HOST": url.removeprefix("http://")}
    env.pop("OLLAMA_HOST", None)
    return subprocess.run(
        [sys.executable, "-m", "pyollama.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def daemons(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Iterator[tuple[Daemon, Daemon]]:
    need_engine()
    home = tmp_path_factory.mktemp("archive")
    a = Daemon(home, home / "a")
    b = Daemon(home, home / "b")
    a.models, b.models = home / "a", home / "b"  # type: ignore[attr-defined]
    try:
        create_from_file(a.url, "alice/smol:v1", smollm2_path, system="Answer in one word.")
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_export_import_round_trip(daemons: tuple[Daemon, Daemon], tmp_path: Path) -> None:
    import ollama

    a, b = daemons
    out = tmp_path / "smol.tar"
    r = _cli(a.url, "export", "alice/smol:v1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 50 << 20

    tampered = tmp_path / "bad.tar"
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside the GGUF blob
    tampered.write_bytes(bytes(data))
    r = _cli(b.url, "import", str(tampered))
    assert r.returncode == 1
    assert "invalid archive" in r.stderr and "does not match its digest" in r.stderr
    models_a, models_b = a.models, b.models  # type: ignore[attr-defined]
    assert _tree(models_b) == {}  # nothing of the refused archive stays

    r = _cli(b.url, "import", str(out))
    assert r.returncode == 0, r.stderr
    assert _tree(models_b) == _tree(models_a)

    with ollama.Client(host=b.url) as cb:
        assert "SYSTEM Answer in one word." in (cb.show("alice/smol:v1").modelfile or "")
        resp = cb.generate(model="alice/smol:v1", prompt="Hi", options={"num_predict": 3, "temperature": 0})
        assert resp.done and resp.eval_count
