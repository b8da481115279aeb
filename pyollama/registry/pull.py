"""`pull`: manifest, blobs (shared, resumable downloads), verification, manifest last, pruning.

Yields Ollama's progress objects (server/images.go `PullModel`): `pulling manifest`, per blob
`pulling <12 hex>` with digest/total/completed, `verifying sha256 digest`, `writing manifest`,
`removing unused layers` (only when something is removed), `success`.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from pyollama.errors import PyollamaError
from pyollama.registry.client import RegistryClient
from pyollama.registry.download import DownloadManager
from pyollama.registry.types import Progress, RegistryError, TransferOptions
from pyollama.store.names import ModelName
from pyollama.store.store import MEDIA_MANIFEST, InvalidDigest, Layer, ManifestNotFound, Store

_ACCEPT = MEDIA_MANIFEST


def parse_manifest(data: bytes, options: TransferOptions) -> tuple[Layer, list[Layer]]:
    """Validate a registry manifest before any of it is used as a path or a size."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." nested past the limit
        raise RegistryError(f"invalid manifest: {exc}") from None
    if not isinstance(doc, dict):
        raise RegistryError("invalid manifest: not a JSON object")
    layers_doc = doc.get("layers")
    if layers_doc is None:
        layers_doc = []
    if not isinstance(layers_doc, list):
        raise RegistryError("invalid manifest: layers is not a list")
    if len(layers_doc) > options.max_layers:
        raise RegistryError(f"invalid manifest: {len(layers_doc)} layers (limit {options.max_layers})")
    config_doc = doc.get("config")
    if not isinstance(config_doc, dict):
        raise RegistryError("invalid manifest: no config")
    return _layer(config_doc), [_layer(x) for x in layers_doc]


def _layer(d: Any) -> Layer:
    if not isinstance(d, dict):
        raise RegistryError("invalid manifest: layer is not an object")
    size = d.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0 or size > 1 << 50:
        raise RegistryError(f"invalid manifest: bad layer size {size!r}")
    for key in ("mediaType", "from", "name"):
        if not isinstance(d.get(key, ""), str):
            raise RegistryError(f"invalid manifest: {key} is not a string")
    try:
        return Layer.from_json(d)
    except InvalidDigest:
        raise RegistryError(f"invalid manifest: invalid digest {str(d.get('digest'))[:100]!r}") from None


async def fetch_manifest(client: RegistryClient) -> bytes:
    resp = await client.request("GET", client.manifest_url(), headers={"Accept": _ACCEPT})
    if resp.status == 404:
        resp.release()
        raise RegistryError("file does not exist", status=500)
    if resp.status != 200:
        raise await client.error_from(resp, "")
    async with resp:
        return await client.read_limited(resp, client.options.max_manifest_size, "manifest")


async def blob_size(client: RegistryClient, layer: Layer) -> int:
    """HEAD the blob: it must exist with exactly the size the manifest announced."""
    resp = await client.request("HEAD", client.blob_url(layer.digest))
    resp.release()
    if resp.status != 200:
        if resp.status == 404:
            raise RegistryError(f"blob {layer.digest} not found in registry")
        raise RegistryError(f"HEAD {layer.digest}: {resp.status}")
    size = resp.content_length
    if size is not None and size != layer.size:
        raise RegistryError(f"blob {layer.digest} is {size} bytes, manifest says {layer.size}")
    return layer.size


async def pull_model(
    store: Store,
    model: str | ModelName,
    *,
    insecure: bool = False,
    noprune: bool = False,
    key_path: Path | None = None,
    options: TransferOptions | None = None,
    downloads: DownloadManager | None = None,
) -> AsyncGenerator[Progress, None]:
    """Pull `model` into `store`; raises `PyollamaError` (the caller streams it as `{"error": ...}`)."""
    name = model if isinstance(model, ModelName) else ModelName.parse(model)
    options = options or TransferOptions()
    downloads = downloads or DownloadManager()
    client = RegistryClient(name, insecure=insecure, key_path=key_path, options=options)
    try:
        old: list[str] = []
        if not noprune:
            try:
                old = (await asyncio.to_thread(store.read_manifest, name)).digests()
            except (ManifestNotFound, ValueError, PyollamaError):
                old = []
        yield Progress(status="pulling manifest")
        try:
            data = await fetch_manifest(client)
            config, layers = parse_manifest(data, options)
        except PyollamaError as exc:
            raise RegistryError(f"pull model manifest: {exc.message}") from None

        for layer in [*layers, config]:
            label = f"pulling {layer.digest[7:19]}"
            if await asyncio.to_thread(store.has_blob, layer.digest):
                yield Progress(status=label, digest=layer.digest, total=layer.size, completed=layer.size)
                continue
            dl = downloads.get(store, layer.digest)
            if dl is None:
                await blob_size(client, layer)
                dl = downloads.start(store, layer.digest, layer.size, client)
            async for p in downloads.watch(dl, label, options.progress_interval):
                yield p

        yield Progress(status="verifying sha256 digest")  # done per blob before its rename
        yield Progress(status="writing manifest")
        await asyncio.to_thread(functools.partial(store.write_manifest, name, config, layers, pulled=True))
        # as Ollama: the old manifest's layers the new one dropped (other models may still use
        # them: only unreferenced blobs go); a failure to delete is reported, not fatal
        new = {layer.digest for layer in [*layers, config]}
        dropped = [d for d in dict.fromkeys(old) if d not in new]
        if dropped:
            yield Progress(status="removing unused layers")
            try:
                await asyncio.to_thread(store.remove_unreferenced, dropped)
            except OSError as exc:
                yield Progress(status=f"couldn't remove unused layers: {exc}")
        yield Progress(status="success")
    finally:
        await client.close()
