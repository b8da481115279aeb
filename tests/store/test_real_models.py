"""Create/show/copy/delete on the real SmolLM2 and Gemma-3-270M GGUFs (slow: large blobs).

`engine` runs with pyollama's default GGUF reader (skipped until the native engine is built);
`gguf-py` uses the PyPI `gguf` reader, so the store logic is covered today as well.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyollama.go.format import human_number
from pyollama.store import (
    ModelName,
    Store,
    copy_model,
    create_model,
    delete_model,
    load_model,
    show_model,
)
from pyollama.store.create import collect
from tests.store.conftest import gguf_py_reader

pytestmark = pytest.mark.slow

GEMMA_TEMPLATE = (
    "{{- range $i, $_ := .Messages }}{{- $last := eq (len (slice $.Messages $i)) 1 }}"
    '{{- if or (eq .Role "user") (eq .Role "system") }}<start_of_turn>user\n{{ .Content }}<end_of_turn>\n'
    "{{ if $last }}<start_of_turn>model\n{{ end }}"
    '{{- else if eq .Role "assistant" }}<start_of_turn>model\n{{ .Content }}'
    "{{ if not $last }}<end_of_turn>\n"
    "{{ end }}{{- end }}{{- end }}"
)


@pytest.fixture(params=["engine", "gguf-py"])
def reader(request: pytest.FixtureRequest) -> Callable[[Any], Any]:
    if request.param == "engine":
        pytest.importorskip("pyollama.engine")
        from pyollama.gguf import read_gguf_info

        return read_gguf_info
    return gguf_py_reader


async def test_smollm2(tmp_path: Path, smollm2_path: Path, reader: Callable[[Any], Any]) -> None:
    store = Store(tmp_path / "models")
    digest, _, _ = store.write_blob_file(smollm2_path)
    req = {"model": "smol", "files": {"smol.gguf": digest}}
    out = await collect(create_model(store, req, read_gguf=reader))
    assert out[-1] == {"status": "success"}
    info = reader(smollm2_path)
    r = show_model(store, "smol", read_gguf=reader)
    assert r.details.family == "llama"
    assert r.details.parameter_size == human_number(info.parameter_count) == "134.52M"
    assert r.details.quantization_level == "Q4_1"
    assert r.details.context_length == info.context_length == 8192
    assert r.details.embedding_length == info.embedding_length == 576
    assert r.gguf is not None
    assert r.gguf.kv["llama.context_length"] == 8192
    assert "completion" in r.capabilities


async def test_gemma_with_template_copy_delete(
    tmp_path: Path, gemma_path: Path, reader: Callable[[Any], Any]
) -> None:
    store = Store(tmp_path / "models")
    digest, _, _ = store.write_blob_file(gemma_path)
    req = {
        "model": "gemma3:270m",
        "files": {"gemma.gguf": digest},
        "template": GEMMA_TEMPLATE,
        "parameters": {"stop": ["<end_of_turn>"], "temperature": 1.0, "top_k": 64, "top_p": 0.95},
    }
    out = await collect(create_model(store, req, read_gguf=reader))
    assert out[-1] == {"status": "success"}
    info = reader(gemma_path)
    r = show_model(store, "gemma3:270m", read_gguf=reader)
    assert r.gguf is not None
    assert r.gguf.kv["general.architecture"] == "gemma3"
    assert r.details.family == "gemma3"
    assert r.details.quantization_level == info.file_type
    assert r.details.parameter_size == human_number(info.parameter_count) == "268.10M"
    assert r.details.context_length == info.context_length == 32768
    assert r.details.embedding_length == info.embedding_length == 640
    assert r.gguf.kv["gemma3.context_length"] == info.context_length
    assert r.template == GEMMA_TEMPLATE
    copy_model(store, "gemma3:270m", "mine/gemma")
    blobs = [store.blob_path(d) for d in load_model(store, ModelName.parse("gemma3:270m")).manifest.digests()]
    delete_model(store, "gemma3:270m")
    assert all(b.exists() for b in blobs)
    assert show_model(store, "mine/gemma", read_gguf=reader).details.family == "gemma3"
    delete_model(store, "mine/gemma")
    assert not any(b.exists() for b in blobs)
