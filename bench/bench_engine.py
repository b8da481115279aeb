"""pyollama's in-process runner vs llama.cpp's own llama-bench and llama-server (same vendored
tree, same model, same threads), in one run.

    python bench/bench_engine.py [--threads 2] [--n-predict 128] [--prompt-tokens 256] [--reps 3]

Reports prompt eval tok/s, eval tok/s (single stream), aggregate tok/s with 4 concurrent streams
and time to first token, each as a ratio pyollama / llama.cpp. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from common import llama_binary, llama_server, llama_server_completion, median, smollm2_path, table

from pyollama.runner.base import CompletionRequest
from pyollama.runner.native import NativeRunner
from pyollama.runner.types import LoadOptions

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "seven",
    "wise",
    "owls",
    "watch",
    "quietly",
    "from",
    "old",
    "oak",
    "trees",
]


def make_prompt(n_words: int, salt: int) -> str:
    return f"[{salt}] " + " ".join(WORDS[(i * 7 + salt) % len(WORDS)] for i in range(n_words))


def body(prompt: str, n_predict: int) -> dict[str, Any]:
    return {
        "prompt": prompt,
        "n_predict": n_predict,
        "ignore_eos": True,
        "temperature": 0,
        "cache_prompt": False,
        "stream": True,
    }


# --- pyollama (in-process) -------------------------------------------------------------------------


async def ours_one(runner: NativeRunner, prompt: str, n_predict: int) -> dict[str, float]:
    t0 = time.perf_counter()
    ttft = None
    n = 0
    final = None
    req = CompletionRequest(
        prompt=prompt,
        options={"temperature": 0, "num_predict": n_predict},
        engine_extra={"ignore_eos": True, "cache_prompt": False},
    )
    async for c in runner.complete(req):
        if c.content and ttft is None:
            ttft = time.perf_counter() - t0
        n += 1
        final = c
    wall = time.perf_counter() - t0
    assert final is not None and final.done
    return {
        "ttft_ms": (ttft or wall) * 1e3,
        "wall": wall,
        "tokens": final.eval_count,
        "pp_tps": final.prompt_eval_count / (final.prompt_eval_duration / 1e9),
        "tg_tps": final.eval_count / (final.eval_duration / 1e9),
    }


# --- llama-server (HTTP on loopback) -------------------------------------------------------------


async def theirs_one(
    session: aiohttp.ClientSession, url: str, prompt: str, n_predict: int
) -> dict[str, float]:
    return await llama_server_completion(session, url, body(prompt, n_predict))


async def measure_pair(sides: dict[str, Any], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Measure every side rep by rep, alternating, so drift in machine load hits all sides alike."""
    raw: dict[str, dict[str, list[Any]]] = {k: {"single": [], "ttft": [], "agg": []} for k in sides}
    for one in sides.values():
        await one(make_prompt(16, 999), 8)  # warm-up
    for r in range(args.reps):
        order = list(sides.items()) if r % 2 == 0 else list(reversed(sides.items()))
        for name, one in order:
            raw[name]["single"].append(await one(make_prompt(args.prompt_words, r), args.n_predict))
            raw[name]["ttft"].append(await one(make_prompt(args.prompt_words, 100 + r), 1))
            t0 = time.perf_counter()
            res = await asyncio.gather(
                *(one(make_prompt(32, 1000 * r + i), args.n_predict) for i in range(4))
            )
            raw[name]["agg"].append(sum(x["tokens"] for x in res) / (time.perf_counter() - t0))
    out = {}
    for name, d in raw.items():
        single = d["single"]
        out[name] = {
            "pp_tps": median([x["pp_tps"] for x in single]),
            "tg_tps": median([x["tg_tps"] for x in single]),
            "tg_client_tps": median([x["tokens"] / x["wall"] for x in single]),
            "agg4_tps": median(d["agg"]),
            "ttft_ms": median([x["ttft_ms"] for x in d["ttft"]]),
        }
    return out


async def run_both(model: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The in-process runner and llama-server, both loaded, measured alternately."""
    opts = LoadOptions(
        num_ctx=args.ctx,
        num_parallel=4,
        num_thread=args.threads,
        num_batch=2048,
        num_ubatch=512,
        embedding=args.embeddings,
    )
    runner = await NativeRunner.load(str(model), opts)
    try:
        with llama_server(model, threads=args.threads, n_ctx=args.ctx, n_parallel=4) as url:
            connector = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=connector) as session:
                return await measure_pair(
                    {
                        "ours": lambda p, n: ours_one(runner, p, n),
                        "theirs": lambda p, n: theirs_one(session, url, p, n),
                    },
                    args,
                )
    finally:
        await runner.close()


def run_llama_bench(model: Path, args: argparse.Namespace) -> dict[str, float]:
    exe = llama_binary("llama-bench")
    out = subprocess.run(
        [
            str(exe),
            "-m",
            str(model),
            "-t",
            str(args.threads),
            "-p",
            str(args.prompt_tokens),
            "-n",
            str(args.n_predict),
            "-r",
            str(args.reps),
            "-o",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    res = {}
    for row in json.loads(out):
        key = "pp_tps" if row["n_prompt"] > 0 else "tg_tps"
        res[key] = float(row["avg_ts"])
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--n-predict", type=int, default=128)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--ctx", type=int, default=2048, help="context per slot")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--embeddings", action="store_true", help="load as the daemon does (embeddings enabled)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    args.prompt_words = args.prompt_tokens  # ~1 token per word for this vocabulary
    model = args.model or smollm2_path()

    bench = run_llama_bench(model, args)
    both = asyncio.run(run_both(model, args))
    ours, theirs = both["ours"], both["theirs"]
    rows = [
        ("prompt eval tok/s (vs llama-server)", ours["pp_tps"], theirs["pp_tps"]),
        ("prompt eval tok/s (vs llama-bench pp)", ours["pp_tps"], bench["pp_tps"]),
        ("eval tok/s, 1 stream (vs llama-server)", ours["tg_tps"], theirs["tg_tps"]),
        ("eval tok/s, 1 stream (vs llama-bench tg)", ours["tg_tps"], bench["tg_tps"]),
        ("eval tok/s, 1 stream, client side", ours["tg_client_tps"], theirs["tg_client_tps"]),
        ("aggregate tok/s, 4 streams", ours["agg4_tps"], theirs["agg4_tps"]),
        ("time to first token, ms (lower is better)", ours["ttft_ms"], theirs["ttft_ms"]),
    ]
    print(
        f"model: {model.name}, threads: {args.threads}, prompt ~{args.prompt_tokens} tok, "
        f"n_predict {args.n_predict}, reps {args.reps}"
    )
    print(table(rows))
    if args.json:
        args.json.write_text(
            json.dumps({"ours": ours, "llama_server": theirs, "llama_bench": bench}, indent=2)
        )


if __name__ == "__main__":
    main()
