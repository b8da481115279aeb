"""A model store written the way Ollama writes it is listed, shown and run by `pyollama serve`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.server.daemon import Daemon, need_engine

pytestmark = pytest.mark.slow

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _blob(models: Path, data: bytes | None = None, *, src: Path | None = None) -> tuple[str, int]:
    """Put a blob under Ollama's `blobs/sha256-<hex>` name; returns (digest, size)."""
    blobs = models / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    if src is not None:
        h = hashlib.sha256()
        with src.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        target = blobs / f"sha256-{h.hexdigest()}"
        try:
            os.link(src, target)
        except OSError:
            shutil.copyfile(src, target)
        return f"sha256:{h.hexdigest()}", src.stat().st_size
    assert data is not None
    hexd = hashlib.sha256(data).hexdigest()
    (blobs / f"sha256-{hexd}").write_bytes(data)
    return f"sha256:{hexd}", len(data)


def go_json(obj: object) -> bytes:
    """Go's encoding/json output: compact, no spaces, `<>&` escaped."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


@pytest.fixture
def ollama_layout(tmp_path: Path, smollm2_path: Path) -> Path:
    """`registry.ollama.ai/library/smollm2:135m` exactly as `ollama pull` leaves it on disk."""
    models = tmp_path / "models"
    model_digest, model_size = _blob(models, src=smollm2_path)
    template = "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    template += "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
    template += "{{ .Response }}<|im_end|>\n"
    tmpl_digest, tmpl_size = _blob(models, template.encode())
    params_digest, params_size = _blob(models, go_json({"stop": ["<|im_start|>", "<|im_end|>"]}))
    config = {
        "model_format": "gguf",
        "model_family": "llama",
        "model_families": ["llama"],
        "model_type": "134.52M",
        "file_type": "Q4_1",
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [model_digest, tmpl_digest, params_digest]},
    }
    config_digest, config_size = _blob(models, go_json(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model", "digest": model_digest, "size": model_size},
            {"mediaType": "application/vnd.ollama.image.template", "digest": tmpl_digest, "size": tmpl_size},
            {
                "mediaType": "application/vnd.ollama.image.params",
                "digest": params_digest,
                "size": params_size,
            },
        ],
    }
    path = models / "manifests" / "registry.ollama.ai" / "library" / "smollm2" / "135m"
    path.parent.mkdir(parents=True)
    path.write_bytes(go_json(manifest))
    return models


def test_ollama_written_store_lists_shows_and_runs(tmp_path: Path, ollama_layout: Path) -> None:
    need_engine()
    import ollama

    daemon = Daemon(tmp_path, ollama_layout)
    try:
        with ollama.Client(host=daemon.url) as client:
            names = [m.model for m in client.list().models]
            assert names == ["smollm2:135m"]
            shown = client.show("smollm2:135m")
            assert shown.details is not None
            assert shown.details.family == "llama"
            assert shown.details.quantization_level == "Q4_1"
            assert "<|im_start|>user" in (shown.template or "")
            assert 'stop                           "<|im_end|>"' in (shown.parameters or "")
            out = client.generate(
                model="smollm2:135m",
                prompt="What is the capital of France?",
                options={"temperature": 0, "num_predict": 16},
            )
            assert out.done and (out.response or "").strip()
            # names match case-insensitively, and the Go TEMPLATE layer renders the prompt
            import urllib.request

            body = json.dumps({"model": "SMOLLM2:135M", "prompt": "hi", "_debug_render_only": True}).encode()
            with urllib.request.urlopen(urllib.request.Request(daemon.url + "/api/generate", data=body)) as r:
                rendered = json.loads(r.read())["_debug_info"]["rendered_template"]
            assert rendered == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    finally:
        daemon.stop()
