"""Throughput with a model split across two loopback `pyollama rpc-server`s vs the same daemon
without RPC (ggml's RPC backend, OLLAMA_RPC_SERVERS), in one run.

    python bench/bench_rpc.py [--threads 2] [--n-predict 128] [--prompt-words 200] [--rounds 5]

Both daemons stay up (the RPC one with SmolLM2's layers on the two servers) and are measured
alternately, one request each per round with a fresh prompt (no prompt cache), so drift in machine
load hits both alike. Reports eval tok/s and prompt tok/s from the daemon's own timings: medians,
min-max spread, and the split/local ratio per round (median and spread). On loopback the servers
share this machine's CPU: this measures the protocol's cost, not a gain; across machines the point
is a model larger than one machine's memory. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's pyollama

import aiohttp
import bench_engine
import bench_serve
from bench_serve import create_model
from common import ROOT, free_port, median, smollm2_path

from pyollama import rpc

WORDS = bench_engine.WORDS


def prompt(salt: int, words: int) -> str:
    """A prompt no earlier round shares a prefix with (the salt comes first)."""
    body = " ".join(WORDS[(salt + i) % len(WORDS)] for i in range(words))
    return f"Round {salt}. {body}. Now count: 1, 2, 3, 4, 5,"


def start_rpc_server(home: Path, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyollama.cli.main", "rpc-server", "-p", str(port), "-t", str(threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ep = f"127.0.0.1:{port}"
    for _ in range(600):
        try:
            rpc.probe(ep, timeout=1)
            return proc, ep
        except rpc.RpcError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("rpc-server did not start")


def start_daemon(
    home: Path, args: argparse.Namespace, extra: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    """bench_serve's daemon with one slot (an RPC server serves one client) and `extra`'s settings."""
    return bench_serve.start_daemon(home, args, parallel=1, extra=extra)


async def measure(url: str, text: str, n: int) -> dict[str, float]:
    body = {
        "model": "bench",
        "prompt": text,
        "raw": True,
        "stream": False,
        "options": {"num_predict": n, "temperature": 0, "seed": 1},
    }
    async with aiohttp.ClientSession() as s, s.post(url + "/api/generate", json=body) as r:
        assert r.status == 200, await r.text()
        final: dict[str, Any] = await r.json()
    return {
        "eval_tps": final["eval_count"] / (final["eval_duration"] / 1e9),
        "prompt_tps": final["prompt_eval_count"] / (final["prompt_eval_duration"] / 1e9),
        "eval_count": final["eval_count"],
        "prompt_count": final["prompt_eval_count"],
    }


async def size_vram(url: str) -> int:
    async with aiohttp.ClientSession() as s, s.get(url + "/api/ps") as r:
        models = (await r.json())["models"]
    return int(models[0]["size_vram"]) if models else 0


def spread(xs: list[float]) -> str:
    return f"{median(xs):.2f} [{min(xs):.2f}-{max(xs):.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument(
        "--threads", type=int, default=os.cpu_count() or 2, help="daemon threads (and each server's)"
    )
    ap.add_argument("--n-predict", type=int, default=128)
    ap.add_argument("--prompt-words", type=int, default=200)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    model = args.model or smollm2_path()

    runs: dict[str, list[dict[str, float]]] = {"local": [], "split": []}
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-rpc-") as tmp:
        try:
            servers = []
            for _ in range(2):
                proc, ep = start_rpc_server(Path(tmp), args.threads)
                procs.append(proc)
                servers.append(ep)
            urls = {}
            for key, extra in (("local", {}), ("split", {"OLLAMA_RPC_SERVERS": ",".join(servers)})):
                home = Path(tmp) / key
                home.mkdir()
                proc, url = start_daemon(home, args, extra)
                procs.append(proc)
                asyncio.run(create_model(url, model))
                urls[key] = url
            vram = {k: asyncio.run(size_vram(u)) for k, u in urls.items()}
            for r in range(args.rounds):
                order = ["local", "split"] if r % 2 == 0 else ["split", "local"]
                for key in order:
                    text = prompt(r * 2 + (key == "split"), args.prompt_words)
                    runs[key].append(asyncio.run(measure(urls[key], text, args.n_predict)))
        finally:
            for proc in reversed(procs):  # the daemons first (their runners hold the servers)
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)

    print(
        f"model: {model.name}, threads: {args.threads}, ctx {args.ctx}, n_predict {args.n_predict}, "
        f"prompt ~{runs['local'][0]['prompt_count']:.0f} tokens, rounds {args.rounds}; "
        f"device memory on the RPC servers: {vram['split'] / 2**20:.0f} MiB (local run: "
        f"{vram['local'] / 2**20:.0f} MiB)"
    )
    print("| metric | local: median [min-max] | split over 2 rpc-servers | split/local: median [min-max] |")
    print("|---|---:|---:|---:|")
    out: dict[str, Any] = {"runs": runs, "size_vram": vram}
    for key, name in (("eval_tps", "eval tok/s"), ("prompt_tps", "prompt tok/s")):
        local = [x[key] for x in runs["local"]]
        split = [x[key] for x in runs["split"]]
        ratios = [s / lo for s, lo in zip(split, local, strict=True)]
        print(
            f"| {name} | {spread(local)} | {spread(split)} | {statistics.median(ratios):.3f} "
            f"[{min(ratios):.3f}-{max(ratios):.3f}] |"
        )
        out[key] = {"local": median(local), "split": median(split), "ratio": statistics.median(ratios)}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
