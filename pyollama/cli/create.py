"""`pyollama create`: a Modelfile on the client side becomes blob uploads plus one `/api/create`.

As in Ollama, the client reads the files (the server may be another machine): FROM/ADAPTER/DRAFT
paths resolve relative to the Modelfile, files are hashed, uploaded unless `HEAD /api/blobs`
already knows them, and referenced by digest in `files`/`adapters`/`draft_files`. Parsing and the
rest of the request are the store's (`pyollama.store.modelfile`), so `create` and `/api/create`
never disagree about what a Modelfile means.
"""

from __future__ import annotations

import codecs
import fnmatch
import os
from pathlib import Path
from typing import Any

from pyollama.store.modelfile import Modelfile, ModelfileError, parse
from pyollama.store.store import file_digest

__all__ = [
    "ERR_MODELFILE_NOT_FOUND",
    "ERR_NO_MODEL_FILES",
    "CreatePlan",
    "ModelfileError",
    "decode_modelfile",
    "file_digest",
    "model_files",
    "parse",
    "plan_create",
    "read_modelfile",
    "resolve_path",
]

ERR_MODELFILE_NOT_FOUND = "specified Modelfile wasn't found"


def resolve_path(arg: str, base: Path) -> Path:
    """A FROM/ADAPTER/DRAFT argument as an absolute path (Ollama's `expandPath`): `~` and `~user`
    expanded, anything else relative to the Modelfile's folder."""
    return Path(os.path.abspath(os.path.join(base, os.path.expanduser(arg))))


# Weight files of a model folder, most specific first: the first pattern that matches wins.
_WEIGHTS = (
    "model*.safetensors",
    "consolidated*.safetensors",
    "pytorch_model*.bin",
    "consolidated*.pth",
    "*.gguf",
    "*.bin",
)
ERR_NO_MODEL_FILES = "no Modelfile or safetensors files found"


def _glob(folder: Path, pattern: str) -> list[Path]:
    """Go's `filepath.Glob` for one `dir/pattern` or `dir/*/pattern`: sorted, case-sensitive."""
    head, _, name = pattern.rpartition("/")
    dirs = [folder]
    if head == "*":
        dirs = [d for d in _sorted_entries(folder) if d.is_dir()]
    return [p for d in dirs for p in _sorted_entries(d) if fnmatch.fnmatchcase(p.name, name)]


def _sorted_entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _files_for_model(folder: Path) -> list[Path]:
    """The files Ollama's `filesForModel` sends from a model folder (weights must be at the top)."""
    files: list[Path] = []
    for pattern in _WEIGHTS:
        found = [p for p in _glob(folder, pattern) if p.is_file()]
        if found:
            files += found
            if pattern == "model*.safetensors":  # sharded checkpoints may keep parts one level down
                files += [p for p in _glob(folder, "*/model*.safetensors") if p.is_file()]
            break
    else:
        raise ModelfileError(ERR_NO_MODEL_FILES)
    files += _glob(folder, "*.json") + _glob(folder, "*/*.json")  # nested: BERT's config.json
    files += _glob(folder, "chat_template.jinja")
    files += _glob(folder, "tokenizer.model") or _glob(folder, "*/tokenizer.model")
    return [p for p in files if p.is_file()]


def model_files(path: Path) -> dict[str, Path]:
    """Relative names the server will see, to local files (one file, or a model directory)."""
    if not path.is_dir():
        return {path.name: path}
    root = path.resolve()
    files: dict[str, Path] = {}
    for p in _files_for_model(path):
        rel = p.relative_to(path).as_posix()
        if not p.resolve().is_relative_to(root):  # a link out of the folder (a Hugging Face cache)
            hint = (
                "\n\nUse --local-dir <dir> when downloading model to disable caching"
                if ".cache" in str(p.resolve())
                else ""
            )
            raise ModelfileError(f"insecure path: {rel}{hint}")
        files[rel] = p
    return files


class CreatePlan:
    """What `/api/create` needs, with the local files still to hash and upload."""

    def __init__(self) -> None:
        self.request: dict[str, Any] = {}
        self.files: dict[str, Path] = {}
        self.adapters: dict[str, Path] = {}
        self.drafts: dict[str, Path] = {}
        self.warnings: list[str] = []


def _local_files(path: Path, *, required: bool) -> dict[str, Path] | None:
    """`model_files(path)`, or None for a path that does not exist (FROM then names a model)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        if required:
            raise ModelfileError(f"stat {path}: no such file or directory") from None
        return None
    return model_files(path)


def plan_create(model: str, modelfile: Modelfile, base: Path) -> CreatePlan:
    """The create request for `modelfile` (from the store), local paths found relative to `base`."""
    fields, warnings = modelfile.to_create_request()
    plan = CreatePlan()
    plan.warnings = warnings
    models: list[Path] = []
    for arg in fields.pop("from", []):
        path = resolve_path(arg, base)
        files = _local_files(path, required=False)
        if files is None:
            plan.request["from"] = arg
        else:
            models.append(path)
            plan.files.update(files)
    for arg in fields.pop("draft", []):
        path = resolve_path(arg, base)
        files = _local_files(path, required=True) or {}
        if any(_same_file(path, m) for m in models):
            raise ModelfileError(f"DRAFT must not reference the same local path as FROM: {path}")
        plan.drafts.update(files)
    for arg in fields.pop("adapters", []):  # the last ADAPTER wins, as in Ollama
        plan.adapters = _local_files(resolve_path(arg, base), required=True) or {}
    plan.request.update(fields)
    plan.request["model"] = model
    return plan


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def read_modelfile(path: Path | None) -> tuple[str, Path]:
    """The Modelfile text and its folder; no `-f` and no `./Modelfile` means `FROM .`."""
    if path is None:
        default = Path("Modelfile")
        if not default.exists():
            return "FROM .\n", Path.cwd()
        path = default
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise ModelfileError(ERR_MODELFILE_NOT_FOUND) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ModelfileError(f"open {path.absolute()}: {reason[:1].lower()}{reason[1:]}") from exc
    return decode_modelfile(data), path.absolute().parent


def decode_modelfile(data: bytes) -> str:
    """Bytes to text as Ollama reads them: UTF-16 when a BOM says so, else UTF-8 with bad bytes
    replaced (its `BOMOverride(UTF8.NewDecoder())`), so odd encodings never abort the parse."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")
