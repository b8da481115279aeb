"""Push against a small registry that redirects part uploads (Ollama's `X-Redirect-Uploads`: 307)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from pyollama.registry import RegistryError, TransferOptions, push_model
from pyollama.store import ModelName, Store, create_model
from tests.registry.conftest import collect

SMALL = TransferOptions(min_part_size=1 << 20, max_part_size=1 << 20, backoff=0.01, max_retries=3)


@dataclass
class RedirectingUploads:
    """POST → 202 with an upload URL; PATCH → 307 to a storage URL that takes the part by PUT, and
    the next upload URL in Docker-Upload-Location (as ollama.com answers)."""

    storage_host: str = ""  # "" = same host; otherwise the Location points there
    parts: dict[str, bytes] = field(default_factory=dict)  # upload id → bytes received so far
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, bytes] = field(default_factory=dict)
    storage_auth: list[str] = field(default_factory=list)  # Authorization seen by the storage URL
    location: str = ""  # a fixed Location for every 307 (a hostile one)
    fail_first: dict[str, int] = field(default_factory=dict)  # method -> how many 503s to answer first

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 26)
        app.router.add_route("HEAD", "/v2/{ns}/{m}/blobs/{digest}", self.head)
        app.router.add_post("/v2/{ns}/{m}/blobs/uploads/", self.start)
        app.router.add_patch("/v2/{ns}/{m}/blobs/uploads/{id}", self.patch)
        app.router.add_put("/v2/{ns}/{m}/blobs/uploads/{id}", self.finish)
        app.router.add_put("/storage/{id}/{offset}", self.store_part)
        app.router.add_put("/v2/{ns}/{m}/manifests/{tag}", self.manifest)
        return app

    def failing(self, method: str) -> bool:
        if self.fail_first.get(method, 0) > 0:
            self.fail_first[method] -= 1
            return True
        return False

    async def head(self, request: web.Request) -> web.Response:
        if self.failing("HEAD"):
            return web.Response(status=503)
        return web.Response(status=200 if request.match_info["digest"] in self.blobs else 404)

    async def start(self, request: web.Request) -> web.Response:
        upload = f"u{len(self.parts)}"
        self.parts[upload] = b""
        ns, m = request.match_info["ns"], request.match_info["m"]
        return web.Response(status=202, headers={"Location": f"/v2/{ns}/{m}/blobs/uploads/{upload}"})

    async def patch(self, request: web.Request) -> web.Response:
        assert request.headers.get("X-Redirect-Uploads") == "1"
        start = int(request.headers["Content-Range"].split("-")[0])
        await request.read()  # the body sent here is dropped: the part goes to the storage URL
        if self.failing("PATCH"):
            return web.Response(status=503)
        upload = request.match_info["id"]
        assert request.query.get("next", "0") == str(start)  # the URL the last reply named
        base = f"http://{self.storage_host}" if self.storage_host else ""
        headers = {"Location": self.location or f"{base}/storage/{upload}/{start}"}
        # where the next part goes (Ollama's upload.go continues there; Location is only storage)
        size = int(request.headers["Content-Length"])
        ns, m = request.match_info["ns"], request.match_info["m"]
        headers["Docker-Upload-Location"] = f"/v2/{ns}/{m}/blobs/uploads/{upload}?next={start + size}"
        return web.Response(status=307, headers=headers)

    async def store_part(self, request: web.Request) -> web.Response:
        if self.failing("PUT-storage"):
            await request.read()
            return web.Response(status=503)
        self.storage_auth.append(request.headers.get("Authorization", ""))
        upload, offset = request.match_info["id"], int(request.match_info["offset"])
        if len(self.parts[upload]) != offset:
            return web.Response(status=416)
        self.parts[upload] += await request.read()
        return web.Response(status=201)

    async def finish(self, request: web.Request) -> web.Response:
        data = self.parts.pop(request.match_info["id"])
        digest = request.query["digest"]
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            return web.json_response({"errors": [{"code": "DIGEST_INVALID", "message": "bad"}]}, status=400)
        self.blobs[digest] = data
        return web.Response(status=201)

    async def manifest(self, request: web.Request) -> web.Response:
        body = await request.read()
        for d in [json.loads(body)["config"], *json.loads(body)["layers"]]:
            if d["digest"] not in self.blobs:
                return web.json_response({"errors": [{"code": "BLOB_UNKNOWN", "message": "x"}]}, status=400)
        self.manifests[request.match_info["tag"]] = body
        return web.Response(status=201)


@pytest.fixture
def store(tmp_path: Any) -> Store:
    return Store(tmp_path / "models")


async def make_model(store: Store, tiny_gguf: Any, name: str) -> ModelName:
    digest, _, _ = store.write_blob_file(tiny_gguf)
    await collect(create_model(store, {"model": name, "files": {"m.gguf": digest}, "system": "Be brief."}))
    return ModelName.parse(name)


@pytest.mark.parametrize("other_host", [False, True])
async def test_parts_redirected_by_307_are_put_to_the_location(
    aiohttp_server: Any, store: Store, tiny_gguf: Any, other_host: bool
) -> None:
    """The part goes by PUT to `Location`, the next part to `Docker-Upload-Location`."""
    reg = RedirectingUploads()
    server = await aiohttp_server(reg.app())
    if other_host:  # the storage URL names the same server by another host name: a different origin
        reg.storage_host = f"localhost:{server.port}"
    name = await make_model(store, tiny_gguf, f"127.0.0.1:{server.port}/ns/m:latest")
    progress = await collect(push_model(store, name, insecure=True, options=SMALL))
    assert progress[-1].status == "success"
    m = store.read_manifest(name)
    for layer in [*m.layers, m.config]:
        assert reg.blobs[layer.digest] == store.read_blob(layer.digest)  # every part, in order
    # json.Marshal's bytes, as Ollama pushes them (the local file has json.Encoder's newline)
    assert reg.manifests["latest"] + b"\n" == m.path.read_bytes()  # type: ignore[union-attr]
    assert len(reg.storage_auth) > len(m.layers) + 1  # the big layer went up in several parts


async def test_redirect_to_a_file_url_is_refused(aiohttp_server: Any, store: Store, tiny_gguf: Any) -> None:
    reg = RedirectingUploads(location="file:///etc/passwd")
    server = await aiohttp_server(reg.app())
    name = await make_model(store, tiny_gguf, f"127.0.0.1:{server.port}/ns/m:latest")
    with pytest.raises(RegistryError, match="refusing redirect to file URL"):
        await collect(push_model(store, name, insecure=True, options=SMALL))
    assert not reg.blobs and not reg.manifests


async def test_transient_failures_are_retried(aiohttp_server: Any, store: Store, tiny_gguf: Any) -> None:
    """A 503 on HEAD, PATCH or the storage PUT is retried with back-off, as Ollama does."""
    reg = RedirectingUploads(fail_first={"HEAD": 1, "PATCH": 2, "PUT-storage": 1})
    server = await aiohttp_server(reg.app())
    name = await make_model(store, tiny_gguf, f"127.0.0.1:{server.port}/ns/m:latest")
    progress = await collect(push_model(store, name, insecure=True, options=SMALL))
    assert progress[-1].status == "success"
    m = store.read_manifest(name)
    assert reg.blobs[m.layers[0].digest] == store.read_blob(m.layers[0].digest)


async def test_a_head_error_other_than_404_fails_the_push(
    aiohttp_server: Any, store: Store, tiny_gguf: Any
) -> None:
    app = web.Application()

    async def forbidden(request: web.Request) -> web.Response:
        return web.json_response({"errors": [{"code": "DENIED", "message": "nope"}]}, status=403)

    app.router.add_route("*", "/{tail:.*}", forbidden)
    server = await aiohttp_server(app)
    name = await make_model(store, tiny_gguf, f"127.0.0.1:{server.port}/ns/m:latest")
    with pytest.raises(RegistryError, match="403"):
        await collect(push_model(store, name, insecure=True, options=SMALL))
