"""Push and pull SmolLM2 through a real CNCF distribution registry on loopback."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from pyollama.config import Settings
from pyollama.registry import DownloadManager, pull_model, push_model
from pyollama.registry.download import hash_state_path, state_files
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.app import make_app
from pyollama.server.store_adapter import StoreAdapter
from pyollama.store import ModelName, Store, create_model
from tests.registry.conftest import FAST, ROOT, RealRegistry, collect, env_with_path, sha256_file, tree

pytestmark = pytest.mark.slow


def statuses(progress: list[Any]) -> list[str]:
    out: list[str] = []
    for p in progress:
        s = p.status if hasattr(p, "status") else p["status"]
        if not out or out[-1] != s:
            out.append(s)
    return out


@pytest.fixture(scope="module")
def pushed(smol_store: Store, real_registry: RealRegistry) -> str:
    """`smol:latest` pushed as `<registry>/test/smol:latest`; returns that name."""
    name = real_registry.name("test/smol:latest")
    smol_store.copy(ModelName.parse("smol"), ModelName.parse(name))

    async def run() -> list[Any]:
        return await collect(push_model(smol_store, name, insecure=True, options=FAST))

    progress = asyncio.run(run())
    m = smol_store.read_manifest(ModelName.parse(name))
    assert statuses(progress) == [
        "retrieving manifest",
        *[f"pushing {d[7:19]}" for d in m.digests()],
        "pushing manifest",
        "success",
    ]
    big = [p for p in progress if p.digest == m.layers[0].digest]
    assert big[-1].completed == big[-1].total == m.layers[0].size
    return name


async def test_push_again_uploads_nothing(smol_store: Store, pushed: str) -> None:
    progress = await collect(push_model(smol_store, pushed, insecure=True, options=FAST))
    layers = [p for p in progress if p.digest]
    assert all(p.completed == p.total for p in layers)
    assert progress[-1].status == "success"


async def test_pull_roundtrip_is_byte_identical(smol_store: Store, pushed: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "models")
    progress = await collect(pull_model(store, pushed, insecure=True, options=FAST))
    src = smol_store.read_manifest(ModelName.parse(pushed))
    assert statuses(progress)[0] == "pulling manifest"
    assert statuses(progress)[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    m = store.read_manifest(ModelName.parse(pushed))
    assert m.digests() == src.digests()
    for d in m.digests():
        assert store.blob_path(d).read_bytes() == smol_store.blob_path(d).read_bytes()
    assert not [p for p in tree(store.root) if "partial" in p]
    # a second pull downloads nothing: one completed==total message per blob
    again = await collect(pull_model(store, pushed, insecure=True, options=FAST))
    layer_msgs = [p for p in again if p.digest]
    assert len(layer_msgs) == len(m.digests()) and all(p.completed == p.total for p in layer_msgs)


async def test_push_delete_pull_then_run(smol_store: Store, pushed: str, tmp_path: Path) -> None:
    """Delete locally (blobs pruned), pull back, and the model answers through the native runner."""
    pytest.importorskip("pyollama.engine")
    store = Store(tmp_path / "models")
    name = ModelName.parse(pushed)
    await collect(pull_model(store, pushed, insecure=True, options=FAST))
    store.delete(name)
    assert not list(store.blobs_dir.iterdir())
    await collect(pull_model(store, pushed, insecure=True, options=FAST))
    m = store.read_manifest(name)
    assert sha256_file(store.blob_path(m.layers[0].digest)) == m.layers[0].digest
    from pyollama.runner.base import CompletionRequest
    from pyollama.runner.native import NativeRunner
    from pyollama.runner.types import LoadOptions

    runner = await NativeRunner.load(str(store.blob_path(m.layers[0].digest)), LoadOptions(num_ctx=512))
    try:
        req = CompletionRequest(
            prompt="The capital of France is", options={"temperature": 0, "num_predict": 12}
        )
        text = "".join([c.content async for c in runner.complete(req)])
    finally:
        await runner.close()
    assert "Paris" in text


async def test_second_pull_fetches_no_bytes(
    pushed: str, real_registry: RealRegistry, make_proxy: Any, tmp_path: Path
) -> None:
    proxy, host = await make_proxy(real_registry.host)
    name = pushed.replace(real_registry.host, host)
    store = Store(tmp_path / "models")
    await collect(pull_model(store, name, insecure=True, options=FAST))
    first = proxy.total()
    total = store.read_manifest(ModelName.parse(name)).size
    assert first == total
    await collect(pull_model(store, name, insecure=True, options=FAST))
    assert proxy.total() == first


async def test_concurrent_pulls_share_one_download(
    pushed: str, real_registry: RealRegistry, make_proxy: Any, tmp_path: Path
) -> None:
    proxy, host = await make_proxy(real_registry.host, delay=0.0005)
    name = pushed.replace(real_registry.host, host)
    store = Store(tmp_path / "models")
    downloads = DownloadManager()
    a, b = await asyncio.gather(
        collect(pull_model(store, name, insecure=True, options=FAST, downloads=downloads)),
        collect(pull_model(store, name, insecure=True, options=FAST, downloads=downloads)),
    )
    assert a[-1].status == b[-1].status == "success"
    assert proxy.total() == store.read_manifest(ModelName.parse(name)).size  # every byte fetched once


async def test_push_mounts_layers_from_the_model_it_was_made_from(
    smol_store: Store, pushed: str, real_registry: RealRegistry, make_proxy: Any, tmp_path: Path
) -> None:
    """A model made FROM a pushed one is pushed to another repository: its weights are mounted
    (`POST ?mount=&from=`, 201) instead of uploaded again, and the result pulls back byte-identical."""
    proxy, host = await make_proxy(real_registry.host)
    store = Store(tmp_path / "models")
    for digest in smol_store.read_manifest(ModelName.parse(pushed)).digests():
        store.write_blob_file(smol_store.blob_path(digest))
    src = ModelName.parse(pushed.replace(real_registry.host, host))
    store.manifest_path(src).parent.mkdir(parents=True, exist_ok=True)
    # the pushed model, as a pull through the proxy would have left it
    shutil.copyfile(smol_store.manifest_path(ModelName.parse(pushed)), store.manifest_path(src))
    derived = f"{host}/other/smol-derived:latest"
    await collect(create_model(store, {"model": derived, "from": str(src), "system": "Be kind."}))

    progress = await collect(push_model(store, derived, insecure=True, options=FAST))
    assert progress[-1].status == "success"
    weights = store.read_manifest(ModelName.parse(derived)).layers[0]
    posts = [path for method, path, _ in proxy.requests if method == "POST"]
    assert any(f"mount={weights.digest}" in p and "from=test/smol" in p for p in posts), posts
    uploaded = sum(
        int(h.get("Content-Length", 0)) for method, _, h in proxy.requests if method in ("PATCH", "PUT")
    )
    assert uploaded < weights.size  # the weights never went up again

    fresh = Store(tmp_path / "fresh")
    await collect(pull_model(fresh, derived, insecure=True, options=FAST))
    assert sha256_file(fresh.blob_path(weights.digest)) == weights.digest


async def test_resume_after_kill_fetches_only_missing_bytes(
    pushed: str, real_registry: RealRegistry, make_proxy: Any, tmp_path: Path
) -> None:
    proxy, host = await make_proxy(real_registry.host, delay=0.002)  # ~30 MB/s: killed mid-blob
    name = pushed.replace(real_registry.host, host)
    store_dir = tmp_path / "models"
    cmd = [sys.executable, "-m", "tests.registry.puller", str(store_dir), name]
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, env=env_with_path(), stdout=asyncio.subprocess.DEVNULL
    )
    big = Store(store_dir)
    digest = ""
    for _ in range(3000):
        if proxy.blob_bytes:
            digest = max(proxy.blob_bytes, key=lambda d: proxy.blob_bytes[d])
        checkpointed = digest and hash_state_path(big.blob_path(digest)).exists()
        if (proxy.total() > 20 << 20 and checkpointed) or proc.returncode is not None:
            break
        await asyncio.sleep(0.01)
    assert proc.returncode is None, "puller finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    blob = big.blob_path(digest)
    hashed = json.loads(hash_state_path(blob).read_bytes())["Offset"]
    states = [json.loads(p.read_bytes()) for p in state_files(blob)]
    saved = sum(s["Completed"] for s in states)
    size = sum(s["Size"] for s in states)
    assert len(states) > 1 and 0 < saved < size
    assert 0 < hashed <= saved  # the resume hashes from there, not from byte 0
    assert not blob.exists()

    before = dict(proxy.blob_bytes)
    proxy.delay = 0.0
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, env=env_with_path(), stdout=asyncio.subprocess.DEVNULL
    )
    assert await proc.wait() == 0
    assert proxy.blob_bytes[digest] - before[digest] == size - saved  # only the missing bytes
    assert sha256_file(blob) == digest
    assert not state_files(blob) and not hash_state_path(blob).exists()


async def test_daemon_pull_streams_progress(pushed: str, tmp_path: Path, aiohttp_client: Any) -> None:
    store = Store(tmp_path / "models")
    settings = Settings(models=store.root)
    app = make_app(settings, StoreAdapter(store, transfer=FAST), FakeRunnerFactory(), host_guard=False)
    client = await aiohttp_client(app)
    resp = await client.post("/api/pull", json={"model": pushed, "insecure": True})
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(x) for x in (await resp.text()).splitlines()]
    assert lines[0] == {"status": "pulling manifest"} and lines[-1] == {"status": "success"}
    layer = next(x for x in lines if "digest" in x)
    assert set(layer) <= {"status", "digest", "total", "completed"} and layer["status"].startswith("pulling ")
    tags = await (await client.get("/api/tags")).json()
    assert [m["name"] for m in tags["models"]] == [ModelName.parse(pushed).display_shortest()]
    # stream:false answers the last progress object only; pull again is all cache hits
    resp = await client.post("/api/pull", json={"model": pushed, "insecure": True, "stream": False})
    assert resp.status == 200 and await resp.json() == {"status": "success"}
    shutil.rmtree(store.root)
