"""Binds `pyollama.store` and `pyollama.registry` to the server's `ModelStore`, and owns the replies.

The store answers with domain values (`ModelDescription`, `ModelSummary`); this module turns them
into Ollama's `/api/show` and `/api/tags` replies (`show_response`, `list_response`), byte for byte
as Ollama's handlers encode them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from pyollama.errors import BadRequest, GGUFError, ModelNotFound
from pyollama.gguf import GGUFInfo, read_gguf_info
from pyollama.gguf_check import check_gguf
from pyollama.go import json as go_json
from pyollama.go.time import rfc3339
from pyollama.registry import DownloadManager, TransferOptions, pull_model, push_model
from pyollama.server.models import ModelInfo
from pyollama.server.schemas import (
    ListModel,
    ListResponse,
    MessageOut,
    ProgressResponse,
    ShowResponse,
    TensorOut,
)
from pyollama.store import (
    ManifestNotFound,
    ModelDescription,
    ModelDetails,
    ModelName,
    ModelSummary,
    Store,
    copy_model,
    create_model,
    delete_model,
    describe_model,
    show_model,
)
from pyollama.store import list_models as store_list_models
from pyollama.store.archive import export_chunks, export_names, import_archive
from pyollama.store.create import create_capabilities
from pyollama.store.names import INVALID_NAME
from pyollama.store.templates import detect as detect_template

_GGUF_CACHE = 16
_HIDDEN_KV = ("general.name", "tokenizer.chat_template")  # show leaves these out of model_info
_SHOW_ARRAY = 5  # show empties arrays longer than this unless verbose


def check_go_template(text: str) -> None:
    """Reject a TEMPLATE that Go's parser would reject, with Ollama's `template error: ...`."""
    from pyollama.template import TemplateError, parse

    try:
        parse(text)
    except TemplateError as exc:
        raise BadRequest(f"template error: {exc.message}") from None


# --- replies ---------------------------------------------------------------------------------------


def _go_number(v: Any) -> Any:
    """Floats spelled as Go's encoder spells them: whole ones as ints (`100000`, not `100000.0`),
    and where msgspec would pick an exponent Go does not (below 1e-5, from 1e15: Go writes
    `0.000001`, msgspec `1e-6`), the exact Go text as raw JSON."""
    if isinstance(v, float):
        negative_zero = v == 0 and math.copysign(1.0, v) < 0  # stays a float: no int says -0
        if v.is_integer() and abs(v) < 1e21 and not negative_zero:
            return int(v)
        if v != 0 and math.isfinite(v) and not 1e-5 <= abs(v) < 1e15:
            return msgspec.Raw(go_json.float_string(v).encode())
        return v
    if isinstance(v, list | tuple) and v and isinstance(v[0], float | list | tuple):
        return [_go_number(x) for x in v]
    return v


def _short_arrays(kv: dict[str, Any]) -> dict[str, Any]:
    """The key/values with arrays longer than show prints (unless verbose) emptied."""
    return {k: ([] if isinstance(v, list | tuple) and len(v) > _SHOW_ARRAY else v) for k, v in kv.items()}


def model_info(info: GGUFInfo, verbose: bool) -> dict[str, Any]:
    """show's `model_info` / `projector_info`: the GGUF key/values minus name and chat template,
    sorted as Go marshals a map; arrays over 5 items are emptied unless verbose."""
    kv = {k: v for k, v in (info.kv if verbose else _short_arrays(info.kv)).items() if k not in _HIDDEN_KV}
    kv.setdefault("general.parameter_count", info.parameter_count)
    return go_json.sorted_map({k: _go_number(v) for k, v in kv.items()})


def show_response(d: ModelDescription, *, verbose: bool = False) -> ShowResponse:
    """Ollama's `ShowResponse` for a described model (`verbose` keeps long arrays and adds tensors)."""
    return ShowResponse(
        license=d.license,
        modelfile=d.modelfile,
        parameters=d.parameters,
        template=d.template,
        system=d.system,
        renderer=d.renderer,
        parser=d.parser,
        details=d.details,
        messages=[MessageOut(role=m.get("role", ""), content=m.get("content", "")) for m in d.messages]
        or None,
        remote_model=d.remote_model,
        remote_host=d.remote_host,
        model_info=model_info(d.gguf, verbose) if d.gguf is not None else {},
        projector_info=model_info(d.projector, verbose) if d.projector is not None else None,
        tensors=[TensorOut(name=t.name, type=t.type, shape=list(t.shape)) for t in d.tensors]
        if verbose and d.tensors
        else None,
        capabilities=list(d.capabilities) or None,
        modified_at=rfc3339(d.modified_ns, utc=False),
        requires=d.requires,
    )


