"""The engine's quantization job (csrc/quantize.cpp): llama.cpp's own quantizer on a thread, its
progress from llama.cpp's log, cancellation between tensors, errors with llama.cpp's reasons."""

from __future__ import annotations

import json
import os
import select
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from tests.conftest import requires_engine

if TYPE_CHECKING:
    from pyollama.engine import QuantizeJob

pytestmark = requires_engine


@pytest.fixture(scope="module")
def engine() -> ModuleType:
    from pyollama import engine

    engine.init(0)
    return engine


def run(job: QuantizeJob) -> list[tuple[int, int]]:
    """Wait on the job's fd as an event loop would; every progress seen."""
    seen: list[tuple[int, int]] = []
    while True:
        select.select([job.fileno()], [], [], 30)
        state = job.poll()
        if state is None:
            return seen
        if not seen or seen[-1] != state:
            seen.append(state)


def next_progress(job: QuantizeJob) -> tuple[int, int]:
    """The next progress the job's fd announces (a timeout waits for the end instead)."""
    select.select([job.fileno()], [], [], 30)
    state = job.poll()
    assert state is not None, "the job ended before it could be cancelled"
    return state


def test_quantize_job(engine: ModuleType, tmp_path: Path, tiny_gguf: Path) -> None:
    dst = tmp_path / "out.gguf"
    job = engine.QuantizeJob(str(tiny_gguf), str(dst), json.dumps({"type": "q8_0", "nthread": 1}))
    seen = run(job)
    n = len(engine.read_gguf(tiny_gguf, 0)["tensors"])
    assert seen[-1] == (n, n) and all(0 < done <= total == n for done, total in seen)
    assert job.poll() is None  # stays finished
    job.close()
    job.close()  # idempotent
    header = engine.read_gguf(dst, 0)
    assert header["kv"]["general.file_type"] == 7
    assert {t["type"] for t in header["tensors"]} <= {"q8_0", "f32"}  # norms stay f32
    # the new header fields: tensor sizes and where the data starts
    assert header["data_offset"] > 0 and all(t["size"] > 0 for t in header["tensors"])


def test_tensor_type_overrides(engine: ModuleType, tmp_path: Path, tiny_gguf: Path) -> None:
    dst = tmp_path / "out.gguf"
    opts = {"type": "Q8_0", "tensor_types": [[r"^token_embd\.weight$", "f16"], ["ATTN_V", "q4_0"]]}
    job = engine.QuantizeJob(str(tiny_gguf), str(dst), json.dumps(opts))
    run(job)
    job.close()
    types = {t["name"]: t["type"] for t in engine.read_gguf(dst, 0)["tensors"]}
    assert types["token_embd.weight"] == "f16" and types["blk.0.attn_v.weight"] == "q4_0"
    assert types["blk.0.attn_q.weight"] == "q8_0"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("{", "invalid quantize options JSON"),
        ('{"nthread": 2}', "type is required"),
        ('{"type": "Q9_K"}', "unknown quantization type: Q9_K"),
        ('{"type": "Q8_0", "imatrix": "x"}', "unknown quantize option: imatrix"),
        ('{"type": "Q8_0", "nthread": -1}', "nthread must be"),
        ('{"type": "Q8_0", "pure": 1}', "pure must be a boolean"),
        ('{"type": "Q8_0", "tensor_types": [["x"]]}', "tensor_types must be a list of [pattern, type] pairs"),
        ('{"type": "Q8_0", "tensor_types": [["x", "q99"]]}', "unknown tensor type: q99"),
    ],
)
def test_bad_options(engine: ModuleType, tmp_path: Path, tiny_gguf: Path, options: str, message: str) -> None:
    from pyollama.errors import EngineConfigError

    with pytest.raises(EngineConfigError) as e:
        engine.QuantizeJob(str(tiny_gguf), str(tmp_path / "x.gguf"), options)
    assert message in str(e.value)
    with pytest.raises(EngineConfigError, match="same file"):
        engine.QuantizeJob(str(tiny_gguf), str(tiny_gguf), '{"type": "Q8_0"}')


@pytest.mark.parametrize(
    ("src", "options", "reason"),
    [
        ("missing", '{"type": "Q8_0"}', "failed to load model"),
        ("text", '{"type": "Q8_0"}', "failed to load model"),
        ("tiny", '{"type": "Q8_0", "tensor_types": [["(", "f16"]]}', "regular expression"),
    ],
)
def test_failures_say_why_and_leave_no_file(
    engine: ModuleType, tmp_path: Path, tiny_gguf: Path, src: str, options: str, reason: str
) -> None:
    from pyollama.errors import EngineError

    path = {"missing": tmp_path / "none.gguf", "text": tmp_path / "t.gguf", "tiny": tiny_gguf}[src]
    if src == "text":
        path.write_text("not a model\n" * 50)
    dst = tmp_path / "out.gguf"
    job = engine.QuantizeJob(str(path), str(dst), options)
    with pytest.raises(EngineError) as e:
        job.poll(-1)
    assert e.value.status == 500 and e.value.message.startswith("quantization failed: ")
    assert reason in e.value.message
    assert not dst.exists()
    job.close()


@pytest.mark.slow
def test_cancel_stops_between_tensors(engine: ModuleType, tmp_path: Path, smollm2_path: Path) -> None:
    """SmolLM2 (Q4_1) de-quantized to F16: 272 tensors, cancelled at the third."""
    from pyollama.errors import Canceled

    dst = tmp_path / "f16.gguf"
    job = engine.QuantizeJob(
        str(smollm2_path), str(dst), json.dumps({"type": "F16", "allow_requantize": True, "nthread": 1})
    )
    state = next_progress(job)
    while state[0] < 3:
        state = next_progress(job)
    assert state[1] == 272
    job.cancel()
    t0 = time.monotonic()
    with pytest.raises(Canceled) as e:
        job.poll(-1)
    assert time.monotonic() - t0 < 30 and e.value.status == 499
    assert not dst.exists()
    job.close()


@pytest.mark.slow
def test_close_while_running_returns_at_once(engine: ModuleType, tmp_path: Path, smollm2_path: Path) -> None:
    dst = tmp_path / "f16.gguf"
    job = engine.QuantizeJob(
        str(smollm2_path), str(dst), json.dumps({"type": "F16", "allow_requantize": True, "nthread": 1})
    )
    next_progress(job)  # the first tensor is under way: the output file is open
    t0 = time.monotonic()
    job.close()  # cancels; the worker ends at its next tensor and removes its output
    assert time.monotonic() - t0 < 1
    deadline = time.monotonic() + 30
    while dst.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not dst.exists()
    assert os.path.isdir(tmp_path)
