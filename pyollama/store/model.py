"""What the store says about a model, as typed values (no reply shapes: the server builds those).

Which type to use:

- `LocalModel`: a model's manifest and small layers, as stored (Ollama's `GetModel`); no GGUF read.
- `ModelDescription`: a `LocalModel` plus what its GGUF header and Ollama's rules make of it
  (prompt path, capabilities, details, show's Modelfile text). `describe_model` builds it; show
  and the daemon's resolved model (`pyollama.server.models.ModelInfo`) both start from it.
- `ModelSummary`: one row of the model list (manifest and config only).
- `ModelDetails`: format, family, size and quantization; carried by all of the above replies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from pyollama.gguf import GGUFInfo, TensorInfo
from pyollama.store.capabilities import PromptSetup
from pyollama.store.names import ModelName
from pyollama.store.store import (
    MEDIA_ADAPTER,
    MEDIA_DRAFT,
    MEDIA_LICENSE,
    MEDIA_MESSAGES,
    MEDIA_MODEL,
    MEDIA_PARAMS,
    MEDIA_PROJECTOR,
    MEDIA_PROMPT,
    MEDIA_SYSTEM,
    MEDIA_TEMPLATE,
    Manifest,
    Store,
)


class ModelDetails(msgspec.Struct, frozen=True, kw_only=True):
    """A model's format, family, size and quantization, from its config blob (Ollama's ConfigV2).

    The one details type: show, list, ps and the resolved model all carry it. Field order and
    omissions are Go's `api.ModelDetails`, so replies send it as it is: the lengths are written
    only when set (UNSET otherwise; Ollama's ps never sets them).
    """

    parent_model: str = ""
    format: str = ""
    family: str = ""
    families: list[str] | None = None
    parameter_size: str = ""
    quantization_level: str = ""
    context_length: int | msgspec.UnsetType = msgspec.UNSET
    embedding_length: int | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def from_config(
        cls, config: dict[str, Any], parent_model: str = "", *, lengths: bool = True
    ) -> ModelDetails:
        """The details a config blob records; `lengths` adds its context/embedding lengths."""
        ctx = config.get("context_length") if lengths else None
        emb = config.get("embedding_length") if lengths else None
        return cls(
            parent_model=parent_model,
            format=str(config.get("model_format", "") or ""),
            family=str(config.get("model_family", "") or ""),
            families=config.get("model_families"),
            parameter_size=str(config.get("model_type", "") or ""),
            quantization_level=str(config.get("file_type", "") or ""),
            context_length=ctx if ctx else msgspec.UNSET,
            embedding_length=emb if emb else msgspec.UNSET,
        )


@dataclass(frozen=True)
class LocalModel:
    """A stored model as its manifest and small layers say (Ollama's `GetModel`): what show and run
    need, with the layer blobs' paths rather than their contents for the large ones."""

    name: ModelName
    manifest: Manifest
    config: dict[str, Any] = field(default_factory=dict)  # the ConfigV2 blob ({}: missing, unreadable)
    model_path: Path | None = None
    parent_model: str = ""  # the weights layer's `from`
    adapter_paths: tuple[Path, ...] = ()
    projector_paths: tuple[Path, ...] = ()
    draft_path: Path | None = None
    template: str | None = None  # Go TEMPLATE layer text; None when the model has none
    system: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # the params layer
    messages: tuple[dict[str, Any], ...] = ()
    license: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        return self.name.display_shortest()

    def config_str(self, key: str) -> str:
        """A string field of the config ("" when absent or empty)."""
        return str(self.config.get(key) or "")


def load_model(store: Store, name: ModelName) -> LocalModel:
    """Read a model's manifest and small layers; raises `ManifestNotFound`."""
    m = store.read_manifest(name)
    assert m.name is not None
    config: dict[str, Any] = {}
    if m.config.digest:
        try:
            cfg = json.loads(store.read_blob(m.config.digest))
            if isinstance(cfg, dict):
                config = cfg
        except (ValueError, OSError):
            pass
    fields: dict[str, Any] = {}
    adapters: list[Path] = []
    projectors: list[Path] = []
    licenses: list[str] = []
    for layer in m.layers:
        path = store.blob_path(layer.digest)
        mt = layer.media_type
        if mt == MEDIA_MODEL:
            fields["model_path"] = path
            fields["parent_model"] = layer.from_
        elif mt == MEDIA_ADAPTER:
            adapters.append(path)
        elif mt == MEDIA_PROJECTOR:
            projectors.append(path)
        elif mt == MEDIA_DRAFT:
            fields["draft_path"] = path
        elif mt in (MEDIA_TEMPLATE, MEDIA_PROMPT):
            fields["template"] = store.read_blob(layer.digest).decode("utf-8", "replace")
        elif mt == MEDIA_SYSTEM:
            fields["system"] = store.read_blob(layer.digest).decode("utf-8", "replace")
        elif mt == MEDIA_PARAMS:
            opts = json.loads(store.read_blob(layer.digest))
            if isinstance(opts, dict):
                fields["options"] = opts
        elif mt == MEDIA_MESSAGES:
            msgs = json.loads(store.read_blob(layer.digest))
            if isinstance(msgs, list):
                fields["messages"] = tuple(x for x in msgs if isinstance(x, dict))
        elif mt == MEDIA_LICENSE:
            licenses.append(store.read_blob(layer.digest).decode("utf-8", "replace"))
    return LocalModel(
        name=m.name,
        manifest=m,
        config=config,
        adapter_paths=tuple(adapters),
        projector_paths=tuple(projectors),
        license=tuple(licenses),
        **fields,
    )


@dataclass(frozen=True)
class ModelDescription:
    """A model as show reports it and the daemon runs it: the stored model plus what its GGUF
    header and Ollama's rules make of it. Built only by `pyollama.store.show.describe_model`."""

    model: LocalModel  # the manifest and small layers (SYSTEM as the request overrode it, for show)
    gguf: GGUFInfo | None  # the weights' header (None: no weights layer, or not a readable GGUF)
    projector: GGUFInfo | None  # the first projector's header, when it has one that reads
    setup: PromptSetup  # who renders prompts, the renderer/parser in effect, capabilities
    capabilities: tuple[str, ...]  # what show reports (setup's, or the config's without a header)
    details: ModelDetails
    template: str  # the template that renders this model's prompts ("" none)
    modelfile: str  # `ollama show --modelfile` text
    parameters: str  # the PARAMETERs as show lists them ("" none)

    @property
    def name(self) -> ModelName:
        return self.model.name

    @property
    def system(self) -> str:
        return self.model.system

    @property
    def license(self) -> str:
        return "\n".join(self.model.license)

    @property
    def messages(self) -> tuple[dict[str, Any], ...]:
        return self.model.messages

    @property
    def tensors(self) -> list[TensorInfo]:
        return self.gguf.tensors if self.gguf is not None else []

    @property
    def renderer(self) -> str:
        """The RENDERER the config names (what show reports; `setup.renderer` is what runs)."""
        return self.model.config_str("renderer")

    @property
    def parser(self) -> str:
        """The PARSER the config names (`setup.parser` adds `harmony` for gpt-oss templates)."""
        return self.model.config_str("parser")

    @property
    def requires(self) -> str:
        return self.model.config_str("requires")

    @property
    def remote_model(self) -> str:
        return self.model.config_str("remote_model")

    @property
    def remote_host(self) -> str:
        return self.model.config_str("remote_host")

    @property
    def modified_ns(self) -> int:
        return self.model.manifest.mtime_ns


@dataclass(frozen=True)
class ModelSummary:
    """One row of the model list: a stored model from its manifest and config, no layer read."""

    name: ModelName
    size: int  # config plus every layer, as the manifest records them
    digest: str  # hex sha256 of the manifest file
    modified_ns: int  # the manifest's mtime
    details: ModelDetails
    remote_model: str = ""
    remote_host: str = ""
