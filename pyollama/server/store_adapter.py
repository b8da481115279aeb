"""Binds `pyollama.store` (manifests, blobs, create/show/list/copy/delete) to the server's `ModelStore`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec

from pyollama.errors import BadRequest, GGUFError, ModelNotFound
from pyollama.gguf import GGUFInfo, read_gguf_info
from pyollama.server.models import ModelInfo
from pyollama.server.schemas import ModelDetails
from pyollama.store import (
    ManifestNotFound,
    ModelName,
    Store,
    copy_model,
    create_model,
    delete_model,
    load_model,
    show_model,
)
from pyollama.store import list_models as store_list_models
from pyollama.store.capabilities import prompt_setup
from pyollama.store.names import INVALID_NAME
from pyollama.store.show import details as store_details

_GGUF_CACHE = 16


def check_go_template(text: str) -> None:
    """Reject a TEMPLATE that Go's parser would reject, with Ollama's `template error: ...`."""
    from pyollama.errors import BadRequest
    from pyollama.template import TemplateError, parse

    try:
        parse(text)
    except TemplateError as exc:
        raise BadRequest(f"template error: {exc.message}") from None


class StoreAdapter:
    """`ModelStore` over an on-disk `Store`; GGUF headers are cached by (path, mtime)."""

    def __init__(
        self,
        store: Store,
        *,
        noprune: bool = False,
        go_template: bool | None = None,
        read_gguf: Callable[[str | os.PathLike[str]], GGUFInfo] = read_gguf_info,
    ) -> None:
        self.store = store
        self.noprune = noprune
        self.go_template = go_template  # OLLAMA_GO_TEMPLATE when set
        self.read_gguf = read_gguf
        self._gguf: dict[tuple[str, int], GGUFInfo | None] = {}
        self._resolved: dict[tuple[str, int], ModelInfo] = {}

    def _header(self, path: Path) -> GGUFInfo | None:
        try:
            key = (str(path), path.stat().st_mtime_ns)
        except OSError:
            return None
        if key not in self._gguf:
            try:
                info: GGUFInfo | None = self.read_gguf(path)
            except (GGUFError, OSError):
                info = None
            if len(self._gguf) >= _GGUF_CACHE:
                self._gguf.pop(next(iter(self._gguf)))
            self._gguf[key] = info
        return self._gguf[key]

    def resolve(self, name: str) -> ModelInfo:
        """Everything a route needs about a model; cached per manifest file and mtime, since a
        request should not re-read manifest, config and layer blobs (~2 ms) on the hot path."""
        parsed = ModelName.try_parse(name)
        if parsed is None:
            raise BadRequest(INVALID_NAME)
        try:
            mpath = self.store.manifest_path(parsed)
            key = (str(mpath), mpath.stat().st_mtime_ns)
        except OSError:
            key = None  # not under this spelling: the slow path resolves case-insensitively
        cached = self._resolved.get(key) if key else None
        if cached is not None:
            return cached
        info = self._resolve(name, parsed)
        if key is not None:
            if len(self._resolved) >= _GGUF_CACHE:
                self._resolved.pop(next(iter(self._resolved)))
            self._resolved[key] = info
        return info

    def _resolve(self, name: str, parsed: ModelName) -> ModelInfo:
        try:
            lm = load_model(self.store, parsed)
        except ManifestNotFound:
            raise ModelNotFound(f"model '{name}' not found") from None
        if lm.model_path is None:
            raise BadRequest(f'"{name}" does not support generate')
        info = self._header(lm.model_path)
        cfg = lm.config
        setup = prompt_setup(
            kv=info.kv if info else None,
            go_template=lm.template,
            chat_template=info.chat_template if info else "",
            renderer=str(cfg.get("renderer") or ""),
            parser=str(cfg.get("parser") or ""),
            family=str(cfg.get("model_family") or ""),
            has_projector=bool(lm.projector_paths),
            go_template_env=self.go_template,
        )
        d = store_details(cfg, lm.parent_model)
        kv: dict[str, Any] = {}
        if info is not None:
            kv = {k: v for k, v in info.kv.items() if not (isinstance(v, list | tuple) and len(v) > 512)}
        try:
            size = lm.model_path.stat().st_size
        except OSError:
            size = 0
        return ModelInfo(
            name=lm.short_name,
            model_path=str(lm.model_path),
            digest=lm.manifest.digest,
            template=lm.template,
            system=lm.system,
            parameters=dict(lm.options),
            messages=list(lm.messages),
            details=ModelDetails(
                parent_model=d["parent_model"],
                format=d["format"],
                family=d["family"],
                families=d["families"],
                parameter_size=d["parameter_size"],
                quantization_level=d["quantization_level"],
            ),
            capabilities=setup.capabilities or ("completion",),
            projector=str(lm.projector_paths[0]) if lm.projector_paths else None,
            adapters=tuple(str(p) for p in lm.adapter_paths),
            context_length=info.context_length if info else 0,
            kv=kv,
            size=size,
            renderer=setup.renderer,
            parser=setup.parser,
            prompt_source=setup.source,
        )

    def list_models(self) -> object:
        return store_list_models(self.store)

    def show(
        self, name: str, *, verbose: bool = False, system: str = "", options: dict[str, Any] | None = None
    ) -> object:
        return show_model(
            self.store,
            name,
            verbose=verbose,
            system=system,
            options=options,
            go_template_env=self.go_template,
        )

    def create(self, request: dict[str, Any]) -> AsyncIterator[object]:
        return create_model(
            self.store,
            request,
            noprune=self.noprune,
            template_check=check_go_template,
            pull=self._pull_statuses,
        )

    async def _pull_statuses(self, name: ModelName) -> AsyncIterator[dict[str, Any]]:
        """`create` from a model that is not local pulls it first, as Ollama does."""
        from pyollama.registry import pull_model

        async for progress in pull_model(self.store, name, noprune=self.noprune):
            yield msgspec.to_builtins(progress)

    def copy(self, source: str, destination: str) -> None:
        copy_model(self.store, source, destination)

    def delete(self, name: str) -> None:
        delete_model(self.store, name, noprune=self.noprune)

    def blob_path(self, digest: str) -> Path:
        return self.store.blob_path(digest)

    async def write_blob(self, digest: str, chunks: AsyncIterator[bytes], *, size: int | None) -> bool:
        return await self.store.write_blob_stream(digest, chunks, size=size)
