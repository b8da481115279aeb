"""End-to-end: `pyollama create` from the all-MiniLM-L6-v2 safetensors folder through a real daemon
(slow). The CLI uploads the folder's files, the daemon converts them (`converting model`), and
`/api/embed` must agree with an independent numpy forward pass over the same safetensors weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.server.daemon import ROOT, Daemon, need_engine

pytestmark = pytest.mark.slow

SENTENCES = [
    "The cat sat on the mat.",
    "Embeddings turn sentences into vectors!",
    "pyollama converts safetensors folders at create time",
    "Hello, world",
]


def _post(url: str, path: str, body: dict[str, object]) -> dict[str, object]:
    req = urllib.request.Request(url + path, data=json.dumps(body).encode())
    with urllib.request.urlopen(req, timeout=120) as resp:
        out: dict[str, object] = json.load(resp)
        return out


def test_create_from_safetensors_and_embed(minilm_dir: Path, tmp_path: Path) -> None:
    need_engine()
    pytest.importorskip("tokenizers")
    from tests.convert.bert_reference import MiniLM

    (tmp_path / "Modelfile").write_text(f"FROM {minilm_dir}\n")
    d = Daemon(tmp_path, tmp_path / "models")
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYOLLAMA_HOST": d.url.removeprefix("http://")}
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "pyollama.cli.main",
                "create",
                "minilm",
                "-f",
                str(tmp_path / "Modelfile"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert r.returncode == 0, r.stderr + d.log_text()
        out = r.stdout + r.stderr
        assert "converting model" in out and "success" in out

        show = _post(d.url, "/api/show", {"model": "minilm"})
        details = show["details"]
        assert isinstance(details, dict)
        assert details["family"] == "bert" and details["quantization_level"] == "F16"
        assert show["capabilities"] == ["embedding"]
        info = show["model_info"]
        assert isinstance(info, dict)
        assert info["bert.pooling_type"] == 1 and info["bert.embedding_length"] == 384

        got = _post(d.url, "/api/embed", {"model": "minilm", "input": SENTENCES})["embeddings"]
        assert isinstance(got, list) and len(got) == len(SENTENCES)
        ref = MiniLM(minilm_dir)
        for text, emb in zip(SENTENCES, got, strict=True):
            g = np.asarray(emb)
            r_ = ref.embed(text)
            cos = float(r_ @ g / (np.linalg.norm(g) * np.linalg.norm(r_)))
            assert cos >= 0.999, (text, cos)
    finally:
        d.stop()
