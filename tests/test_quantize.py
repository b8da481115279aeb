"""pyollama.quantize: Ollama's accepted types, tensor overrides and progress arithmetic, and the
async job over the engine (a tiny F32 llama: fast)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from pyollama.errors import BadRequest
from pyollama.quantize import (
    Progress,
    accepted_types,
    f32,
    ollama_quantize,
    parse_file_type,
    quantize_file,
    tensor_types,
)
from tests.conftest import requires_engine


@pytest.mark.parametrize(
    ("asked", "want"),
    [
        ("F32", "F32"),
        ("F16", "F16"),
        ("BF16", "BF16"),
        ("Q8_0", "Q8_0"),
        ("Q4_K_S", "Q4_K_S"),
        ("Q4_K", "Q4_K_M"),
    ],
)
def test_accepted_types(asked: str, want: str) -> None:
    assert parse_file_type(asked) == want
    assert asked in accepted_types()


@pytest.mark.parametrize("asked", ["Q4_0", "Q3_K_M", "q4_K_M", "IQ2_XXS", ""])
def test_other_types_are_refused_as_ollama_does(asked: str) -> None:
    with pytest.raises(BadRequest) as e:
        parse_file_type(asked)  # the create flow upper-cases first; this takes Go's names
    assert (
        str(e.value)
        == f"unsupported quantization type {asked} - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0"
    )


def test_tensor_overrides_mirror_ollama() -> None:
    assert tensor_types("llama", "Q4_K_M") == []
    assert tensor_types("gemma3n", "Q8_0") == []
    assert tensor_types("gemma3n", "Q4_K_S") == [(r"^per_layer_token_embd\.weight$", "f16")]
    assert tensor_types("qwen35moe", "Q4_K_M") == [(r"^blk\.[0-9]+\.nextn\.eh_proj\.weight$", "q8_0")]
    assert [t for _, t in tensor_types("deepseek2", "Q4_K_M")] == ["q8_0"] * 5
    assert tensor_types("glm4", "Q4_K_M") == [(r"^token_embd\.weight$", "f16"), (r"^output\.weight$", "f16")]


def test_float32_rounding() -> None:
    assert f32(0.1) != 0.1 and f32(f32(0.1)) == f32(0.1)
    assert f32(16777217.0) == 16777216.0  # above 2^24 a float32 skips odd integers


@requires_engine
async def test_quantize_file_reports_and_writes(tmp_path: Path, tiny_gguf: Path) -> None:
    from pyollama.gguf import read_gguf_info

    dst = tmp_path / "q8.gguf"
    seen = [p async for p in quantize_file(tiny_gguf, dst, "Q8_0")]
    n = len(read_gguf_info(tiny_gguf).tensors)
    assert seen and seen[-1] == Progress(n, n)
    assert [p.current for p in seen] == sorted(p.current for p in seen)
    info = read_gguf_info(dst)
    assert info.file_type == "Q8_0" and len(info.tensors) == n
    shares = [s async for s in ollama_quantize(tiny_gguf, tmp_path / "again.gguf", "Q8_0", "llama")]
    assert shares == sorted(shares) and 0.9 < shares[-1] <= 1.0
    assert (tmp_path / "again.gguf").read_bytes() == dst.read_bytes()  # deterministic


@requires_engine
async def test_closing_early_cancels_and_removes_the_output(tmp_path: Path, tiny_gguf: Path) -> None:
    from pyollama.errors import EngineError

    dst = tmp_path / "q.gguf"
    progress = quantize_file(tiny_gguf, dst, "F16")
    async with contextlib.aclosing(progress):
        async for _ in progress:
            break
    assert not dst.exists()
    with pytest.raises(EngineError, match="requantizing from type q8_0 is disabled"):
        async for _ in quantize_file(await _q8(tmp_path, tiny_gguf), dst, "Q4_K_M", allow_requantize=False):
            pass
    assert not dst.exists()


async def _q8(tmp_path: Path, src: Path) -> Path:
    out = tmp_path / "base-q8.gguf"
    async for _ in quantize_file(src, out, "Q8_0"):
        pass
    return out
