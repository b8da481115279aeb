"""End-to-end through a real `pyollama serve`: create with quantize (the engine's own quantizer,
Ollama's statuses and errors, a client that leaves), LoRA adapters with their scale, and speculative
decoding with a draft model and with llama.cpp's n-gram speculators. SmolLM2, slow."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.lora_factory import make_lora
from tests.server.daemon import ROOT, Daemon, create_from_file, need_engine

pytestmark = pytest.mark.slow
GREEDY = {"temperature": 0, "top_k": 1, "seed": 7}
PROMPT = "The capital of France is"


@pytest.fixture(scope="module")
def smol_f16(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Path:
    """SmolLM2 de-quantized to F16 by the engine (what `create --quantize` starts from)."""
    need_engine()
    import json as _json

    from pyollama import engine

    out = tmp_path_factory.mktemp("f16") / "smol-f16.gguf"
    engine.init(0)
    job = engine.QuantizeJob(
        str(smollm2_path), str(out), _json.dumps({"type": "F16", "allow_requantize": True})
    )
    job.poll(-1)
    job.close()
    return out


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Iterator[Daemon]:
    need_engine()
    home = tmp_path_factory.mktemp("e2e-models")
    d = Daemon(home, home / "models", {"PYOLLAMA_CONTEXT_LENGTH": "1024", "PYOLLAMA_NUM_PARALLEL": "1"})
    try:
        create_from_file(d.url, "smol", smollm2_path)
        yield d
    finally:
        assert d.stop() == 0, d.log_text()[-3000:]


async def upload(daemon: Daemon, path: Path) -> str:
    import ollama

    with ollama.Client(host=daemon.url) as client:
        return await asyncio.to_thread(client.create_blob, path)


async def create(daemon: Daemon, body: dict[str, Any]) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.post(daemon.url + "/api/create", json=body) as r:
        assert r.status == 200, await r.text()
        return [json.loads(line) for line in (await r.read()).splitlines() if line.strip()]


async def generate(daemon: Daemon, model: str, n: int = 16, **options: Any) -> str:
    body = {
        "model": model,
        "prompt": PROMPT,
        "raw": True,
        "stream": False,
        "options": {**GREEDY, "num_predict": n, **options},
    }
    async with aiohttp.ClientSession() as s, s.post(daemon.url + "/api/generate", json=body) as r:
        data = await r.json()
        assert r.status == 200, data
        return str(data["response"])


async def show(daemon: Daemon, model: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.post(daemon.url + "/api/show", json={"model": model}) as r:
        data: dict[str, Any] = await r.json()
        return data


def temp_files(daemon: Daemon) -> list[Path]:
    blobs = Path(daemon.log).parent / "models" / "blobs"
    return [p for p in blobs.iterdir() if p.name.startswith(".pyollama-tmp-")]


# --- quantize --------------------------------------------------------------------------------------


async def test_create_quantize_streams_ollama_statuses(daemon: Daemon, smol_f16: Path) -> None:
    digest = await upload(daemon, smol_f16)
    size = smol_f16.stat().st_size
    out = await create(daemon, {"model": "smol-q4", "files": {"smol-f16.gguf": digest}, "quantize": "q4_K_M"})
    texts = [x["status"] for x in out]
    assert texts[0] == "parsing GGUF" and texts[-2:] == ["writing manifest", "success"]
    bars = [x for x in out if x["status"] == "quantizing F16 model to Q4_K_M"]
    assert len(bars) > 10
    assert all(list(b) == ["status", "digest", "total", "completed"] for b in bars)
    assert all(b["digest"] == "0000000000000000000" and b["total"] == size for b in bars)
    done = [b["completed"] for b in bars]
    assert done == sorted(done) and 0.95 * size < done[-1] <= size
    after = texts[texts.index("verifying conversion") + 1]
    assert after.startswith("creating new layer sha256:")
    details = (await show(daemon, "smol-q4"))["details"]
    assert details["quantization_level"] == "Q4_K_M" and details["family"] == "llama"
    assert "Paris" in await generate(daemon, "smol-q4")
    assert not temp_files(daemon)


def test_cli_create_quantize(daemon: Daemon, smol_f16: Path, tmp_path: Path) -> None:
    """`pyollama create -q`: the CLI asks the server what it supports, uploads, creates."""
    (tmp_path / "Modelfile").write_text(f"FROM {smol_f16}\nPARAMETER temperature 0\n")
    env = {
        "PYOLLAMA_HOST": daemon.url,
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    cmd = [sys.executable, "-m", "pyollama.cli.main", "create", "smol-q8", "-f", str(tmp_path / "Modelfile")]
    r = subprocess.run(
        [*cmd, "-q", "q8_0"], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert r.returncode == 0, r.stderr
    assert "quantizing F16 model to Q8_0" in r.stderr and "success" in r.stderr
    r = subprocess.run(
        [*cmd, "-q", "q5_K_M"], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert r.returncode == 1 and "Error: unsupported quantization type Q5_K_M" in r.stderr
    assert "copying file" not in r.stderr  # refused before hashing or uploading


async def test_quantize_errors(daemon: Daemon, smollm2_path: Path, smol_f16: Path) -> None:
    q41 = await upload(daemon, smollm2_path)
    out = await create(daemon, {"model": "bad", "files": {"s.gguf": q41}, "quantize": "q8_0"})
    assert out[-1] == {"error": "quantization is only supported for F16, BF16 and F32 models"}
    f16 = await upload(daemon, smol_f16)
    out = await create(daemon, {"model": "bad", "files": {"s.gguf": f16}, "quantize": "q3_K_S"})
    want = "unsupported quantization type Q3_K_S - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0"
    assert out[-1] == {"error": want}
    assert (await show(daemon, "bad")).get("error") == "model 'bad' not found"


async def test_client_leaving_stops_the_quantizer(daemon: Daemon, smol_f16: Path) -> None:
    digest = await upload(daemon, smol_f16)
    body = {"model": "smol-gone", "files": {"s.gguf": digest}, "quantize": "q4_K_S"}
    async with aiohttp.ClientSession() as s, s.post(daemon.url + "/api/create", json=body) as r:
        async for line in r.content:
            if b"quantizing" in line:
                break
    # the session is closed: the daemon cancels the job before its next tensor, removes its file
    deadline = time.monotonic() + 60
    while temp_files(daemon) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not temp_files(daemon)
    assert (await show(daemon, "smol-gone")).get("error") == "model 'smol-gone' not found"
    assert "Traceback" not in daemon.log_text()


# --- LoRA adapters ---------------------------------------------------------------------------------


async def test_lora_changes_the_answer_and_scale_zero_does_not(
    daemon: Daemon, smollm2_path: Path, tmp_path: Path
) -> None:
    lora = make_lora(tmp_path / "smol-lora.gguf", smollm2_path, targets=("attn_q", "attn_v"), strength=1.0)
    digest = await upload(daemon, lora)
    out = await create(daemon, {"model": "smol-lora", "from": "smol", "adapters": {"smol-lora.gguf": digest}})
    assert out[-1] == {"status": "success"}
    assert "ADAPTER " in (await show(daemon, "smol-lora"))["modelfile"]
    base = await generate(daemon, "smol")
    with_lora = await generate(daemon, "smol-lora")
    assert with_lora != base
    assert await generate(daemon, "smol-lora", lora_scale=0.0) == base
    assert await generate(daemon, "smol-lora", lora_scale=1.0) == with_lora


# --- speculative decoding --------------------------------------------------------------------------


async def test_draft_model_keeps_the_greedy_answer(daemon: Daemon, smollm2_path: Path) -> None:
    digest = await upload(daemon, smollm2_path)
    out = await create(
        daemon, {"model": "smol-draft", "files": {"s.gguf": digest}, "draft_files": {"d.gguf": digest}}
    )
    assert out[-1] == {"status": "success"}
    base = await generate(daemon, "smol", n=24)
    assert await generate(daemon, "smol-draft", n=24) == base
    assert await generate(daemon, "smol-draft", n=24, draft_num_predict=0) == base  # draft off


async def test_ngram_speculation_keeps_the_greedy_answer(daemon: Daemon) -> None:
    base = await generate(daemon, "smol", n=24)
    assert await generate(daemon, "smol", n=24, draft_ngram="ngram-mod") == base


async def test_bad_ngram_option(daemon: Daemon) -> None:
    body = {"model": "smol", "prompt": "x", "options": {"draft_ngram": "ngram-magic"}}
    async with aiohttp.ClientSession() as s, s.post(daemon.url + "/api/generate", json=body) as r:
        assert r.status == 400
        assert "invalid draft_ngram value 'ngram-magic'" in (await r.json())["error"]


async def test_capability_probe(daemon: Daemon) -> None:
    async with aiohttp.ClientSession() as s, s.get(daemon.url + "/api/pyollama/capabilities") as r:
        caps = (await r.json())["create"]
    assert "Q4_K_M" in caps["quantize"] and caps["draft"] is True
