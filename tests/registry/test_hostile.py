"""A hostile (or just unusual) registry for each defence, and the token auth challenge flow."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from pyollama.config import Settings
from pyollama.errors import PyollamaError
from pyollama.registry import RegistryError, TransferOptions, pull_model
from pyollama.registry.auth import EMPTY_BODY_HASH
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.app import make_app
from pyollama.server.store_adapter import StoreAdapter
from pyollama.store import ModelName, Store
from tests.registry.conftest import collect, tree

OPTS = TransferOptions(
    parts=4,
    min_part_size=1000,
    max_part_size=4000,
    stall_timeout=0.3,
    max_retries=2,
    backoff=0.01,
    state_interval=0.0,
    max_stalls=2,
)
MEDIA_CFG = "application/vnd.docker.container.image.v1+json"
MEDIA_MODEL = "application/vnd.ollama.image.model"


def digest(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


class FakeRegistry:
    """Serves one model `ns/m:latest` from memory; hooks make it misbehave."""

    def __init__(self, blob: bytes = bytes(range(256)) * 40) -> None:
        self.blob = blob
        self.config = b'{"model_format":"gguf"}'
        self.blobs = {digest(blob): blob, digest(self.config): self.config}
        self.manifest: bytes | None = None
        self.head_size: int | None = None
        self.token: str | None = None  # demand `Bearer <token>` when set
        self.realm: str | None = None
        self.token_reply: str | None = None  # what the token endpoint hands out (default: `token`)
        self.blob_hook: Callable[[web.Request, bytes], Any] | None = None
        self.manifest_hook: Callable[[web.Request], Any] | None = None
        self.seen: list[tuple[str, str, str]] = []  # method, path, Authorization
        self.key: Ed25519PublicKey | None = None

    def manifest_bytes(self) -> bytes:
        if self.manifest is not None:
            return self.manifest
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": MEDIA_CFG, "digest": digest(self.config), "size": len(self.config)},
                "layers": [{"mediaType": MEDIA_MODEL, "digest": digest(self.blob), "size": len(self.blob)}],
            }
        ).encode()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/token", self.token_endpoint)
        app.router.add_route("*", "/v2/ns/m/manifests/{tag}", self.manifests)
        app.router.add_route("*", "/v2/ns/m/blobs/{digest}", self.blobs_handler)
        return app

    def authorized(self, request: web.Request) -> bool:
        self.seen.append((request.method, request.path, request.headers.get("Authorization", "")))
        return self.token is None or request.headers.get("Authorization") == f"Bearer {self.token}"

    def challenge(self, request: web.Request) -> web.Response:
        realm = self.realm or f"http://{request.host}/token"
        return web.Response(
            status=401,
            headers={
                "WWW-Authenticate": f'Bearer realm="{realm}",service="fake",scope="repository:ns/m:pull,push"'
            },
        )

    async def token_endpoint(self, request: web.Request) -> web.Response:
        # Ollama's signed challenge: "<ssh pubkey b64>:<sig b64>" over "GET,<url>,<b64(hex(sha256('')))>"
        pub_b64, _, sig_b64 = request.headers.get("Authorization", "").partition(":")
        key = load_ssh_public_key(b"ssh-ed25519 " + pub_b64.encode())
        assert isinstance(key, Ed25519PublicKey)
        url = f"http://{request.host}{request.raw_path}"
        key.verify(base64.b64decode(sig_b64), f"GET,{url},{EMPTY_BODY_HASH}".encode())  # raises if bad
        assert request.query["service"] == "fake" and request.query["scope"] == "repository:ns/m:pull,push"
        assert request.query["ts"].isdigit() and request.query["nonce"]
        self.key = key
        return web.json_response({"token": self.token_reply or self.token})

    async def manifests(self, request: web.Request) -> web.StreamResponse:
        if not self.authorized(request):
            return self.challenge(request)
        assert request.headers["Accept"] == "application/vnd.docker.distribution.manifest.v2+json"
        assert request.headers["User-Agent"].startswith("pyollama/")
        if self.manifest_hook is not None:
            return await self.manifest_hook(request)  # type: ignore[no-any-return]
        return web.Response(
            body=self.manifest_bytes(), content_type="application/vnd.docker.distribution.manifest.v2+json"
        )

    async def blobs_handler(self, request: web.Request) -> web.StreamResponse:
        if not self.authorized(request):
            return self.challenge(request)
        data = self.blobs.get(request.match_info["digest"])
        if data is None:
            return web.Response(status=404)
        if request.method == "HEAD":
            size = len(data) if self.head_size is None else self.head_size
            return web.Response(headers={"Content-Length": str(size)})
        if self.blob_hook is not None and data is self.blob:
            return await self.blob_hook(request, data)  # type: ignore[no-any-return]
        return ranged(request, data)


def ranged(request: web.Request, data: bytes) -> web.Response:
    m = re.match(r"bytes=(\d+)-(\d+)", request.headers.get("Range", ""))
    if not m:
        return web.Response(body=data)
    a, b = int(m.group(1)), int(m.group(2))
    return web.Response(
        status=206, body=data[a : b + 1], headers={"Content-Range": f"bytes {a}-{b}/{len(data)}"}
    )


@pytest.fixture
async def fake(aiohttp_server: Any) -> tuple[FakeRegistry, str]:
    reg = FakeRegistry()
    server = await aiohttp_server(reg.app())
    return reg, f"127.0.0.1:{server.port}/ns/m"


async def pull(store: Store, name: str, tmp_path: Path, **kw: Any) -> list[Any]:
    return await collect(
        pull_model(store, name, insecure=True, options=OPTS, key_path=tmp_path / "key" / "id_ed25519", **kw)
    )


def outside(tmp_path: Path) -> set[str]:
    return {p for p in tree(tmp_path) if not p.startswith(("models/", "key/"))}


async def test_plain_pull_and_statuses(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake
    store = Store(tmp_path / "models")
    out = await pull(store, name, tmp_path)
    hexes = [d[7:19] for d in reg.blobs]
    assert out[0].status == "pulling manifest"
    assert {p.status for p in out if p.digest} == {f"pulling {h}" for h in hexes}
    assert [p.status for p in out[-3:]] == ["verifying sha256 digest", "writing manifest", "success"]
    assert all(store.blob_path(d).read_bytes() == b for d, b in reg.blobs.items())
    assert not (tmp_path / "key").exists()  # the key is created on first use only
    # json.Marshal's bytes, no trailing newline, as Ollama writes a pulled manifest (its digest)
    manifest = store.read_manifest(ModelName.parse(name))
    assert manifest.path is not None and not manifest.path.read_bytes().endswith(b"\n")


async def test_deeply_nested_manifest_is_a_clear_error(
    fake: tuple[FakeRegistry, str], tmp_path: Path
) -> None:
    reg, name = fake

    async def nested(request: web.Request) -> web.Response:
        return web.Response(body=b"[" * 200_000, content_type="application/json")

    reg.manifest_hook = nested
    with pytest.raises(RegistryError, match="invalid manifest"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_disk_error_during_download_is_its_own_message(
    fake: tuple[FakeRegistry, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk says so, not "unhandled errors in a TaskGroup"."""
    import errno
    import os

    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("pyollama.registry.download.os.pwrite", full)
    _, name = fake
    with pytest.raises(RegistryError, match=r"No space left on device") as info:
        await pull(Store(tmp_path / "models"), name, tmp_path)
    assert "TaskGroup" not in str(info.value)


