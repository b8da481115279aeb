"""`pyollama serve` (the whole daemon, over HTTP) vs llama.cpp's `llama-server` (same vendored tree,
same model, same threads, 4 slots with the same context each), in one run.

    python bench/bench_serve.py [--threads 2] [--n-predict 128] [--ctx 2048] [--reps 3]

Reports eval tok/s for one stream, aggregate tok/s with 4 concurrent streams, time to first token
(and the daemon's overhead in ms), requests/s on `/api/version` vs llama-server's `/health`, and the
daemon's RSS idle and with the model loaded. Ollama has no `ignore_eos`, so both sides get the same
raw prompt that makes the model count on and the same `num_predict`, and tokens/s are compared, not
totals. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from common import (
    ROOT,
    free_port,
    llama_server,
    llama_server_completion,
    median,
    rss_kib,
    smollm2_path,
    table,
)

COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,"


def prompt(salt: int) -> str:
    """Distinct prompts (no prompt-cache hits between runs), same length on both sides."""
    return f"List {salt:05d}: " + COUNTING


def pid_of_port(port: int) -> int:
    """The process whose command line has `--port <port>` (llama-server started by common.py)."""
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                argv = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--port" in argv and str(port).encode() in argv:
                return int(d.name)
    return 0


# --- the two clients -------------------------------------------------------------------------------


class Ours:
    """`pyollama serve` on loopback: raw /api/generate, NDJSON."""

    name = "pyollama"

    def __init__(self, url: str, model: str) -> None:
        self.url, self.model = url, model

    async def one(self, s: aiohttp.ClientSession, text: str, n: int) -> dict[str, float]:
        body = {
            "model": self.model,
            "prompt": text,
            "raw": True,
            "options": {"num_predict": n, "temperature": 0, "seed": 1},
        }
        t0 = time.perf_counter()
        ttft = None
        final: dict[str, Any] = {}
        async with s.post(self.url + "/api/generate", json=body) as r:
            async for line in r.content:
                ev = json.loads(line)
                if ev.get("response") and ttft is None:
                    ttft = time.perf_counter() - t0
                if ev.get("done"):
                    final = ev
        wall = time.perf_counter() - t0
        return {
            "ttft_ms": (ttft or wall) * 1e3,
            "wall": wall,
            "tokens": final["eval_count"],
            "tg_tps": final["eval_count"] / (final["eval_duration"] / 1e9),
        }

    async def ping(self, s: aiohttp.ClientSession) -> None:
        async with s.get(self.url + "/api/version") as r:
            await r.read()


class Theirs:
    """llama-server on loopback: /completion, SSE."""

    name = "llama-server"

    def __init__(self, url: str) -> None:
        self.url = url

    async def one(self, s: aiohttp.ClientSession, text: str, n: int) -> dict[str, float]:
        body = {"prompt": text, "n_predict": n, "temperature": 0, "seed": 1}
        return await llama_server_completion(s, self.url, body)

    async def ping(self, s: aiohttp.ClientSession) -> None:
        async with s.get(self.url + "/health") as r:
            await r.read()


async def measure(side: Ours | Theirs, args: argparse.Namespace, salt: int) -> dict[str, float]:
    # a fresh connection per request on both sides (llama-server's httplib mishandles reuse after SSE)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
        await side.one(s, prompt(salt), 8)  # warm-up
        single = [await side.one(s, prompt(salt + 1 + i), args.n_predict) for i in range(args.reps)]
        ttft = [await side.one(s, prompt(salt + 100 + i), 1) for i in range(args.reps * 3)]
        # a few-token prompt: what is left is the daemon's own overhead per request
        ttft_short = [await side.one(s, f"Hi {salt + 300 + i}, how are", 1) for i in range(args.reps * 9)]
        agg = []
        for r in range(args.reps):
            t0 = time.perf_counter()
            res = await asyncio.gather(
                *(side.one(s, prompt(salt + 200 + 10 * r + i), args.n_predict) for i in range(4))
            )
            agg.append(sum(x["tokens"] for x in res) / (time.perf_counter() - t0))
        # requests/s on the cheapest route, 8 connections
        n_req = args.ping_requests
        t0 = time.perf_counter()

        async def pinger(k: int) -> None:
            for _ in range(k):
                await side.ping(s)

        await asyncio.gather(*(pinger(n_req // 8) for _ in range(8)))
        rps = (n_req // 8 * 8) / (time.perf_counter() - t0)
    return {
        "tg_tps": median([x["tg_tps"] for x in single]),
        "tg_client_tps": median([x["tokens"] / x["wall"] for x in single]),
        "tokens_single": median([x["tokens"] for x in single]),
        "agg4_tps": median(agg),
        "ttft_ms": median([x["ttft_ms"] for x in ttft]),
        "ttft_short_ms": median([x["ttft_ms"] for x in ttft_short]),
        "rps": rps,
    }


# --- the daemon ------------------------------------------------------------------------------------


def start_daemon(
    home: Path, args: argparse.Namespace, *, parallel: int = 4, extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        # this checkout's pyollama, unless told to run an installed one (bench/gpu.sh)
        "PYTHONPATH": os.environ.get("PYOLLAMA_BENCH_PYTHONPATH", str(ROOT)),
        "PYOLLAMA_HOST": f"127.0.0.1:{port}",
        "PYOLLAMA_MODELS": str(home / "models"),
        "PYOLLAMA_NUM_PARALLEL": str(parallel),
        "PYOLLAMA_CONTEXT_LENGTH": str(args.ctx),
        "PYOLLAMA_NUM_THREAD": str(args.threads),
        "PYOLLAMA_KEEP_ALIVE": "-1",
        "HOME": str(home),
        **(extra or {}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyollama.cli.main", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    for _ in range(600):
        try:
            with urllib.request.urlopen(url + "/api/version", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("pyollama serve did not start")


def start_mode_daemons(
    tmp: Path,
    modes: list[str] | tuple[str, ...],
    args: argparse.Namespace,
    model: Path,
    started: dict[str, tuple[subprocess.Popen[bytes], str]],
) -> None:
    """A daemon per OLLAMA_RUNNER_ISOLATION mode, each in tmp/<mode> with `model` created on it.
    Each goes into `started` as soon as it runs, so the caller's cleanup stops what did start."""
    for mode in modes:
        home = tmp / mode
        home.mkdir()
        started[mode] = start_daemon(home, args, extra={"OLLAMA_RUNNER_ISOLATION": mode})
        asyncio.run(create_model(started[mode][1], model))


