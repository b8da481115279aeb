"""Ollama-compatible model store: names, manifests and blobs, Modelfiles, create/show/list/copy/delete.

A store written by Ollama can be read here and the other way round (same layout, same JSON bytes).
The store answers with domain values (`pyollama.store.model` says which type is for what); the
daemon turns them into Ollama's replies.
"""

from __future__ import annotations

from pyollama.store.create import create_model
from pyollama.store.model import LocalModel, ModelDescription, ModelDetails, ModelSummary, load_model
from pyollama.store.modelfile import Command, Modelfile, ModelfileError
from pyollama.store.modelfile import parse as parse_modelfile
from pyollama.store.names import InvalidName, ModelName, parse_name
from pyollama.store.show import copy_model, delete_model, describe_model, list_models, show_model
from pyollama.store.store import (
    BlobNotFound,
    DigestMismatch,
    InvalidDigest,
    Layer,
    Manifest,
    ManifestNotFound,
    Store,
    normalize_digest,
)

__all__ = [
    "BlobNotFound",
    "Command",
    "DigestMismatch",
    "InvalidDigest",
    "InvalidName",
    "Layer",
    "LocalModel",
    "Manifest",
    "ManifestNotFound",
    "ModelDescription",
    "ModelDetails",
    "ModelName",
    "ModelSummary",
    "Modelfile",
    "ModelfileError",
    "Store",
    "copy_model",
    "create_model",
    "delete_model",
    "describe_model",
    "list_models",
    "load_model",
    "normalize_digest",
    "parse_modelfile",
    "parse_name",
    "show_model",
]
