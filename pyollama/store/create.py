"""`POST /api/create` (Ollama's server/create.go) as an async generator of status dicts.

The server side accepts blobs only: `files` / `adapters` map a *relative* file name to a digest
of a blob already uploaded with `POST /api/blobs/:digest`. No path from the request is ever
opened; digests are validated before they become blob paths (the CVE-2024-39719/39721 class).
Layers are written as blobs first and the manifest last, so a killed create leaves no manifest
pointing at a missing blob.

`quantize` / `draft_quantize` re-write the weights (or the draft model's) with llama.cpp's own
quantizer through the engine (`pyollama.quantize`), with Ollama's statuses; the quantizer is
injected, so the create flow itself never imports the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any

from pyollama.errors import BadRequest, ModelNotFound
from pyollama.gguf import GGUFInfo, read_gguf_info
from pyollama.go import json as go_json
from pyollama.go.format import human_number
from pyollama.options import OPTIONS, check_option
from pyollama.quantize import ERR_QUANTIZE, UNQUANTIZED, f32, ollama_quantize, parse_file_type
from pyollama.store.capabilities import model_prompt_setup
from pyollama.store.names import INVALID_NAME, ModelName
from pyollama.store.store import (
    MEDIA_ADAPTER,
    MEDIA_CONFIG,
    MEDIA_DRAFT,
    MEDIA_LICENSE,
    MEDIA_MESSAGES,
    MEDIA_MODEL,
    MEDIA_PARAMS,
    MEDIA_PROJECTOR,
    MEDIA_SYSTEM,
    MEDIA_TEMPLATE,
    BlobNotFound,
    Layer,
    ManifestNotFound,
    Store,
    normalize_digest,
)

GGUFReader = Callable[[str | os.PathLike[str]], GGUFInfo]
Status = dict[str, Any]
PullFn = Callable[[ModelName], AsyncIterator[Status]]
TemplateCheck = Callable[[str], None]
# chat_template -> (name, Go template text, params dict or None), or None when nothing matches
TemplateDetector = Callable[[str], "tuple[str, str, dict[str, Any] | None] | None"]
# (source GGUF, new file, llama.cpp file type, architecture) -> the share done so far, as it goes
Quantizer = Callable[[Path, Path, str, str], AsyncGenerator[float, None]]

ERR_FILE_PATH = "file path must be relative"
ERR_NEITHER = "neither 'from' or 'files' was specified"
ERR_NO_FILES = "no files provided to convert"
ERR_ONE_ADAPTER = "only one adapter is currently supported"
ERR_ONLY_GGUF = "supplied file was not in GGUF format"
ERR_UNKNOWN_TYPE = "unknown type"
ERR_DRAFT_QUANTIZE = "--draft-quantize requires a DRAFT model"
# ProgressResponse.Digest of Ollama's quantize statuses (a progress bar of its own, no real blob)
QUANTIZE_DIGEST = "0000000000000000000"

_GGUF_MAGIC = b"GGUF"


def create_capabilities() -> dict[str, Any]:
    """What `/api/create` accepts here beyond a GGUF model: a client checks this before uploading
    (pyollama's own; Ollama has no such probe)."""
    from pyollama.quantize import accepted_types

    return {
        "quantize": accepted_types(),
        # models convert with pyollama.convert (numpy: the `convert` extra); adapters do not
        "safetensors": importlib.util.find_spec("numpy") is not None,
        "adapters": ["gguf"],
        "draft": True,
    }


def valid_rel_path(p: str) -> bool:
    """Go `fs.ValidPath`, plus no backslashes or NULs: a relative, clean, slash-separated path."""
    if not isinstance(p, str) or not p or "\\" in p or "\x00" in p:
        return False
    if p == ".":
        return True
    return all(el not in ("", ".", "..") for el in p.split("/"))


def default_template_check(t: str) -> None:
    """Cheap syntax check until the Go-template package is wired in (create validates early)."""
    depth = 0
    i = 0
    while i < len(t):
        if t.startswith("{{", i):
            if depth:
                raise BadRequest('template error: template: :1: unexpected "{" in command')
            depth, i = 1, i + 2
        elif t.startswith("}}", i) and depth:
            depth, i = 0, i + 2
        else:
            i += 1
    if depth:
        raise BadRequest("template error: template: :1: unclosed action")


def _layer_status(created: bool, digest: str) -> str:
    return f"{'creating new layer' if created else 'using existing layer'} {digest}"


class _GGUFLayer:
    __slots__ = ("info", "layer")

    def __init__(self, layer: Layer, info: GGUFInfo | None) -> None:
        self.layer = layer
        self.info = info


def _kind(info: GGUFInfo) -> str:
    return str(info.kv.get("general.type", "") or "")


def _is_projector(info: GGUFInfo) -> bool:
    """Ollama's `isProjectorGGUF`: llama.cpp's mmproj files say "mmproj" or are clip-only."""
    if _kind(info) in ("projector", "mmproj"):
        return True
    block = int(info.arch_value("block_count", 0) or 0)
    if block == 0 and int(info.arch_value("vision.block_count", 0) or 0) > 0:
        return True
    encoder = bool(info.arch_value("has_vision_encoder", False)) or bool(
        info.arch_value("has_audio_encoder", False)
    )
    return info.architecture == "clip" and block == 0 and encoder


def _media_type_for(info: GGUFInfo) -> str:
    if _kind(info) == "adapter":
        return MEDIA_ADAPTER
    if _is_projector(info):
        return MEDIA_PROJECTOR
    return MEDIA_MODEL


class Creator:
    """One create request; `run()` yields Ollama's status objects."""

    def __init__(
        self,
        store: Store,
        request: dict[str, Any],
        *,
        read_gguf: GGUFReader = read_gguf_info,
        pull: PullFn | None = None,
        template_check: TemplateCheck = default_template_check,
        template_detector: TemplateDetector | None = None,
        noprune: bool = False,
        quantize: Quantizer = ollama_quantize,
    ) -> None:
        self.store = store
        self.req = request
        self.read_gguf = read_gguf
        self.pull = pull
        self.template_check = template_check
        self.template_detector = template_detector
        self.noprune = noprune
        self.quantize = quantize

    async def _thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    # --- request checks (all before anything is written) --------------------------------------

    def _validate(self) -> ModelName:
        r = self.req
        for key in ("files", "adapters", "draft_files"):
            files = r.get(key)
            if files is None:
                continue
            if not isinstance(files, dict):
                raise BadRequest(f"{key} must be an object of file names to digests")
            for fn, digest in files.items():
                if not valid_rel_path(fn):
                    raise BadRequest(ERR_FILE_PATH)
                normalize_digest(digest)  # "invalid digest format"
        if r.get("draft_quantize") and not r.get("draft_files"):
            raise BadRequest(ERR_DRAFT_QUANTIZE)
        name = ModelName.try_parse(str(r.get("model") or r.get("name") or ""))
        if name is None:
            raise BadRequest(INVALID_NAME)
        return self.store.existing_name(name)

    # --- base layers ---------------------------------------------------------------------------

    async def _gguf_layer(self, digest: str, media_type: str | None) -> _GGUFLayer:
        digest = normalize_digest(digest)
        path = self.store.blob_path(digest)
        try:
            with open(path, "rb") as f:
                magic = f.read(4)
        except FileNotFoundError:
            raise BlobNotFound(digest) from None
        if magic != _GGUF_MAGIC:
            raise BadRequest(ERR_ONLY_GGUF)
        info: GGUFInfo = await self._thread(self.read_gguf, path)
        mt = media_type or _media_type_for(info)
        layer = Layer(mt, digest, path.stat().st_size, from_=str(path), status=_layer_status(False, digest))
        return _GGUFLayer(layer, info)

    def _detect_type(self, files: dict[str, str]) -> str:
        if any(fn.endswith(".safetensors") for fn in files):
            return "safetensors"
        for fn, digest in files.items():
            if fn.endswith(".gguf"):
                return "gguf"
            try:
                with open(self.store.blob_path(digest), "rb") as f:
                    if f.read(4) == _GGUF_MAGIC:
                        return "gguf"
            except OSError:
                return ""
        return ""

    async def _from_files(
        self, files: dict[str, str], adapter: bool, media_type: str | None = None
    ) -> AsyncIterator[Status | _GGUFLayer]:
        """Layers from uploaded files (Ollama's convertModelFromFilesWithMediaType): `media_type`
        forces one (a DRAFT model's, which also gets no template detection)."""
        kind = self._detect_type(files)
        if kind == "safetensors":
            async for item in self._from_safetensors(files, adapter):
                yield item
            return
        if kind != "gguf":
            raise BadRequest(ERR_UNKNOWN_TYPE)
        if not files:
            raise BadRequest(ERR_NO_FILES)
        if len(files) > 1 and adapter:
            raise BadRequest(ERR_ONE_ADAPTER)
        for fn in sorted(files):
            yield {"status": "parsing GGUF"}
            gl = await self._gguf_layer(files[fn], MEDIA_ADAPTER if adapter else media_type)
            yield gl
            if not adapter and media_type is None:
                for extra in await self._detect_template(gl):
                    yield extra

    async def _from_safetensors(
        self, files: dict[str, str], adapter: bool
    ) -> AsyncIterator[Status | _GGUFLayer]:
        """Ollama's `convertFromSafetensors`: the uploaded blobs linked under their relative names
        in a temp folder of the store, converted to one GGUF blob (`pyollama.convert`)."""
        if adapter:
            raise BadRequest("safetensors adapters are not supported by pyollama; convert it to GGUF")
        from pyollama.convert import ERR_NO_NUMPY, numpy_available

        if not numpy_available():
            raise BadRequest(ERR_NO_NUMPY)
        yield {"status": "converting model"}
        digest, created = await self._thread(convert_blobs, self.store, files)
        gl = await self._gguf_layer(digest, MEDIA_MODEL)
        gl.layer.status = _layer_status(created, digest)
        yield gl
        for extra in await self._detect_template(gl):
            yield extra

    async def _detect_template(self, gl: _GGUFLayer) -> list[_GGUFLayer]:
        if self.template_detector is None or gl.info is None or not gl.info.chat_template:
            return []
        found = self.template_detector(gl.info.chat_template)
        if found is None:
            return []
        tname, text, params = found
        out = []
        d, n, created = await self._thread(self.store.write_blob_bytes, text.encode())
        status = f"using autodetected template {tname}"
        out.append(_GGUFLayer(Layer(MEDIA_TEMPLATE, d, n, status=status), None))
        if params:
            data = go_json.encode_line(go_json.sorted_map(params))
            d, n, created = await self._thread(self.store.write_blob_bytes, data)
            out.append(_GGUFLayer(Layer(MEDIA_PARAMS, d, n, status=_layer_status(created, d)), None))
        return out

    async def _from_model(self, from_name: ModelName) -> AsyncIterator[Status | _GGUFLayer]:
        try:
            m = self.store.read_manifest(from_name)
        except ManifestNotFound:
            if self.pull is None:
                raise ModelNotFound(f"model '{from_name.display_shortest()}' not found") from None
            async for st in self.pull(from_name):
                yield st
            m = self.store.read_manifest(from_name)
        src = from_name.display_shortest()
        for layer in m.layers:
            size = self.store.blob_size(layer.digest)
            new = Layer(
                layer.media_type,
                layer.digest,
                size,
                from_=src,
                name=layer.name,
                status=_layer_status(False, layer.digest),
            )
            info = None
            if layer.media_type in (MEDIA_MODEL, MEDIA_PROJECTOR, MEDIA_ADAPTER, MEDIA_DRAFT):
                info = await self._thread(self.read_gguf, self.store.blob_path(layer.digest))
            yield _GGUFLayer(new, info)
        if m.config.digest:
            try:
                base = json.loads(self.store.read_blob(m.config.digest))
            except (ValueError, OSError):
                base = {}
            for k in ("renderer", "parser", "requires"):
                if not self.config.get(k) and base.get(k):
                    self.config[k] = base[k]

    # --- quantization (Ollama's createModel / quantizeLayer) -----------------------------------

    def _quantize_type(self, gl: _GGUFLayer) -> tuple[str, str] | None:
        """(requested name, llama.cpp type) when this layer is to be re-quantized, None to keep it;
        raises Ollama's errors for a type or a source it cannot quantize."""
        r = self.req
        if gl.layer.media_type == MEDIA_MODEL:
            asked = str(r.get("quantize") or r.get("quantization") or "").upper()
        elif gl.layer.media_type == MEDIA_DRAFT:
            asked = str(r.get("draft_quantize") or "").upper()
        else:
            return None
        if not asked or gl.info is None:
            return None
        want = parse_file_type(asked)
        ft = gl.info.file_type
        if gl.layer.media_type == MEDIA_DRAFT and ft not in UNQUANTIZED:
            raise BadRequest(f"draft quantization requires an unquantized draft model, got {ft}")
        if ft not in UNQUANTIZED:
            raise BadRequest(ERR_QUANTIZE)
        return None if ft == want else (asked, want)

    async def _quantized(
        self, gl: _GGUFLayer, asked: str, want: str
    ) -> AsyncGenerator[Status | _GGUFLayer, None]:
        """The layer re-written as `want` (Ollama's rewriteLayerWithLlamaQuantize): its progress
        statuses, "verifying conversion", then the new layer. The temp file never outlives this."""
        assert gl.info is not None
        src = self.store.blob_path(gl.layer.digest)
        tmp = self.store.temp_blob_path()
        size = gl.layer.size
        status = f"quantizing {gl.info.file_type} model to {asked}"
        try:
            progress = self.quantize(src, tmp, want, gl.info.architecture)
            async with contextlib.aclosing(progress):
                async for share in progress:
                    done = int(f32(share * f32(float(size))))
                    line: Status = {"status": status, "digest": QUANTIZE_DIGEST, "total": size}
                    if done:
                        line["completed"] = done
                    yield line
            yield {"status": "verifying conversion"}
            digest, n, created = await self._thread(self.store.adopt_blob_file, tmp)
        finally:
            tmp.unlink(missing_ok=True)
        path = self.store.blob_path(digest)
        info: GGUFInfo = await self._thread(self.read_gguf, path)
        layer = Layer(gl.layer.media_type, digest, n, status=_layer_status(created, digest))
        yield _GGUFLayer(layer, info)

    # --- the layers the request itself adds ----------------------------------------------------

    async def _text_layer(self, layers: list[Layer], media: str, text: str, replace: bool) -> None:
        if replace:
            layers[:] = [x for x in layers if x.media_type != media]
        d, n, created = await self._thread(self.store.write_blob_bytes, text.encode())
        layers.append(Layer(media, d, n, status=_layer_status(created, d)))

    async def _set_parameters(self, layers: list[Layer], params: dict[str, Any] | None) -> None:
        p: dict[str, Any] = {}
        for k, v in (params or {}).items():
            if k not in OPTIONS:
                raise BadRequest(f"unknown parameter '{k}'")
            try:
                checked = check_option(k, v)
            except Exception as e:
                raise BadRequest(str(e)) from None
            if checked is not None:
                p[k] = v if not isinstance(v, list) else list(v)
        for layer in layers:
            if layer.media_type != MEDIA_PARAMS:
                continue
            existing = json.loads(self.store.read_blob(layer.digest))
            for k, v in (existing or {}).items():
                p.setdefault(k, v)
        if not p:
            return
        layers[:] = [x for x in layers if x.media_type != MEDIA_PARAMS]
        data = go_json.encode_line(go_json.sorted_map(p))
        d, n, created = await self._thread(self.store.write_blob_bytes, data)
        layers.append(Layer(MEDIA_PARAMS, d, n, status=_layer_status(created, d)))

    async def _set_messages(self, layers: list[Layer], messages: Any) -> None:
        if not messages:
            return  # an empty list keeps the base model's messages (Ollama's rule)
        if not isinstance(messages, list):
            raise BadRequest("messages must be an array")
        out = []
        for msg in messages:
            if (
                not isinstance(msg, dict)
                or not isinstance(msg.get("role", ""), str)
                or not isinstance(msg.get("content", ""), str)
            ):
                raise BadRequest("invalid message")
            m: dict[str, Any] = {"role": msg.get("role", ""), "content": msg.get("content", "")}
            for k in ("thinking", "images", "tool_calls", "tool_name"):
                if msg.get(k):
                    m[k] = msg[k]
            out.append(m)
        layers[:] = [x for x in layers if x.media_type != MEDIA_MESSAGES]
        d, n, created = await self._thread(self.store.write_blob_bytes, go_json.encode_line(out))
        layers.append(Layer(MEDIA_MESSAGES, d, n, status=_layer_status(created, d)))

    # --- the whole thing -----------------------------------------------------------------------

    async def run(self) -> AsyncIterator[Status]:
        r = self.req
        name = self._validate()
        try:
            old = self.store.read_manifest(name)
        except ManifestNotFound:
            old = None
        self.config: dict[str, Any] = {}
        for k in ("renderer", "parser", "requires"):
            if r.get(k):
                self.config[k] = str(r[k])

        base: list[_GGUFLayer] = []
        if r.get("from"):
            from_name = ModelName.try_parse(str(r["from"]))
            if from_name is None:
                raise BadRequest(INVALID_NAME)
            async for item in self._from_model(from_name):
                if isinstance(item, _GGUFLayer):
                    base.append(item)
                else:
                    yield item
        elif r.get("files") is not None:
            async for item in self._from_files(dict(r["files"]), adapter=False):
                if isinstance(item, _GGUFLayer):
                    base.append(item)
                else:
                    yield item
        else:
            raise BadRequest(ERR_NEITHER)

        # Ollama's order: the draft's files are parsed before the adapters', and both layers
        # follow the base ones (adapters first)
        drafts: list[_GGUFLayer] = []
        if r.get("draft_files") is not None:
            async for item in self._from_files(dict(r["draft_files"]), adapter=False, media_type=MEDIA_DRAFT):
                if isinstance(item, _GGUFLayer):
                    drafts.append(item)
                else:
                    yield item
        if r.get("adapters") is not None:
            async for item in self._from_files(dict(r["adapters"]), adapter=True):
                if isinstance(item, _GGUFLayer):
                    base.append(item)
                else:
                    yield item
        base += drafts

        fmt = family = model_type = file_type = ""
        families: list[str] = []
        model_info: GGUFInfo | None = None
        draft_info: GGUFInfo | None = None
        has_projector = False
        for i, gl in enumerate(base):
            if gl.info is None:
                continue
            quantize = self._quantize_type(gl)
            if quantize is not None:
                # closed with us: a client that leaves stops the quantizer at once
                async with contextlib.aclosing(self._quantized(gl, *quantize)) as items:
                    async for item in items:
                        if isinstance(item, _GGUFLayer):
                            base[i] = gl = item
                        else:
                            yield item
            header = gl.info
            assert header is not None
            if gl.layer.media_type == MEDIA_PROJECTOR:
                has_projector = True
            if gl.layer.media_type == MEDIA_DRAFT:
                draft_info = header
            if gl.layer.media_type != MEDIA_MODEL:
                continue  # projectors and adapters never describe the model (Ollama's createModel)
            if model_info is None:
                model_info = header
            fmt = fmt or "gguf"
            family = family or header.architecture
            model_type = model_type or human_number(header.parameter_count)
            file_type = file_type or (header.file_type or "unknown")
            families.append(header.architecture)
        layers = [gl.layer for gl in base]

        if r.get("template"):
            tmpl = str(r["template"])
            self.template_check(tmpl)
            await self._text_layer(layers, MEDIA_TEMPLATE, tmpl, replace=True)
        if r.get("system"):
            await self._text_layer(layers, MEDIA_SYSTEM, str(r["system"]), replace=True)
        lic = r.get("license")
        if lic:
            for text in [lic] if isinstance(lic, str) else list(lic):
                if not isinstance(text, str):
                    raise BadRequest("license must be a string or an array of strings")
                if text:
                    await self._text_layer(layers, MEDIA_LICENSE, text, replace=False)
        await self._set_parameters(layers, r.get("parameters"))
        await self._set_messages(layers, r.get("messages"))

        # config blob (ConfigV2), key order as Go's struct
        template_text = None
        for layer in layers:
            if layer.media_type == MEDIA_TEMPLATE:
                template_text = self.store.read_blob(layer.digest).decode("utf-8", "replace")
        raw_info = r.get("info")
        info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        cfg: dict[str, Any] = {
            "model_format": fmt,
            "model_family": family,
            "model_families": families or None,
            "model_type": model_type,
            "file_type": file_type,
        }
        for k in ("renderer", "parser", "requires"):
            if self.config.get(k):
                cfg[k] = self.config[k]
        # what show and run will decide for this model, from the config written so far
        caps = model_prompt_setup(
            cfg, go_template=template_text, gguf=model_info, has_projector=has_projector
        ).capabilities
        caps_out = list(info.get("capabilities") or caps)
        if caps_out:
            cfg["capabilities"] = caps_out
        ctx = int(info.get("context_length") or (model_info.context_length if model_info else 0))
        emb = int(info.get("embedding_length") or (model_info.embedding_length if model_info else 0))
        if ctx:
            cfg["context_length"] = ctx
        if emb:
            cfg["embedding_length"] = emb
        if draft_info is not None:  # ConfigV2.Draft
            cfg["draft"] = {"model_format": "gguf", "architecture": draft_info.architecture}
        cfg["architecture"] = "amd64"
        cfg["os"] = "linux"
        cfg["rootfs"] = {"type": "layers", "diff_ids": [x.digest for x in layers]}
        cd, cn, _ = await self._thread(self.store.write_blob_bytes, go_json.encode_line(cfg))
        config_layer = Layer(MEDIA_CONFIG, cd, cn)

        for layer in layers:
            if layer.status:
                yield {"status": layer.status}
        yield {"status": "writing manifest"}
        await self._thread(self.store.write_manifest, name, config_layer, layers)
        if old is not None and not self.noprune:
            await self._thread(self.store.remove_unreferenced, old.digests())
        yield {"status": "success"}


def convert_blobs(store: Store, files: dict[str, str]) -> tuple[str, bool]:
    """Convert the safetensors model whose files are the blobs `files` (relative name -> digest);
    returns the GGUF blob's digest and whether it is new. Blocking: run it in a thread."""
    import shutil
    import tempfile
    from pathlib import Path

    from pyollama.convert import convert_model
    from pyollama.store.files import TMP_PREFIX

    store.root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}safetensors-", dir=store.root))
    try:
        for rel, digest in files.items():
            if not valid_rel_path(rel):
                raise BadRequest(f"{ERR_FILE_PATH}: {rel}")
            blob = store.blob_path(digest)
            if not blob.is_file():
                raise BlobNotFound(normalize_digest(digest))
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(blob, target)
        w = store.blob_writer()
        try:
            convert_model(folder, w)  # type: ignore[arg-type]  # BlobWriter has the write() it needs
            created = w.commit()
        except BaseException:
            w.abort()
            raise
        return w.digest, created
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def create_model(
    store: Store,
    request: dict[str, Any],
    *,
    read_gguf: GGUFReader = read_gguf_info,
    pull: PullFn | None = None,
    template_check: TemplateCheck = default_template_check,
    template_detector: TemplateDetector | None = None,
    noprune: bool = False,
    quantize: Quantizer = ollama_quantize,
) -> AsyncIterator[Status]:
    """Run an `/api/create` request body; yields `{"status": ...}` dicts, raises `PyollamaError`.

    Errors raised before the first yield should become an HTTP error status; later ones a final
    `{"error": ...}` line (see `pyollama.errors`).
    """
    return Creator(
        store,
        request,
        read_gguf=read_gguf,
        pull=pull,
        template_check=template_check,
        template_detector=template_detector,
        noprune=noprune,
        quantize=quantize,
    ).run()


async def collect(gen: AsyncIterator[Status]) -> list[Status]:
    return [s async for s in gen]
