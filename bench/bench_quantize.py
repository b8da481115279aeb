"""`create --quantize` in-process (the engine's QuantizeJob) vs llama.cpp's own `llama-quantize`
from the same vendored tree and build flags, on the same F16 file, alternating runs.

    python bench/bench_quantize.py [--types Q4_K_M,Q8_0] [--rounds 5] [--threads 2] [--input F16.gguf]

Without --input, SmolLM2-135M (Q4_1) is de-quantized to F16 once by the engine. Each round runs
both, in alternating order, and records wall time; the report gives the medians, the per-round
ratio pyollama / llama-quantize (median and spread) and whether the two outputs are byte-identical.
The machine may be shared: the load average before and after is printed. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import llama_binary, smollm2_path

from pyollama import engine


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def ours(src: Path, dst: Path, ftype: str, threads: int) -> float:
    """The engine's job, as `create` runs it (allow_requantize as Ollama passes it)."""
    opts = {"type": ftype, "nthread": threads, "allow_requantize": True}
    t0 = time.perf_counter()
    job = engine.QuantizeJob(str(src), str(dst), json.dumps(opts))
    job.poll(-1)
    elapsed = time.perf_counter() - t0
    job.close()
    return elapsed


def theirs(exe: Path, src: Path, dst: Path, ftype: str, threads: int) -> float:
    """llama-quantize as Ollama's quantization.go calls it."""
    cmd = [str(exe), "--allow-requantize", str(src), str(dst), ftype, str(threads)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def f16_input(work: Path) -> Path:
    out = work / "smollm2-f16.gguf"
    if not out.exists():
        job = engine.QuantizeJob(
            str(smollm2_path()), str(out), json.dumps({"type": "F16", "allow_requantize": True})
        )
        job.poll(-1)
        job.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--types", default="Q4_K_M,Q8_0")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--input", type=Path, default=None, help="an F16/BF16/F32 GGUF (default: SmolLM2 as F16)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "pyollama-bench-quantize")
    args = ap.parse_args()

    engine.init(0)
    exe = llama_binary("llama-quantize")
    args.work.mkdir(parents=True, exist_ok=True)
    src = args.input or f16_input(args.work)
    print(f"input {src} ({src.stat().st_size / 2**20:.0f} MiB), threads {args.threads}, rounds {args.rounds}")
    print(f"load before: {load()}  (cores: {os.cpu_count()})")
    print()
    print("| type | pyollama s | llama-quantize s | ratio (median) | ratio (min-max) | identical bytes |")
    print("|---|---:|---:|---:|---:|---|")
    for ftype in args.types.split(","):
        a_dst, b_dst = args.work / f"ours-{ftype}.gguf", args.work / f"theirs-{ftype}.gguf"
        ta: list[float] = []
        tb: list[float] = []
        for i in range(args.rounds):
            # alternate who goes first, so a drift in the machine's load hits both alike
            if i % 2 == 0:
                ta.append(ours(src, a_dst, ftype, args.threads))
                tb.append(theirs(exe, src, b_dst, ftype, args.threads))
            else:
                tb.append(theirs(exe, src, b_dst, ftype, args.threads))
                ta.append(ours(src, a_dst, ftype, args.threads))
        ratios = [a / b for a, b in zip(ta, tb, strict=True)]
        same = sha256(a_dst) == sha256(b_dst)
        spread = f"{min(ratios):.3f}-{max(ratios):.3f}"
        print(
            f"| {ftype} | {statistics.median(ta):.2f} | {statistics.median(tb):.2f} | "
            f"{statistics.median(ratios):.3f} | {spread} | {'yes' if same else 'NO'} |"
        )
        a_dst.unlink()
        b_dst.unlink()
    print()
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
