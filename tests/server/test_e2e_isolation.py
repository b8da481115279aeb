"""Runner isolation against real daemons and real models: llama.cpp aborting in one model's runner
process (a GGUF whose tokenizer is "none" reaches a GGML_ASSERT on the first prompt; a SIGKILL
mid-stream) ends only that model's requests, with a clean error, and the other models keep
serving; a seeded subset of the header/tensor fuzzer never takes the daemon down. Slow."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fuzz_gguf import GGUFFile, fuzz_daemon
from tests.server.daemon import Daemon, create_from_file, need_engine

pytestmark = pytest.mark.slow
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,"
# the seeded subset .ci/run runs (bench/fuzz_models.py runs hundreds): refused at create (NaN-free
# but inconsistent hyperparameters, an absurd layer count, a truncated file, a bad tensor offset),
# refused by llama.cpp's loader (an unknown pre-tokenizer, a wrong tensor shape, a missing tensor),
# and ones that still generate (a removed key, a retyped tensor, an invalid-UTF-8 token)
SMOL_SEEDS = [0, 1, 5, 9, 15, 21, 26, 27, 32, 35, 43, 57]
GEMMA_SEEDS = [1, 5, 13]


def runner_children(daemon_pid: int) -> dict[int, str]:
    """The daemon's child runner processes: pid -> the model path on their command line."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == daemon_pid and b"pyollama.runner.child" in argv:
            out[int(d.name)] = argv[argv.index(b"--model") + 1].decode() if b"--model" in argv else ""
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path, gemma_path: Path) -> Path:
    """smol, gemma, and "broken": SmolLM2 with tokenizer.ggml.model "none" (a legal header that
    llama.cpp only asserts on when it must tokenize a prompt)."""
    need_engine()
    home = tmp_path_factory.mktemp("e2e-isolation")
    g = GGUFFile.read(smollm2_path)
    kv = g.get("tokenizer.ggml.model")
    assert kv is not None
    kv.value = "none"
    broken = g.write(home / "broken.gguf")
    d = Daemon(home, home / "models")
    try:
        create_from_file(d.url, "smol", smollm2_path)
        create_from_file(d.url, "gemma", gemma_path)
        create_from_file(d.url, "broken", broken)
    finally:
        d.stop()
    broken.unlink()
    return home / "models"


@pytest.fixture
def start(models: Path, tmp_path: Path) -> Iterator[Any]:
    started: list[Daemon] = []

    def go(**env: str) -> Daemon:
        base = {"PYOLLAMA_CONTEXT_LENGTH": "1024", "PYOLLAMA_NUM_PARALLEL": "2"}
        base["OLLAMA_RUNNER_ISOLATION"] = "process"  # these tests crash runners on purpose
        d = Daemon(tmp_path, models, {**base, **env})
        started.append(d)
        return d

    yield go
    for d in started:
        assert d.stop() == 0, d.log_text()[-3000:]


async def _generate(s: aiohttp.ClientSession, url: str, model: str, n: int = 4, **kw: Any) -> tuple[int, Any]:
    body = {"model": model, "prompt": COUNTING, "raw": True, "stream": False,
            "options": {"num_predict": n, "temperature": 0}, **kw}  # fmt: skip
    async with s.post(url + "/api/generate", json=body) as r:
        return r.status, await r.json()


async def _ps(s: aiohttp.ClientSession, url: str) -> list[str]:
    async with s.get(url + "/api/ps") as r:
        return sorted(m["name"] for m in (await r.json())["models"])


async def test_a_llama_cpp_abort_ends_only_that_model(start: Any) -> None:
    d = start()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:
        assert (await _generate(s, d.url, "smol"))[0] == 200
        # a gemma stream in flight while the broken model's runner aborts
        body = {
            "model": "gemma",
            "prompt": COUNTING,
            "raw": True,
            "options": {"num_predict": 64, "temperature": 0},
        }
        resp = await s.post(d.url + "/api/generate", json=body)
        assert resp.status == 200
        await resp.content.readline()
        status, err = await _generate(s, d.url, "broken")
        assert status == 500, err
        assert err["error"].startswith("model runner crashed: "), err
        assert "GGML_ASSERT" in err["error"] and "llama-vocab.cpp" in err["error"]
        rest = (await resp.read()).decode().strip().split("\n")
        assert '"done":true' in rest[-1]  # the neighbour's stream finished normally
        assert await _ps(s, d.url) == ["gemma:latest", "smol:latest"]  # broken is not "loaded"
        assert (await _generate(s, d.url, "smol"))[0] == 200
        status, err = await _generate(s, d.url, "broken")  # loaded again, crashes again: still clean
        assert status == 500 and "model runner crashed" in err["error"]
    assert d.proc.poll() is None
    assert "runner process" in d.log_text() and "GGML_ASSERT" in d.log_text()


async def test_a_runner_killed_mid_stream(start: Any) -> None:
    d = start()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:
        assert (await _generate(s, d.url, "smol"))[0] == 200
        (smol_pid,) = runner_children(d.proc.pid)
        assert (await _generate(s, d.url, "gemma"))[0] == 200
        body = {"model": "smol", "prompt": COUNTING, "raw": True, "options": {"num_predict": 100000}}
        resp = await s.post(d.url + "/api/generate", json=body)
        assert b'"done":false' in await resp.content.readline()
        os.kill(smol_pid, signal.SIGKILL)
        lines = (await asyncio.wait_for(resp.read(), 60)).decode().strip().split("\n")
        assert lines[-1] == '{"error":"model runner crashed: signal: killed"}', lines[-3:]
        assert await _ps(s, d.url) == ["gemma:latest"]
        assert (await _generate(s, d.url, "gemma"))[0] == 200
        status, body2 = await _generate(s, d.url, "smol")  # loads a new runner
        assert status == 200 and body2["done"], body2
        assert smol_pid not in runner_children(d.proc.pid)
    pids = runner_children(d.proc.pid)
    assert len(pids) == 2
    assert d.stop() == 0
    for pid in pids:  # the runners went with the daemon
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_inprocess_isolation_setting(start: Any) -> None:
    d = start(OLLAMA_RUNNER_ISOLATION="inprocess")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:
        status, body = await _generate(s, d.url, "smol")
        assert status == 200 and body["done"]
    assert runner_children(d.proc.pid) == {}
    assert "'OLLAMA_RUNNER_ISOLATION': 'inprocess'" in d.log_text()


async def test_seeded_fuzz_subset_never_takes_the_daemon_down(
    start: Any, smollm2_path: Path, gemma_path: Path, tmp_path: Path
) -> None:
    d = start(PYOLLAMA_NUM_PARALLEL="1", PYOLLAMA_LOAD_TIMEOUT="120s")
    lines: list[str] = []
    for source, seeds in ((smollm2_path, SMOL_SEEDS), (gemma_path, GEMMA_SEEDS)):
        report = await fuzz_daemon(
            d.url, lambda: d.proc.poll() is None, source, seeds, good_model="smol", workdir=tmp_path,
            check_good_every=5, log=lines.append,
        )  # fmt: skip
        assert report.failures == [], "\n".join(report.failures + lines)
        assert len(report.outcomes) == len(seeds), "\n".join(lines)
    assert d.proc.poll() is None
