"""In-process runner (NativeRunner) vs isolated runner (ProcessRunner: the same engine in a child
process, driven over a socketpair), on the same model and threads, in one run.

    python bench/bench_isolation.py [--rounds 7] [--n-predict 128] [--threads 2] [--serve]

Engine level: eval tok/s (one stream, client side and engine timings), aggregate tok/s over 4
concurrent streams, time to first token (a ~256-token prompt, and a 6-token one, where the
transport is most of what is left), load time, and memory (RSS of the process holding the model,
the daemon's growth included for the child). With --serve, the same through two real daemons
(OLLAMA_RUNNER_ISOLATION=inprocess / process) over HTTP. The sides alternate round by round so
drift in machine load hits both alike; each figure is the median with its range over the rounds.
Nothing is asserted.
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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from bench_engine import make_prompt, ours_one
from common import rss_kib, smollm2_path

from pyollama.runner.native import NativeRunner
from pyollama.runner.process import ProcessRunner
from pyollama.runner.types import LoadOptions

SIDES = ("inprocess", "process")


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f}  [{min(values):.2f} .. {max(values):.2f}]"


async def load(side: str, model: Path, opts: LoadOptions) -> Any:
    if side == "inprocess":
        return await NativeRunner.load(str(model), opts)
    return await ProcessRunner.load(str(model), opts)


async def engine_round(runner: Any, args: argparse.Namespace, salt: int) -> dict[str, float]:
    single = await ours_one(runner, make_prompt(args.prompt_tokens, salt), args.n_predict)
    ttft = await ours_one(runner, make_prompt(args.prompt_tokens, 100 + salt), 1)
    short = await ours_one(runner, f"Hi {salt}, how are", 1)
    t0 = time.perf_counter()
    res = await asyncio.gather(
        *(ours_one(runner, make_prompt(32, 1000 * salt + i), args.n_predict) for i in range(4))
    )
    agg = sum(x["tokens"] for x in res) / (time.perf_counter() - t0)
    return {
        "tg_tps": single["tg_tps"],
        "tg_client_tps": single["tokens"] / single["wall"],
        "agg4_tps": agg,
        "ttft_ms": ttft["ttft_ms"],
        "ttft_short_ms": short["ttft_ms"],
    }


async def engine_bench(model: Path, args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    opts = LoadOptions(
        num_ctx=args.ctx,
        num_parallel=4,
        num_thread=args.threads,
        num_batch=2048,
        num_ubatch=512,
        embedding=True,
        pooling="mean",
    )
    out: dict[str, dict[str, list[float]]] = {s: {} for s in SIDES}

    def add(side: str, key: str, value: float) -> None:
        out[side].setdefault(key, []).append(value)

    # load time and memory: a fresh load each round, alternating
    for r in range(args.load_rounds):
        for side in SIDES if r % 2 == 0 else tuple(reversed(SIDES)):
            before = rss_kib(os.getpid())
            t0 = time.perf_counter()
            runner = await load(side, model, opts)
            add(side, "load_s", time.perf_counter() - t0)
            await ours_one(runner, "Hello", 4)  # touch the weights
            grown = rss_kib(os.getpid()) - before
            child = rss_kib(runner.pid) if side == "process" else 0
            add(side, "rss_mib", (max(grown, 0) + child) / 1024)
            await runner.close()
    runners = {side: await load(side, model, opts) for side in SIDES}
    try:
        for runner in runners.values():
            await ours_one(runner, make_prompt(16, 999), 8)  # warm-up
        for r in range(args.rounds):
            for side in SIDES if r % 2 == 0 else tuple(reversed(SIDES)):
                for key, value in (await engine_round(runners[side], args, r)).items():
                    add(side, key, value)
    finally:
        for runner in runners.values():
            await runner.close()
    return out


# --- through the daemon ------------------------------------------------------------------------------


async def serve_round(url: str, args: argparse.Namespace, salt: int) -> dict[str, float]:
    from bench_serve import Ours

    side = Ours(url, "bench")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
        single = await side.one(s, f"List {salt:05d}: 1, 2, 3, 4, 5,", args.n_predict)
        ttft = await side.one(s, f"List {salt + 100:05d}: 1, 2, 3, 4, 5,", 1)
        short = await side.one(s, f"Hi {salt + 300}, how are", 1)
        t0 = time.perf_counter()
        res = await asyncio.gather(
            *(side.one(s, f"List {salt + 200 + i:05d}: 1, 2,", args.n_predict) for i in range(4))
        )
        agg = sum(x["tokens"] for x in res) / (time.perf_counter() - t0)
    return {
        "http_tg_tps": single["tg_tps"],
        "http_tg_client_tps": single["tokens"] / single["wall"],
        "http_agg4_tps": agg,
        "http_ttft_ms": ttft["ttft_ms"],
        "http_ttft_short_ms": short["ttft_ms"],
    }


def serve_bench(model: Path, args: argparse.Namespace, out: dict[str, dict[str, list[float]]]) -> None:
    from bench_serve import start_mode_daemons

    procs: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-iso-") as tmp:
        try:
            start_mode_daemons(Path(tmp), SIDES, args, model, procs)
            for r in range(args.rounds):
                for side in SIDES if r % 2 == 0 else tuple(reversed(SIDES)):
                    for key, value in asyncio.run(serve_round(procs[side][1], args, 1000 * r)).items():
                        out[side].setdefault(key, []).append(value)
        finally:
            for proc, _ in procs.values():
                proc.terminate()
                proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--n-predict", type=int, default=128)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--ctx", type=int, default=2048, help="context per slot (4 slots)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--load-rounds", type=int, default=4)
    ap.add_argument("--serve", action="store_true", help="also through two real daemons over HTTP")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    model = args.model or smollm2_path()
    load_before = os.getloadavg()
    out = asyncio.run(engine_bench(model, args))
    if args.serve:
        serve_bench(model, args, out)
    load_after = os.getloadavg()
    setup = f"threads {args.threads}, n_predict {args.n_predict}, prompt ~{args.prompt_tokens} tok"
    print(f"model: {model.name}, {setup}")
    loads = f"{load_before[0]:.1f} -> {load_after[0]:.1f}"
    print(f"rounds {args.rounds}; load average {loads} on {os.cpu_count()} CPUs")
    print(f"{'':36s}{'in-process: median [range]':>34s}{'isolated: median [range]':>34s}{'ratio':>8s}")
    for key in out["inprocess"]:
        a, b = out["inprocess"][key], out["process"][key]
        ratio = statistics.median(b) / statistics.median(a) if statistics.median(a) else float("nan")
        print(f"{key:36s}{spread(a):>34s}{spread(b):>34s}{ratio:8.3f}")
    if args.json:
        meta = vars(args) | {"model": str(model), "json": None, "loadavg": [load_before, load_after]}
        args.json.write_text(json.dumps({"args": meta, **out}, indent=2, default=str))


if __name__ == "__main__":
    main()