def list_entry(s: ModelSummary) -> ListModel:
    """One `/api/tags` row (`name` and `model` are both the shortest display name, as Ollama's)."""
    shown = s.name.display_shortest()
    return ListModel(
        name=shown,
        model=shown,
        remote_model=s.remote_model,
        remote_host=s.remote_host,
        modified_at=rfc3339(s.modified_ns, utc=False),
        size=s.size,
        digest=s.digest,
        details=s.details,
    )


def list_response(models: list[ModelSummary]) -> ListResponse:
    return ListResponse(models=[list_entry(s) for s in models])


# --- the adapter -----------------------------------------------------------------------------------


def slim_header(info: GGUFInfo) -> GGUFInfo:
    """The header without its long arrays, emptied as non-verbose show prints them. The
    vocabulary is most of a decoded header (~11 MiB of Python objects for SmolLM2's 49k tokens,
    several times that for a 150k-token model) and only verbose show and the pre-load checks
    read it; they read the file again."""
    return dataclasses.replace(info, kv=_short_arrays(info.kv))


def _checked_header(path: str | os.PathLike[str]) -> GGUFInfo:
    """`create` refuses a GGUF that would make llama.cpp abort (a 400 naming the field)."""
    info = read_gguf_info(path)
    check_gguf(info)
    return info


