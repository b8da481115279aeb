"""What a daemon's user feels, `pyollama serve` against llama.cpp's `llama-server` (same vendored tree,
same model, same threads, 4 slots with the same context each), measured alternately in one run.

    python bench/bench_daemon.py [--rounds 3] [--threads 2] [--ctx 2048] [--n-predict 64]
                                 [--modes process,inprocess] [--only cold,turn6,short,agg,embed] [--json F]

Figures, each pyollama vs llama-server, as median [min-max] over the rounds and the ratio of medians:

- cold start: a request on an unloaded model until its first token, against *spawn llama-server,
  poll /health every 10 ms, send the request* (Ollama's per-model runner architecture); for each
  OLLAMA_RUNNER_ISOLATION mode (process: a child runner process per model; inprocess)
- turn 6: time to first token of the 6th turn of a chat whose history is already in the KV cache
  (`/api/chat` against `/v1/chat/completions` with `cache_prompt`)
- short cached prompt: time to first token of a few-token raw prompt sent for the second time
  (what is left is the daemon's own per-request overhead; the difference is printed in ms)
- aggregate tok/s at 1, 4 and 16 concurrent streams (16 streams queue for the 4 slots on both)
- embeddings/s for one 64-input batch (`/api/embed` against `/v1/embeddings`; the llama-server for
  this has `--embeddings --pooling mean` and the daemon's batch = micro-batch, as the daemon loads)
- RSS with the model loaded after all of the above: the daemon plus its child runner (process
  mode), and the PSS sum (shared pages counted once), against llama-server

PYOLLAMA_LLAMA_BIN names a folder of prebuilt llama.cpp binaries (otherwise bench/common.py builds
them in the editable build). Nothing is asserted.
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
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from bench_serve import start_mode_daemons
from common import children, free_port, llama_binary, pss_kib, rss_kib, smollm2_path

FIGURES = ("cold", "turn6", "short", "agg", "embed")
POLL_S = 0.01  # how often the spawn-and-poll side asks /health


# --- process memory --------------------------------------------------------------------------------


def memory_mib(pid: int) -> dict[str, float]:
    pids = [pid, *children(pid)]
    return {
        "rss_mib": sum(rss_kib(p) for p in pids) / 1024,
        "pss_mib": sum(pss_kib(p) for p in pids) / 1024,
        "processes": float(len(pids)),
    }


# --- llama-server -----------------------------------------------------------------------------------


def llama_cmd(model: Path, port: int, args: argparse.Namespace, extra: list[str]) -> list[str]:
    t = str(args.threads)
    return [
        str(llama_binary("llama-server")),
        *("-m", str(model), "--host", "127.0.0.1", "--port", str(port), "-t", t, "-tb", t),
        *("-c", str(args.ctx * 4), "-np", "4", "-cram", "0", "--no-webui", "--offline", "-lv", "0"),
        *extra,
    ]


def wait_health(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(POLL_S)
    raise RuntimeError("llama-server did not become healthy")


class LlamaServer:
    def __init__(self, model: Path, args: argparse.Namespace, extra: list[str] | None = None) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            llama_cmd(model, port, args, extra or []), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_health(self.url, self.proc)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- streamed requests: time to first token -----------------------------------------------------------


def _session() -> aiohttp.ClientSession:
    # a fresh connection per request on both sides (llama-server's httplib mishandles reuse after SSE)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=0))


async def _ndjson(s: aiohttp.ClientSession, url: str, body: dict[str, Any], key: Callable[[Any], str]) -> Any:
    """An Ollama stream: (ttft s, wall s, final line)."""
    t0 = time.perf_counter()
    ttft = None
    final: dict[str, Any] = {}
    async with s.post(url, json=body) as r:
        assert r.status == 200, await r.text()
        async for line in r.content:
            if not line.strip():
                continue
            ev = json.loads(line)
            if ttft is None and key(ev):
                ttft = time.perf_counter() - t0
            if ev.get("done"):
                final = ev
    wall = time.perf_counter() - t0
    return (ttft or wall), wall, final


async def _sse(s: aiohttp.ClientSession, url: str, body: dict[str, Any], key: Callable[[Any], str]) -> Any:
    """A llama-server stream: (ttft s, wall s, last event with timings)."""
    t0 = time.perf_counter()
    ttft = None
    final: dict[str, Any] = {}
    async with s.post(url, json={**body, "stream": True}) as r:
        assert r.status == 200, await r.text()
        async for line in r.content:
            if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                continue
            ev = json.loads(line[6:])
            if ttft is None and key(ev):
                ttft = time.perf_counter() - t0
            if "timings" in ev:
                final = ev
    wall = time.perf_counter() - t0
    return (ttft or wall), wall, final


def _ours_gen(ev: Any) -> str:
    return str(ev.get("response") or "")


def _theirs_gen(ev: Any) -> str:
    return str(ev.get("content") or "")


def _ours_chat(ev: Any) -> str:
    return str((ev.get("message") or {}).get("content") or "")


def _theirs_chat(ev: Any) -> str:
    choices = ev.get("choices") or [{}]
    return str((choices[0].get("delta") or {}).get("content") or "")


class Side:
    """One server under test: how it generates, chats and embeds."""

    def __init__(self, name: str, url: str, ours: bool) -> None:
        self.name, self.url, self.ours = name, url, ours

    async def generate(self, s: aiohttp.ClientSession, prompt: str, n: int) -> tuple[float, float, int]:
        """(ttft s, wall s, generated tokens) of a raw prompt at temperature 0."""
        if self.ours:
            body = {
                "model": "bench",
                "prompt": prompt,
                "raw": True,
                "options": {"num_predict": n, "temperature": 0, "seed": 1},
            }
            ttft, wall, final = await _ndjson(s, self.url + "/api/generate", body, _ours_gen)
            return ttft, wall, int(final.get("eval_count", 0))
        body = {"prompt": prompt, "n_predict": n, "temperature": 0, "seed": 1, "cache_prompt": True}
        ttft, wall, final = await _sse(s, self.url + "/completion", body, _theirs_gen)
        return ttft, wall, int(final.get("timings", {}).get("predicted_n", 0))

    async def chat(self, s: aiohttp.ClientSession, messages: list[dict[str, str]], n: int) -> float:
        if self.ours:
            body = {
                "model": "bench",
                "messages": messages,
                "options": {"num_predict": n, "temperature": 0, "seed": 1},
            }
            return float((await _ndjson(s, self.url + "/api/chat", body, _ours_chat))[0])
        oai: dict[str, Any] = {
            "messages": messages,
            "max_tokens": n,
            "temperature": 0,
            "seed": 1,
            "cache_prompt": True,
        }
        return float((await _sse(s, self.url + "/v1/chat/completions", oai, _theirs_chat))[0])

    async def embed(self, s: aiohttp.ClientSession, inputs: list[str]) -> int:
        if self.ours:
            async with s.post(self.url + "/api/embed", json={"model": "bench", "input": inputs}) as r:
                assert r.status == 200, await r.text()
                return len((await r.json())["embeddings"])
        async with s.post(self.url + "/v1/embeddings", json={"input": inputs}) as r:
            assert r.status == 200, await r.text()
            return len((await r.json())["data"])


# --- the figures ----------------------------------------------------------------------------------------


def conversation(salt: int) -> list[tuple[str, str]]:
    """Six user turns and five fixed assistant answers (~40 tokens each), distinct per salt."""
    turns = []
    for i in range(6):
        user = (
            f"Conversation {salt:05d}, question {i + 1}: tell me one short fact about the number "
            f"{salt + i}, and say whether it is prime, even or odd, in one sentence."
        )
        answer = (
            f"The number {salt + i} is {'even' if (salt + i) % 2 == 0 else 'odd'}; one fact about it "
            "is that it comes right after the number before it and right before the next one."
        )
        turns.append((user, answer))
    return turns


async def turn6(side: Side, salt: int) -> float:
    """Turns 1-5 through the server (so its cache holds them), then the 6th: its TTFT in ms."""
    messages: list[dict[str, str]] = [{"role": "system", "content": "You are a terse assistant."}]
    async with _session() as s:
        for user, answer in conversation(salt)[:5]:
            messages.append({"role": "user", "content": user})
            await side.chat(s, messages, 4)
            messages.append({"role": "assistant", "content": answer})
        messages.append({"role": "user", "content": conversation(salt)[5][0]})
        return await side.chat(s, messages, 4) * 1e3


async def short_cached(side: Side, salt: int, reps: int) -> float:
    """Median TTFT (ms) of a few-token raw prompt sent the second time (its prefix cached)."""
    out = []
    async with _session() as s:
        for i in range(reps):
            text = f"Hi {salt + i}, how are"
            await side.generate(s, text, 1)
            out.append((await side.generate(s, text, 1))[0] * 1e3)
    return statistics.median(out)


async def aggregate(side: Side, streams: int, n: int, salt: int) -> float:
    async with _session() as s:
        t0 = time.perf_counter()
        res = await asyncio.gather(
            *(side.generate(s, f"List {salt + i:05d}: 1, 2, 3, 4, 5,", n) for i in range(streams))
        )
        return sum(r[2] for r in res) / (time.perf_counter() - t0)


EMBED_INPUTS = [f"Sentence {i}: the quick brown fox jumps over the lazy dog {i} times." for i in range(64)]


async def embed_rate(side: Side) -> float:
    async with _session() as s:
        t0 = time.perf_counter()
        n = await side.embed(s, EMBED_INPUTS)
        return n / (time.perf_counter() - t0)


async def cold_ours(url: str) -> tuple[float, float]:
    """Unload, wait until nothing is loaded (and the child is gone), then time a request: (ttft ms,
    the daemon's load_duration ms)."""
    async with _session() as s:
        async with s.post(url + "/api/generate", json={"model": "bench", "keep_alive": 0}) as r:
            await r.read()
        for _ in range(600):
            async with s.get(url + "/api/ps") as r:
                if not (await r.json())["models"]:
                    break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the runner's memory given back
        body = {
            "model": "bench",
            "prompt": "Hello",
            "raw": True,
            "options": {"num_predict": 1, "temperature": 0},
        }
        ttft, _wall, final = await _ndjson(s, url + "/api/generate", body, _ours_gen)
        return ttft * 1e3, final.get("load_duration", 0) / 1e6


async def cold_theirs(model: Path, args: argparse.Namespace) -> tuple[float, float]:
    """Spawn llama-server, poll /health, request: (ttft ms from the spawn, ms until healthy)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = llama_cmd(model, port, args, [])
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await asyncio.to_thread(wait_health, url, proc)
        healthy = time.perf_counter() - t0
        async with _session() as s:
            body = {"prompt": "Hello", "n_predict": 1, "temperature": 0}
            await _sse(s, url + "/completion", body, _theirs_gen)
        return (time.perf_counter() - t0) * 1e3, healthy * 1e3
    finally:
        proc.terminate()
        proc.wait(10)


# --- the run ------------------------------------------------------------------------------------------


def note(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} [{min(values):.1f}-{max(values):.1f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=2048, help="context per slot (4 slots on every side)")
    ap.add_argument("--n-predict", type=int, default=64, help="tokens per stream for the aggregates")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--short-reps", type=int, default=9, help="short-prompt requests per round")
    ap.add_argument("--modes", default="process,inprocess", help="OLLAMA_RUNNER_ISOLATION modes to run")
    ap.add_argument("--only", default=",".join(FIGURES), help="which figures: " + ",".join(FIGURES))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    model = args.model or smollm2_path()
    modes = [m for m in args.modes.split(",") if m]
    only = set(args.only.split(","))
    res: dict[str, dict[str, list[float]]] = {}

    def add(side: str, key: str, value: float) -> None:
        res.setdefault(side, {}).setdefault(key, []).append(value)

    load_before = os.getloadavg()
    daemons: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    servers: list[LlamaServer] = []
    with tempfile.TemporaryDirectory(prefix="bench-daemon-") as tmp:
        try:
            note(f"starting the daemons: {', '.join(modes)}")
            daemon_args = argparse.Namespace(ctx=args.ctx, threads=args.threads)
            start_mode_daemons(Path(tmp), modes, daemon_args, model, daemons)
            ours = {m: Side(f"pyollama {m}", daemons[m][1], True) for m in modes}
            order = [*modes, "llama-server"]

            def rotated(r: int) -> list[str]:
                return order[r % len(order) :] + order[: r % len(order)]

            if "cold" in only:
                for r in range(args.rounds):
                    for key in rotated(r):
                        note(f"cold start, round {r + 1}: {key}")
                        if key == "llama-server":
                            ttft, healthy = asyncio.run(cold_theirs(model, args))
                            add(key, "cold_ttft_ms", ttft)
                            add(key, "cold_healthy_ms", healthy)
                        else:
                            ttft, load_ms = asyncio.run(cold_ours(ours[key].url))
                            add(key, "cold_ttft_ms", ttft)
                            add(key, "cold_load_duration_ms", load_ms)

            server = LlamaServer(model, args)
            servers.append(server)
            sides: dict[str, Side] = {**ours, "llama-server": Side("llama-server", server.url, False)}
            for side in sides.values():  # loaded and warm
                asyncio.run(short_cached(side, 99999, 1))
            for r in range(args.rounds):
                for key in rotated(r):
                    note(f"steady state, round {r + 1}: {key}")
                    side = sides[key]
                    if "turn6" in only:
                        add(key, "turn6_ttft_ms", asyncio.run(turn6(side, 1000 * (r + 1))))
                    if "short" in only:
                        add(
                            key,
                            "short_ttft_ms",
                            asyncio.run(short_cached(side, 1000 * (r + 1), args.short_reps)),
                        )
                    if "agg" in only:
                        for n in (1, 4, 16):
                            salt = 10000 * (r + 1) + 100 * n
                            add(key, f"agg{n}_tps", asyncio.run(aggregate(side, n, args.n_predict, salt)))
            for key in modes:
                for k, v in memory_mib(daemons[key][0].pid).items():
                    add(key, k, v)
            for k, v in memory_mib(server.proc.pid).items():
                add("llama-server", k, v)
            server.close()
            servers.remove(server)

            if "embed" in only:
                # as the daemon loads a decoder model: embeddings on, mean pooling, batch = micro-batch
                extra = ["--embeddings", "--pooling", "mean", "-b", "2048", "-ub", "2048"]
                eserver = LlamaServer(model, args, extra)
                servers.append(eserver)
                for k, v in memory_mib(eserver.proc.pid).items():
                    add("llama-server", "embed_server_" + k, v)
                sides["llama-server"] = Side("llama-server", eserver.url, False)
                for side in sides.values():
                    asyncio.run(embed_rate(side))  # warm-up
                for r in range(args.rounds):
                    for key in rotated(r):
                        add(key, "embed_per_s", asyncio.run(embed_rate(sides[key])))
        except KeyboardInterrupt:
            note("interrupted: the figures so far")
        finally:
            for s in servers:
                s.close()
            for proc, _url in daemons.values():
                proc.terminate()
                proc.wait(30)
    load_after = os.getloadavg()

    print(
        f"model: {model.name}, threads {args.threads}, 4 slots x ctx {args.ctx}, rounds {args.rounds}, "
        f"n_predict {args.n_predict}; load average {load_before[0]:.1f} -> {load_after[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    keys = sorted({k for side in res.values() for k in side}, key=lambda k: (k.split("_")[0], k))
    theirs = res.get("llama-server", {})
    head = "| figure | " + " | ".join(f"pyollama {m}" for m in modes) + " | llama-server | "
    head += " | ".join(f"ratio {m}" for m in modes) + " |"
    print(head)
    print("|---" * (2 + 2 * len(modes)) + "|")
    for key in keys:
        cells = [fmt(res.get(m, {}).get(key, [])) for m in modes]
        t = theirs.get(key, [])
        ratios = []
        for m in modes:
            o = res.get(m, {}).get(key, [])
            ratios.append(f"{statistics.median(o) / statistics.median(t):.2f}" if o and t else "-")
        print(f"| {key} | " + " | ".join(cells) + f" | {fmt(t)} | " + " | ".join(ratios) + " |")
    if "short_ttft_ms" in theirs:
        for m in modes:
            d = statistics.median(res[m]["short_ttft_ms"]) - statistics.median(theirs["short_ttft_ms"])
            print(f"short cached prompt TTFT overhead, {m}: {d:+.2f} ms")
    if args.json:
        meta = {"args": {k: str(v) for k, v in vars(args).items()}, "loadavg": [load_before, load_after]}
        args.json.write_text(json.dumps({**meta, "results": res}, indent=2))


if __name__ == "__main__":
    main()
