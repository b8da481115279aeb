"""End-to-end with ggml's RPC backend on loopback: two `pyollama rpc-server` processes, a daemon
with OLLAMA_RPC_SERVERS naming both; SmolLM2 split across them answers exactly as a daemon without
RPC at temperature 0, and its layers really are on the servers. Slow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pyollama import rpc
from tests.process import free_port
from tests.server.daemon import ROOT, Daemon, create_from_file, need_engine

pytestmark = pytest.mark.slow
GENERATE = {"num_predict": 24, "temperature": 0, "seed": 1}
PROMPT = "The capital of France is"


def start_rpc_server(home: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`pyollama rpc-server` on a free loopback port, once it answers a probe."""
    port = free_port()
    log = home / f"rpc-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home)}
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pyollama.cli.main", "rpc-server", "--port", str(port), "--threads", "1"],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=home,
        )
    ep = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rpc-server exited {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            rpc.probe(ep, timeout=1)
            return proc, ep, log
        except rpc.RpcError:
            time.sleep(0.2)
    stop(proc)
    raise TimeoutError("rpc-server did not start")


def stop(proc: subprocess.Popen[bytes]) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def generate_and_ps(home: Path, model: Path, env: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """One daemon's answer at temperature 0 and its /api/ps entry while the model is loaded."""
    import ollama

    d = Daemon(home, home / "models", {"PYOLLAMA_CONTEXT_LENGTH": "512", "PYOLLAMA_NUM_PARALLEL": "1", **env})
    try:
        create_from_file(d.url, "smol", model)
        with ollama.Client(host=d.url) as client:
            text = client.generate(model="smol", prompt=PROMPT, options=GENERATE, keep_alive="5m").response
            ps = client.ps().model_dump()["models"]
        assert len(ps) == 1 and text is not None, ps
        return text, ps[0]
    finally:
        assert d.stop() == 0, d.log_text()[-3000:]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> tuple[str, dict[str, Any]]:
    """The answer and /api/ps entry of a daemon without RPC."""
    need_engine()
    return generate_and_ps(tmp_path_factory.mktemp("rpc-local"), smollm2_path, {})


@pytest.mark.parametrize("isolation", ["process", "inprocess"])
def test_split_across_two_rpc_servers_answers_as_locally(
    tmp_path_factory: pytest.TempPathFactory,
    smollm2_path: Path,
    local: tuple[str, dict[str, Any]],
    isolation: str,
) -> None:
    local_text, local_ps = local
    home = tmp_path_factory.mktemp(f"rpc-split-{isolation}")
    servers: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        servers = [start_rpc_server(home) for _ in range(2)]
        endpoints = ",".join(ep for _, ep, _ in servers)
        import ollama

        d = Daemon(
            home,
            home / "models",
            {
                "PYOLLAMA_CONTEXT_LENGTH": "512",
                "PYOLLAMA_NUM_PARALLEL": "1",
                "OLLAMA_RPC_SERVERS": endpoints,
                "OLLAMA_RUNNER_ISOLATION": isolation,
            },
        )
        try:
            create_from_file(d.url, "smol", smollm2_path)
            with ollama.Client(host=d.url) as client:
                text = client.generate(
                    model="smol", prompt=PROMPT, options=GENERATE, keep_alive="5m"
                ).response
                assert text == local_text
                assert text.strip()
                (ps,) = client.ps().model_dump()["models"]
                # the weights, KV cache and compute buffers live on the RPC devices: device memory on a
                # machine whose local run had none beyond its own GPUs
                assert ps["size_vram"] > local_ps["size_vram"], (ps, local_ps)
                # each server is held by the loaded model (one client at a time): a probe waits
                for _, ep, _ in servers:
                    with pytest.raises(rpc.RpcError, match="did not answer"):
                        rpc.probe(ep, timeout=0.5)
                # a second request on the split model, same answer
                again = client.generate(model="smol", prompt=PROMPT, options=GENERATE).response
                assert again == local_text
        finally:
            assert d.stop() == 0, d.log_text()[-3000:]
        for proc, ep, log in servers:
            assert proc.poll() is None, log.read_text(errors="replace")
            assert "Accepted client connection" in log.read_text(errors="replace")
            # the model is gone: the server is free for the next client
            deadline = time.monotonic() + 20
            while True:
                try:
                    assert rpc.probe(ep, timeout=1)
                    break
                except rpc.RpcError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
    finally:
        for proc, _, _ in servers:
            stop(proc)
    for proc, _, log in servers:
        assert proc.returncode == 0, log.read_text(errors="replace")
        assert "rpc-server: stopped" in log.read_text(errors="replace")
