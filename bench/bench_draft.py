"""Speculative decoding in the engine: no draft vs a draft model (SmolLM2 as its own draft, same
vocabulary) vs llama.cpp's draft-free n-gram speculators, greedy, alternating rounds.

    python bench/bench_draft.py [--rounds 3] [--n-predict 128] [--threads 2] [--draft-max 4]

For each configuration: decode tok/s (llama.cpp's own timings), the draft acceptance rate
(accepted / drafted tokens), and whether the greedy text equals the no-draft text. Two prompts: free
text, and a "repeat this passage" prompt where n-gram lookup has something to find. The load
average is printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import smollm2_path

from pyollama import engine

PASSAGE = (
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\n"
    "def mul(a, b):\n    return a * b\n\n\ndef div(a, b):\n    return a / b\n"
)
USER, ASSISTANT = "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n"
PROMPTS = {
    "free text": f"{USER}Write a short story about a lighthouse keeper.{ASSISTANT}",
    "repeat code": f"{USER}Copy this code exactly, twice:\n{PASSAGE}{ASSISTANT}{PASSAGE}\n",
}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def complete(server: Any, prompt: str, n_predict: int) -> dict[str, Any]:
    body = {"prompt": prompt, "n_predict": n_predict, "temperature": 0, "top_k": 1, "cache_prompt": False}
    stream = server.submit("/completion", json.dumps(body).encode())
    item = None
    while item is None:
        item = stream.next(600_000)
    stream.close()
    data: dict[str, Any] = json.loads(item[3])
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n-predict", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--draft-max", type=int, default=4)
    args = ap.parse_args()
    engine.init(0)
    model = str(smollm2_path())
    base = {
        "model": model,
        "n_ctx": 2048,
        "n_parallel": 1,
        "n_threads": args.threads,
        "n_threads_batch": args.threads,
    }
    configs: dict[str, dict[str, Any]] = {
        "no draft": {},
        f"draft model (n_max {args.draft_max})": {"draft_model": model, "draft_n_max": args.draft_max},
        "ngram-simple": {"speculative": ["ngram-simple"]},
        "ngram-mod": {"speculative": ["ngram-mod"]},
    }
    servers = {}
    for name, extra in configs.items():
        s = engine.Server(json.dumps({**base, **extra}))
        s.load()
        s.start()
        servers[name] = s
    print(f"SmolLM2-135M Q4_1, threads {args.threads}, n_predict {args.n_predict}, rounds {args.rounds}")
    print(f"load before: {load()}  (cores: {os.cpu_count()})")
    for pname, prompt in PROMPTS.items():
        tps: dict[str, list[float]] = {n: [] for n in configs}
        drafted: dict[str, int] = dict.fromkeys(configs, 0)
        accepted: dict[str, int] = dict.fromkeys(configs, 0)
        texts: dict[str, str] = {}
        for r in range(args.rounds):
            order = list(configs) if r % 2 == 0 else list(reversed(configs))
            for name in order:
                out = complete(servers[name], prompt, args.n_predict)
                t = out["timings"]
                tps[name].append(float(t["predicted_per_second"]))
                drafted[name] += int(t.get("draft_n", 0))
                accepted[name] += int(t.get("draft_n_accepted", 0))
                texts.setdefault(name, out["content"])
        ref = statistics.median(tps["no draft"])
        print()
        print(f"### {pname}")
        print()
        print("| configuration | decode tok/s (median) | vs no draft | acceptance | same greedy text |")
        print("|---|---:|---:|---:|---|")
        for name in configs:
            med = statistics.median(tps[name])
            acc = f"{accepted[name] / drafted[name]:.0%} of {drafted[name]}" if drafted[name] else "-"
            same = "yes" if texts[name] == texts["no draft"] else "NO"
            print(f"| {name} | {med:.1f} | {med / ref:.2f}x | {acc} | {same} |")
    print()
    print(f"load after: {load()}")
    for s in servers.values():
        s.close()


if __name__ == "__main__":
    main()