async def test_http_needs_insecure(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    _, name = fake
    with pytest.raises(RegistryError, match=r"^insecure protocol http$"):
        await collect(pull_model(Store(tmp_path / "models"), f"http://{name}", options=OPTS))


async def test_unknown_model(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    _, name = fake
    with pytest.raises(RegistryError, match=r"^pull model manifest: file does not exist$"):
        await pull(Store(tmp_path / "models"), name.replace("/m", "/nope"), tmp_path)


@pytest.mark.parametrize(
    "bad",
    [
        "../../../etc/passwd",
        "sha256:../../../../tmp/x",
        "sha256:" + "g" * 64,
        "sha256:" + "a" * 63,
        "sha512:" + "a" * 128,
    ],
)
async def test_manifest_digest_traversal_refused(
    fake: tuple[FakeRegistry, str], tmp_path: Path, bad: str
) -> None:
    reg, name = fake
    reg.manifest = json.dumps(
        {
            "config": {"digest": digest(reg.config), "size": 10, "mediaType": MEDIA_CFG},
            "layers": [{"mediaType": MEDIA_MODEL, "digest": bad, "size": 5}],
        }
    ).encode()
    with pytest.raises(RegistryError, match="invalid manifest: invalid digest"):
        await pull(Store(tmp_path / "models"), name, tmp_path)
    assert outside(tmp_path) == set() and not (tmp_path / "models").exists()


async def test_absurd_layer_count_refused(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake
    layer = {"mediaType": MEDIA_MODEL, "digest": digest(reg.blob), "size": len(reg.blob)}
    reg.manifest = json.dumps(
        {"config": {"digest": digest(reg.config), "size": len(reg.config)}, "layers": [layer] * 70000}
    ).encode()
    with pytest.raises(RegistryError, match=r"invalid manifest: 70000 layers \(limit 65536\)"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_negative_or_huge_size_refused(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake
    for size in (-1, 1 << 60, "12"):
        reg.manifest = json.dumps(
            {
                "config": {"digest": digest(reg.config), "size": len(reg.config)},
                "layers": [{"digest": digest(reg.blob), "size": size}],
            }
        ).encode()
        with pytest.raises(RegistryError, match="bad layer size"):
            await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_endless_manifest_refused(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        try:
            for _ in range(100000):
                await resp.write(b"[" * 65536)
        except ConnectionError:
            pass
        return resp

    reg.manifest_hook = endless
    with pytest.raises(RegistryError, match=r"manifest too large \(over 16777216 bytes\)"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_announced_huge_manifest_refused(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake

    async def big(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b" " * (17 << 20))

    reg.manifest_hook = big
    with pytest.raises(RegistryError, match="manifest too large"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_head_size_differs_from_manifest(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake
    reg.head_size = len(reg.blob) + 1000
    with pytest.raises(RegistryError, match=r"is 11240 bytes, manifest says 10240"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_blob_body_larger_than_requested_is_cut(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    """An endless body: only the requested range is kept, the connection dropped, the digest checked."""
    reg, name = fake

    async def endless(request: web.Request, data: bytes) -> web.StreamResponse:
        m = re.match(r"bytes=(\d+)-(\d+)", request.headers["Range"])
        assert m
        a, b = int(m.group(1)), int(m.group(2))
        resp = web.StreamResponse(status=206, headers={"Content-Range": f"bytes {a}-{b}/{len(data)}"})
        await resp.prepare(request)
        try:
            await resp.write(data[a : b + 1])
            for _ in range(100000):
                await resp.write(b"\0" * 65536)
        except ConnectionError:
            pass
        return resp

    reg.blob_hook = endless
    store = Store(tmp_path / "models")
    await pull(store, name, tmp_path)
    assert store.blob_path(digest(reg.blob)).read_bytes() == reg.blob


async def test_wrong_content_length_refused(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake

    async def lying(request: web.Request, data: bytes) -> web.StreamResponse:
        resp = ranged(request, data)
        resp.body = bytes(resp.body) + b"extra"  # type: ignore[arg-type]
        return resp

    reg.blob_hook = lying
    store = Store(tmp_path / "models")
    with pytest.raises(RegistryError, match="wrong content length"):
        await pull(store, name, tmp_path)
    assert not store.has_blob(digest(reg.blob))


async def test_short_body_retried_then_refused(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake

    async def short(request: web.Request, data: bytes) -> web.StreamResponse:
        m = re.match(r"bytes=(\d+)-(\d+)", request.headers["Range"])
        assert m
        a, b = int(m.group(1)), int(m.group(2))
        resp = web.StreamResponse(
            status=206,
            headers={"Content-Range": f"bytes {a}-{b}/{len(data)}", "Content-Length": str(b - a + 1)},
        )
        await resp.prepare(request)
        await resp.write(data[a : a + 10])
        request.transport.close()  # type: ignore[union-attr]
        return resp

    reg.blob_hook = short
    with pytest.raises(RegistryError, match=r"after 2 tries"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_wrong_content_is_deleted(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake

    async def wrong(request: web.Request, data: bytes) -> web.StreamResponse:
        return ranged(request, bytes(len(data)))

    reg.blob_hook = wrong
    store = Store(tmp_path / "models")
    with pytest.raises(
        RegistryError,
        match=f"digest mismatch, file must be downloaded again: want {digest(reg.blob)}, got sha256:",
    ):
        await pull(store, name, tmp_path)
    assert not [p for p in tree(store.root) if "sha256-" + digest(reg.blob)[7:] in p]
    assert not (store.root / "manifests").exists()


async def test_stalled_part_is_retried_from_where_it_stopped(
    fake: tuple[FakeRegistry, str], tmp_path: Path
) -> None:
    reg, name = fake
    ranges: list[str] = []

    async def stall_once(request: web.Request, data: bytes) -> web.StreamResponse:
        ranges.append(request.headers["Range"])
        if len(ranges) > 1:
            return ranged(request, data)
        m = re.match(r"bytes=(\d+)-(\d+)", request.headers["Range"])
        assert m
        a, b = int(m.group(1)), int(m.group(2))
        resp = web.StreamResponse(
            status=206,
            headers={"Content-Range": f"bytes {a}-{b}/{len(data)}", "Content-Length": str(b - a + 1)},
        )
        await resp.prepare(request)
        await resp.write(data[a : a + 100])
        import asyncio

        await asyncio.sleep(2)  # no byte for longer than stall_timeout
        return resp

    reg.blob_hook = stall_once
    store = Store(tmp_path / "models")
    opts = TransferOptions(parts=1, min_part_size=1 << 20, stall_timeout=0.3, backoff=0.01, state_interval=0)
    await collect(pull_model(store, name, insecure=True, options=opts))
    assert ranges == [f"bytes=0-{len(reg.blob) - 1}", f"bytes=100-{len(reg.blob) - 1}"]
    assert store.blob_path(digest(reg.blob)).read_bytes() == reg.blob


async def test_token_auth_challenge(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake
    reg.token = "tok-123"
    store = Store(tmp_path / "models")
    out = await pull(store, name, tmp_path)
    assert out[-1].status == "success"
    key = tmp_path / "key" / "id_ed25519"
    assert key.read_bytes().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    pub = key.with_name("id_ed25519.pub").read_text()
    assert pub.startswith("ssh-ed25519 ") and reg.key is not None
    assert load_ssh_public_key(pub.encode()).public_bytes_raw() == reg.key.public_bytes_raw()  # type: ignore[union-attr]
    assert reg.seen[0][2] == "" and all(a == "Bearer tok-123" for _, _, a in reg.seen[1:])


async def test_realm_on_another_host_refused(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake
    reg.token = "tok"
    reg.realm = "http://evil.example:1/token"
    with pytest.raises(RegistryError, match=r"realm host 'evil\.example:1' does not match"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_bad_token_is_unauthorized(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    reg, name = fake
    reg.token = "tok"

    reg.token_reply = "not-it"
    with pytest.raises(RegistryError, match="unauthorized"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_cross_host_redirect_drops_credentials(
    fake: tuple[FakeRegistry, str], tmp_path: Path, aiohttp_server: Any
) -> None:
    reg, name = fake
    reg.token = "secret"
    cdn_seen: list[str | None] = []

    async def cdn(request: web.Request) -> web.Response:
        cdn_seen.append(request.headers.get("Authorization"))
        return ranged(request, reg.blob)

    cdn_app = web.Application()
    cdn_app.router.add_get("/blob", cdn)
    cdn_server = await aiohttp_server(cdn_app)

    async def redirect(request: web.Request, data: bytes) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://localhost:{cdn_server.port}/blob")

    reg.blob_hook = redirect
    store = Store(tmp_path / "models")
    await pull(store, name, tmp_path)
    assert cdn_seen and all(a is None for a in cdn_seen)
    assert store.blob_path(digest(reg.blob)).read_bytes() == reg.blob


async def test_manifest_redirect_to_other_scheme_refused(
    fake: tuple[FakeRegistry, str], tmp_path: Path
) -> None:
    reg, name = fake

    async def to_file(request: web.Request) -> web.Response:
        raise web.HTTPFound("file:///etc/passwd")

    reg.manifest_hook = to_file
    with pytest.raises(RegistryError, match="refusing redirect to file URL"):
        await pull(Store(tmp_path / "models"), name, tmp_path)


async def test_resume_from_partial_state(fake: tuple[FakeRegistry, str], tmp_path: Path) -> None:
    """Ollama-format `-partial` + `-partial-N` files left by an interrupted pull are picked up."""
    reg, name = fake
    store = Store(tmp_path / "models")
    d = digest(reg.blob)
    blob = store.blob_path(d)
    blob.parent.mkdir(parents=True)
    data = bytearray(len(reg.blob))
    data[:3000] = reg.blob[:3000]
    blob.with_name(blob.name + "-partial").write_bytes(bytes(data))
    for n, (off, size, done) in enumerate([(0, 4000, 3000), (4000, 4000, 0), (8000, 2240, 0)]):
        blob.with_name(f"{blob.name}-partial-{n}").write_text(
            json.dumps({"N": n, "Offset": off, "Size": size, "Completed": done})
        )
    ranges: list[str] = []

    async def record(request: web.Request, data: bytes) -> web.Response:
        ranges.append(request.headers["Range"])
        return ranged(request, data)

    reg.blob_hook = record
    progress = await pull(store, name, tmp_path)
    assert sorted(ranges) == ["bytes=3000-3999", "bytes=4000-7999", "bytes=8000-10239"]
    first = next(p for p in progress if p.digest == d)
    assert first.completed == 3000  # the bar starts where the last pull stopped, not at 0
    assert blob.read_bytes() == reg.blob


async def test_daemon_keeps_serving_after_hostile_pull(
    fake: tuple[FakeRegistry, str], tmp_path: Path, aiohttp_client: Any
) -> None:
    reg, name = fake
    reg.manifest = b'{"config":{"digest":"../../x","size":1},"layers":[]}'
    store = Store(tmp_path / "models")
    adapter = StoreAdapter(store, transfer=OPTS)
    app = make_app(Settings(models=store.root), adapter, FakeRunnerFactory(), host_guard=False)
    client = await aiohttp_client(app)
    resp = await client.post("/api/pull", json={"model": name, "insecure": True})
    assert resp.status == 200
    lines = [json.loads(x) for x in (await resp.text()).splitlines()]
    assert lines == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: invalid manifest: invalid digest '../../x'"},
    ]
    resp = await client.post("/api/pull", json={"model": name, "insecure": True, "stream": False})
    assert resp.status == 500 and "invalid digest" in (await resp.json())["error"]
    resp = await client.post("/api/pull", json={"model": "a/b/c/d/e", "insecure": True})
    assert resp.status == 400 and await resp.json() == {"error": "invalid model name"}
    for route in ("/api/pull", "/api/push"):
        resp = await client.post(route, json={"insecure": True})
        assert resp.status == 400 and await resp.json() == {"error": "model is required"}
    resp = await client.post("/api/pull", json={"model": f"http://{name}"})
    assert resp.status == 500 and await resp.json() == {"error": "insecure protocol http"}
    reg.manifest = None
    resp = await client.post("/api/pull", json={"model": name, "insecure": True, "stream": False})
    assert await resp.json() == {"status": "success"}
    assert (await client.get("/api/tags")).status == 200
    assert outside(tmp_path) == set()


def test_pyollama_error_base() -> None:
    assert issubclass(RegistryError, PyollamaError) and RegistryError("x").status == 500


async def test_pull_keeps_the_spelling_of_a_model_already_here(
    fake: tuple[FakeRegistry, str], tmp_path: Path, aiohttp_client: Any
) -> None:
    """As Ollama's PullHandler: `…/ns/M:LATEST` after `…/ns/m:latest` updates the same model."""
    _, name = fake
    store = Store(tmp_path / "models")
    adapter = StoreAdapter(store, transfer=OPTS)
    app = make_app(Settings(models=store.root), adapter, FakeRunnerFactory(), host_guard=False)
    client = await aiohttp_client(app)
    for model in (name, name.upper().replace("HTTP", "http")):
        resp = await client.post("/api/pull", json={"model": model, "insecure": True, "stream": False})
        assert await resp.json() == {"status": "success"}, model
    names = [m["name"] for m in (await (await client.get("/api/tags")).json())["models"]]
    assert len(names) == 1 and names[0] == ModelName.parse(name).display_shortest()


@pytest.mark.parametrize("shared", [False, True])
async def test_a_new_version_removes_the_layers_it_dropped(
    fake: tuple[FakeRegistry, str], tmp_path: Path, shared: bool
) -> None:
    """As Ollama: "removing unused layers" when the old manifest had layers the new one lacks;
    a blob another model still uses stays."""
    reg, name = fake
    store = Store(tmp_path / "models")
    await pull(store, name, tmp_path)
    old = digest(reg.blob)
    if shared:
        store.copy(ModelName.parse(name), ModelName.parse("keeper"))
    reg.blob = bytes(reversed(reg.blob))  # version 2 of the weights
    reg.blobs[digest(reg.blob)] = reg.blob
    statuses = [p.status for p in await pull(store, name, tmp_path)]
    assert "removing unused layers" in statuses and statuses[-1] == "success"
    assert store.has_blob(old) == shared
    assert store.has_blob(digest(reg.blob))
    again = [p.status for p in await pull(store, name, tmp_path)]
    assert "removing unused layers" not in again  # nothing dropped this time