class StoreAdapter:
    """`ModelStore` over an on-disk `Store` and its registries; GGUF headers are cached by
    (path, mtime), resolved models by manifest (path, mtime)."""

    def __init__(
        self,
        store: Store,
        *,
        noprune: bool = False,
        go_template: bool | None = None,
        read_gguf: Callable[[str | os.PathLike[str]], GGUFInfo] = read_gguf_info,
        key_path: Path | None = None,
        transfer: TransferOptions | None = None,
    ) -> None:
        self.store = store
        self.noprune = noprune
        self.go_template = go_template  # OLLAMA_GO_TEMPLATE when set
        self.read_gguf = read_gguf
        self.key_path = key_path  # the registry signing key; None: platformdirs' default
        self.transfer = transfer or TransferOptions()
        self.downloads = DownloadManager()  # shared by every pull of this daemon
        self._gguf: dict[tuple[str, int], GGUFInfo | None] = {}
        self._resolved: dict[tuple[str, int], ModelInfo] = {}

    def _header(self, path: str | os.PathLike[str]) -> GGUFInfo:
        """`read_gguf`, cached without its long arrays (`slim_header`): blobs are
        content-addressed, so a header never changes under its key. Raises `GGUFError` (also for
        a file that failed before) or `OSError`."""
        p = Path(path)
        key = (str(p), p.stat().st_mtime_ns)
        if key not in self._gguf:
            self._read_header(p, key)
        found = self._gguf[key]
        if found is None:
            raise GGUFError(f"{p} is not a readable GGUF")
        return found

    def _full_header(self, path: str | os.PathLike[str]) -> GGUFInfo:
        """`read_gguf` with every array (read again each time; the slim copy is cached)."""
        p = Path(path)
        key = (str(p), p.stat().st_mtime_ns)
        if key in self._gguf and self._gguf[key] is None:
            raise GGUFError(f"{p} is not a readable GGUF")
        info = self._read_header(p, key)
        if info is None:
            raise GGUFError(f"{p} is not a readable GGUF")
        return info

    def _read_header(self, p: Path, key: tuple[str, int]) -> GGUFInfo | None:
        try:
            info: GGUFInfo | None = self.read_gguf(p)
        except (GGUFError, OSError):
            info = None
        self._gguf.pop(key, None)
        if len(self._gguf) >= _GGUF_CACHE:
            self._gguf.pop(next(iter(self._gguf)))
        self._gguf[key] = slim_header(info) if info is not None else None
        return info

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
            # the whole header: check_gguf below checks the vocabulary against the special ids
            d = describe_model(
                self.store, parsed, read_gguf=self._full_header, go_template_env=self.go_template
            )
        except ManifestNotFound:
            raise ModelNotFound(f"model '{name}' not found") from None
        lm = d.model
        if lm.model_path is None:
            raise BadRequest(f'"{name}" does not support generate')
        if d.gguf is not None:
            check_gguf(d.gguf)  # before any load: what would make llama.cpp abort is a 400 here
        kv: dict[str, Any] = {}
        if d.gguf is not None:
            kv = {k: v for k, v in d.gguf.kv.items() if not (isinstance(v, list | tuple) and len(v) > 512)}
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
            # what /api/ps shows: no lengths (its own context_length is the loaded one)
            details=ModelDetails.from_config(lm.config, lm.parent_model, lengths=False),
            capabilities=d.capabilities or ("completion",),
            projector=str(lm.projector_paths[0]) if lm.projector_paths else None,
            adapters=tuple(str(p) for p in lm.adapter_paths),
            draft=str(lm.draft_path) if lm.draft_path else None,
            context_length=d.gguf.context_length if d.gguf is not None else 0,
            kv=kv,
            size=size,
            renderer=d.setup.renderer,
            parser=d.setup.parser,
            prompt_source=d.setup.source,
        )

    def list_models(self) -> ListResponse:
        return list_response(store_list_models(self.store))

    def show(
        self, name: str, *, verbose: bool = False, system: str = "", options: dict[str, Any] | None = None
    ) -> ShowResponse:
        d = show_model(
            self.store,
            name,
            system=system,
            options=options,
            read_gguf=self._full_header if verbose else self._header,
            go_template_env=self.go_template,
        )
        return show_response(d, verbose=verbose)

    def create(self, request: dict[str, Any]) -> AsyncIterator[object]:
        return create_model(
            self.store,
            request,
            noprune=self.noprune,
            template_check=check_go_template,
            template_detector=detect_template,
            pull=self._pull_statuses,
            read_gguf=_checked_header,
        )

    def create_capabilities(self) -> dict[str, Any]:
        return create_capabilities()

    async def _pull_statuses(self, name: ModelName) -> AsyncIterator[dict[str, Any]]:
        """`create` from a model that is not local pulls it first, as Ollama does."""
        async with contextlib.aclosing(self._pull(name, insecure=False)) as lines:
            async for progress in lines:
                yield msgspec.to_builtins(progress)

    def _pull(self, name: ModelName, *, insecure: bool) -> AsyncGenerator[ProgressResponse, None]:
        return pull_model(
            self.store,
            name,
            insecure=insecure,
            noprune=self.noprune,
            key_path=self.key_path,
            options=self.transfer,
            downloads=self.downloads,
        )

    async def pull(self, name: str, *, insecure: bool = False) -> AsyncGenerator[ProgressResponse, None]:
        # InvalidName is a 400 `invalid model name`; a model already here keeps its spelling, as
        # Ollama's PullHandler does
        parsed = self.store.existing_name(ModelName.parse(name))
        async with contextlib.aclosing(self._pull(parsed, insecure=insecure)) as lines:
            async for progress in lines:
                yield progress

    async def push(self, name: str, *, insecure: bool = False) -> AsyncGenerator[ProgressResponse, None]:
        parsed = self.store.existing_name(ModelName.parse(name))
        lines = push_model(
            self.store, parsed, insecure=insecure, key_path=self.key_path, options=self.transfer
        )
        async with contextlib.aclosing(lines):
            async for progress in lines:
                yield progress

    def copy(self, source: str, destination: str) -> None:
        copy_model(self.store, source, destination)

    def delete(self, name: str) -> None:
        delete_model(self.store, name, noprune=self.noprune)

    def blob_path(self, digest: str) -> Path:
        return self.store.blob_path(digest)

    async def write_blob(self, digest: str, chunks: AsyncIterator[bytes], *, size: int | None) -> bool:
        return await self.store.write_blob_stream(digest, chunks, size=size)

    def export_archive(self, names: list[str]) -> Iterator[bytes]:
        manifests = []
        for n in names:
            try:
                manifests += export_names(self.store, [self.store.existing_name(ModelName.parse(n))])
            except ManifestNotFound:
                raise ModelNotFound(f"model '{n}' not found") from None
        return export_chunks(self.store, manifests)

    def import_archive(self, fileobj: IO[bytes]) -> Iterator[dict[str, Any]]:
        return import_archive(self.store, fileobj)
