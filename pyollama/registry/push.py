"""`push`: each blob (HEAD, cross-repository mount, POST + PATCH parts + PUT), then the manifest.

Yields Ollama's progress objects (server/images.go `PushModel`, upload.go): `retrieving manifest`,
`pushing <12 hex>` with digest/total/completed, `pushing manifest`, `success`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aiohttp
from yarl import URL

from pyollama.errors import PyollamaError
from pyollama.registry.client import RegistryClient
from pyollama.registry.types import Progress, RegistryError, TransferOptions, TransientError
from pyollama.store.names import ModelName
from pyollama.store.store import MEDIA_MANIFEST, Layer, Store

_READ = 1 << 20
_T = TypeVar("_T")


class _Upload:
    """One blob's upload, run as a task so the caller can report progress while it runs."""

    def __init__(self, client: RegistryClient, store: Store, layer: Layer) -> None:
        self.client = client
        self.layer = layer
        self.path = store.blob_path(layer.digest)
        self.total = layer.size
        self.completed = 0

    async def exists(self) -> bool:
        """HEAD the blob: 200 is there, 404 is not; anything else is an error (as Ollama's)."""

        async def head() -> bool:
            resp = await self.client.request("HEAD", self.client.blob_url(self.layer.digest))
            if resp.status in (200, 404):
                resp.release()
                return resp.status == 200
            raise await self.client.error_from(resp, "")

        return await self._retrying(head)

    async def _retrying(self, attempt: Callable[[], Awaitable[_T]]) -> _T:
        """Run `attempt` again after a transient failure (connection, 5xx), with Ollama's back-off."""
        opts = self.client.options
        tries = 0
        while True:
            try:
                return await attempt()
            except TransientError as exc:
                tries += 1
                if tries >= opts.max_retries:
                    raise RegistryError(f"{exc} (after {tries} tries)") from None
                await asyncio.sleep(opts.backoff * 2 ** (tries - 1))

    async def run(self) -> None:
        c = self.client
        params = {}
        src = ModelName.try_parse(self.layer.from_) if self.layer.from_ else None
        if src is not None and src.host.lower() == c.name.host.lower():
            params = {"mount": self.layer.digest, "from": f"{src.namespace}/{src.model}"}

        async def start() -> aiohttp.ClientResponse:
            resp = await c.request(
                "POST", c.url("blobs/uploads/").with_query(params), headers={"Content-Length": "0"}
            )
            if resp.status not in (201, 202):
                raise await c.error_from(resp, "upload: ")
            return resp

        resp = await self._retrying(start)
        if resp.status == 201 and params:
            resp.release()
            self.completed = self.total
            return
        location = resp.headers.get("Docker-Upload-Location") or resp.headers.get("Location", "")
        resp.release()
        if not location:
            raise RegistryError("upload: registry sent no upload location")
        url = c.check_redirect(c.base, location)
        part_size = c.options.part_size(self.total)
        md5s: list[bytes] = []
        offset = 0
        while offset < self.total or (self.total == 0 and not md5s):
            size = min(part_size, self.total - offset)
            url, md5 = await self._retrying(functools.partial(self._part, url, offset, size))
            md5s.append(md5)
            offset += size
            if size == 0:
                break
        etag = hashlib.md5(b"".join(md5s), usedforsecurity=False).hexdigest() + f"-{len(md5s)}"
        final = url.update_query({"digest": self.layer.digest, "etag": etag})

        async def finish() -> None:
            resp = await c.request("PUT", final, headers={"Content-Length": "0"}, follow_redirects=False)
            if resp.status not in (201, 204):
                raise await c.error_from(resp, "upload: ")
            resp.release()

        await self._retrying(finish)
        self.completed = self.total

    def _body(self, offset: int, size: int, md5: hashlib._Hash) -> Callable[[], object]:
        def make() -> object:
            async def gen() -> AsyncIterator[bytes]:
                with open(self.path, "rb") as f:
                    f.seek(offset)
                    left = size
                    while left > 0:
                        chunk = await asyncio.to_thread(f.read, min(_READ, left))
                        if not chunk:
                            raise RegistryError(
                                f"blob {self.layer.digest} is shorter than {self.total} bytes"
                            )
                        left -= len(chunk)
                        md5.update(chunk)
                        self.completed += len(chunk)
                        yield chunk

            self.completed = offset
            return gen()

        return make

    async def _part(self, url: URL, offset: int, size: int) -> tuple[URL, bytes]:
        """PATCH one part; returns the next upload URL and the part's md5.

        With Ollama's `X-Redirect-Uploads`, a registry may answer 307: the part then goes by PUT
        to `Location` (object storage, retried on its own), and the upload continues at
        `Docker-Upload-Location` (else `Location`), as Ollama's upload.go does.
        """
        c = self.client
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "Content-Range": f"{offset}-{offset + size - 1}" if size else "0-0",
            "X-Redirect-Uploads": "1",
        }
        md5 = hashlib.md5(usedforsecurity=False)
        resp = await c.request(
            "PATCH", url, headers=headers, data=self._body(offset, size, md5), follow_redirects=False
        )
        location = resp.headers.get("Docker-Upload-Location") or resp.headers.get("Location", "")
        next_url = c.check_redirect(url, location) if location else url
        if resp.status == 307:
            storage = resp.headers.get("Location", "")
            resp.release()
            if not storage:
                raise RegistryError("upload: redirect without a location")
            target = c.check_redirect(url, storage)

            async def put() -> bytes:
                md5_put = hashlib.md5(usedforsecurity=False)
                r = await c.request(
                    "PUT",
                    target,
                    headers={"Content-Length": str(size)},
                    data=self._body(offset, size, md5_put),
                    follow_redirects=False,
                )
                if r.status not in (200, 201, 204):
                    raise await c.error_from(r, "upload: ")
                r.release()
                return md5_put.digest()

            return next_url, await self._retrying(put)
        if resp.status != 202:
            raise await c.error_from(resp, "upload: ")
        resp.release()
        return next_url, md5.digest()


