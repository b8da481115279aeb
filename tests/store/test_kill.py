"""A create killed with SIGKILL at any point never leaves a manifest whose blobs are missing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pyollama.store
from pyollama.store import Store

CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    sys.path.insert(0, sys.argv[1])
    import pyollama.store
    if getattr(pyollama.store, "Store", None) is None:  # stale editable install: use the tree
        sys.meta_path[:] = [f for f in sys.meta_path if "ScikitBuild" not in type(f).__name__]
        for k in [k for k in sys.modules if k.startswith("pyollama")]:
            del sys.modules[k]
    from pyollama.gguf import GGUFInfo, TensorInfo
    from pyollama.store import Store, create_model

    def reader(path):
        return GGUFInfo(3, {"general.architecture": "llama", "general.file_type": 1},
                        [TensorInfo("t", "F32", (4,))])

    async def main():
        store = Store(sys.argv[2])
        digest = sys.argv[3]
        i = 0
        while True:
            i += 1
            req = {"model": f"m{i % 3}", "files": {"m.gguf": digest}, "system": "s" * i,
                   "parameters": {"seed": i}, "license": [f"L{i}"], "template": f"T{i} {{{{ .Prompt }}}}"}
            async for st in create_model(store, req, read_gguf=reader):
                print(st["status"], flush=True)
            await asyncio.sleep(0)

    asyncio.run(main())
    """
)


def _check_invariant(store: Store) -> None:
    for m in store.list_manifests():
        for d in m.digests():
            assert store.has_blob(d), f"{m.name} references missing {d}"
        cfg = json.loads(store.read_blob(m.config.digest))
        assert cfg["rootfs"]["diff_ids"] == [x.digest for x in m.layers]


@pytest.mark.parametrize("kill_at", ["parsing GGUF", "creating new layer", "writing manifest", "success"])
def test_sigkill_mid_create(tmp_path: Path, kill_at: str) -> None:
    store = Store(tmp_path / "models")
    gguf = b"GGUF" + b"\x00" * 60
    digest, _, _ = store.write_blob_bytes(gguf)
    src_root = str(Path(pyollama.store.__file__).resolve().parents[2])
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, src_root, str(store.root), digest],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        seen = 0
        try:
            for line in proc.stdout:
                if line.startswith(kill_at):
                    seen += 1
                    if seen > round_ * 2:
                        break
            else:
                pytest.fail(f"child exited early: {proc.stderr.read() if proc.stderr else ''}")
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()  # reaps it and closes both pipes
        _check_invariant(store)
    store.housekeeping(min_age=0)  # orphans from the kills are cleaned up, models stay intact
    _check_invariant(store)
    assert not list(store.blobs_dir.glob(".pyollama-tmp-*"))
