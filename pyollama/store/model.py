"""A stored model, read from its manifest (Ollama's `GetModel`): what show and run need."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass
class LocalModel:
    name: ModelName
    manifest: Manifest
    config: dict[str, Any] = field(default_factory=dict)  # the ConfigV2 blob
    model_path: Path | None = None
    parent_model: str = ""
    adapter_paths: list[Path] = field(default_factory=list)
    projector_paths: list[Path] = field(default_factory=list)
    draft_path: Path | None = None
    template: str | None = None  # Go TEMPLATE layer text; None when the model has none
    system: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # params layer
    messages: list[dict[str, Any]] = field(default_factory=list)
    license: list[str] = field(default_factory=list)

    @property
    def short_name(self) -> str:
        return self.name.display_shortest()


def load_model(store: Store, name: ModelName) -> LocalModel:
    """Read a model's manifest and small layers; raises `ManifestNotFound`."""
    m = store.read_manifest(name)
    assert m.name is not None
    lm = LocalModel(name=m.name, manifest=m)
    if m.config.digest:
        try:
            cfg = json.loads(store.read_blob(m.config.digest))
            if isinstance(cfg, dict):
                lm.config = cfg
        except (ValueError, OSError):
            pass
    for layer in m.layers:
        path = store.blob_path(layer.digest)
        mt = layer.media_type
        if mt == MEDIA_MODEL:
            lm.model_path = path
            lm.parent_model = layer.from_
        elif mt == MEDIA_ADAPTER:
            lm.adapter_paths.append(path)
        elif mt == MEDIA_PROJECTOR:
            lm.projector_paths.append(path)
        elif mt == MEDIA_DRAFT:
            lm.draft_path = path
        elif mt in (MEDIA_TEMPLATE, MEDIA_PROMPT):
            lm.template = store.read_blob(layer.digest).decode("utf-8", "replace")
        elif mt == MEDIA_SYSTEM:
            lm.system = store.read_blob(layer.digest).decode("utf-8", "replace")
        elif mt == MEDIA_PARAMS:
            opts = json.loads(store.read_blob(layer.digest))
            if isinstance(opts, dict):
                lm.options = opts
        elif mt == MEDIA_MESSAGES:
            msgs = json.loads(store.read_blob(layer.digest))
            if isinstance(msgs, list):
                lm.messages = [x for x in msgs if isinstance(x, dict)]
        elif mt == MEDIA_LICENSE:
            lm.license.append(store.read_blob(layer.digest).decode("utf-8", "replace"))
    return lm