async def push_model(
    store: Store,
    model: str | ModelName,
    *,
    insecure: bool = False,
    key_path: Path | None = None,
    options: TransferOptions | None = None,
) -> AsyncGenerator[Progress, None]:
    """Push a local model to its registry; raises `PyollamaError` on failure."""
    name = model if isinstance(model, ModelName) else ModelName.parse(model)
    options = options or TransferOptions()
    yield Progress(status="retrieving manifest")
    client = RegistryClient(name, insecure=insecure, key_path=key_path, options=options)
    try:
        try:
            manifest = await asyncio.to_thread(store.read_manifest, name)
            data = manifest.to_bytes().rstrip(b"\n")  # json.Marshal's form, as Ollama pushes it
        except (PyollamaError, OSError, ValueError):
            yield Progress(status="couldn't retrieve manifest")
            raise
        for layer in [*manifest.layers, manifest.config]:
            label = f"pushing {layer.digest[7:19]}"
            up = _Upload(client, store, layer)
            if await up.exists():
                yield Progress(status=label, digest=layer.digest, total=layer.size, completed=layer.size)
                continue
            task = asyncio.create_task(up.run())
            try:
                last = -1
                while not task.done():
                    if up.completed != last:
                        last = up.completed
                        yield Progress(
                            status=label, digest=layer.digest, total=up.total, completed=up.completed
                        )
                    await asyncio.wait({task}, timeout=options.progress_interval)
                task.result()
            finally:
                if not task.done():
                    task.cancel()
            yield Progress(status=label, digest=layer.digest, total=layer.size, completed=layer.size)
        yield Progress(status="pushing manifest")
        resp = await client.request(
            "PUT",
            client.manifest_url(),
            headers={"Content-Type": manifest.media_type or MEDIA_MANIFEST},
            data=data,
        )
        if resp.status not in (200, 201, 202):
            raise await client.error_from(resp, "")
        resp.release()
        yield Progress(status="success")
    finally:
        await client.close()