async def create_model(url: str, model: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(model, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = "sha256:" + h.hexdigest()
    async with aiohttp.ClientSession() as s:
        with open(model, "rb") as fh:
            async with s.post(f"{url}/api/blobs/{digest}", data=fh) as r:
                assert r.status in (200, 201), await r.text()
        body = {"model": "bench", "files": {model.name: digest}, "stream": False}
        async with s.post(url + "/api/create", json=body) as r:
            assert r.status == 200, await r.text()
        # load now, so "loaded" RSS and the first measurement do not include the load
        async with s.post(url + "/api/generate", json={"model": "bench"}) as r:
            assert r.status == 200, await r.text()
    return "bench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--n-predict", type=int, default=128)
    ap.add_argument("--ctx", type=int, default=2048, help="context per slot (4 slots on both sides)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ping-requests", type=int, default=2000)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    model = args.model or smollm2_path()

    # Both servers stay up and are measured alternately, one rep at a time, so drift in machine
    # load hits both sides alike; medians over the rounds.
    rounds, args.reps = args.reps, 1
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "theirs": []}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        proc, url = start_daemon(Path(tmp), args)
        try:
            time.sleep(0.5)
            rss_idle = rss_kib(proc.pid)
            name = asyncio.run(create_model(url, model))
            with llama_server(model, threads=args.threads, n_ctx=args.ctx, n_parallel=4) as lurl:
                sides: dict[str, Ours | Theirs] = {"ours": Ours(url, name), "theirs": Theirs(lurl)}
                for r in range(rounds):
                    order = ["ours", "theirs"] if r % 2 == 0 else ["theirs", "ours"]
                    for key in order:
                        runs[key].append(asyncio.run(measure(sides[key], args, r * 1000)))
                pid = pid_of_port(int(lurl.rsplit(":", 1)[1]))
                theirs_rss = rss_kib(pid) / 1024 if pid else float("nan")
            ours_rss = rss_kib(proc.pid) / 1024
        finally:
            proc.terminate()
            proc.wait(30)
    ours = {k: median([x[k] for x in runs["ours"]]) for k in runs["ours"][0]}
    theirs = {k: median([x[k] for x in runs["theirs"]]) for k in runs["theirs"][0]}
    ours["rss_loaded_mib"], ours["rss_idle_mib"] = ours_rss, rss_idle / 1024
    theirs["rss_loaded_mib"] = theirs_rss

    nan = float("nan")
    rows = [
        ("eval tok/s, 1 stream (server timings)", ours["tg_tps"], theirs["tg_tps"]),
        ("eval tok/s, 1 stream (client side)", ours["tg_client_tps"], theirs["tg_client_tps"]),
        ("aggregate tok/s, 4 streams", ours["agg4_tps"], theirs["agg4_tps"]),
        ("time to first token, ms (lower is better)", ours["ttft_ms"], theirs["ttft_ms"]),
        ("time to first token, 6-token prompt, ms", ours["ttft_short_ms"], theirs["ttft_short_ms"]),
        ("requests/s, /api/version vs /health", ours["rps"], theirs["rps"]),
        ("RSS with the model loaded, MiB", ours["rss_loaded_mib"], theirs["rss_loaded_mib"]),
        ("RSS idle (no model), MiB", ours["rss_idle_mib"], nan),
    ]
    print(
        f"model: {model.name}, threads: {args.threads}, 4 slots x ctx {args.ctx}, "
        f"n_predict {args.n_predict}, "
        f"reps {args.reps}; tokens generated per single stream: ours {ours['tokens_single']:.0f}, "
        f"llama-server {theirs['tokens_single']:.0f}"
    )
    print(table(rows))
    print(
        f"\nTTFT overhead (pyollama - llama-server): {ours['ttft_ms'] - theirs['ttft_ms']:+.2f} ms, "
        f"6-token prompt {ours['ttft_short_ms'] - theirs['ttft_short_ms']:+.2f} ms"
    )
    if args.json:
        args.json.write_text(json.dumps({"ours": ours, "llama_server": theirs}, indent=2))


if __name__ == "__main__":
    main()
