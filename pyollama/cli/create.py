"""`pyollama create`: a Modelfile on the client side becomes blob uploads plus one `/api/create`.

As in Ollama, the client reads the files (the server may be another machine): FROM/ADAPTER paths
resolve relative to the Modelfile, files are hashed, uploaded unless `HEAD /api/blobs` already
knows them, and referenced by digest in `files`/`adapters`.
"""

from __future__ import annotations

import codecs
import fnmatch
import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from pyollama.cli.params import format_params
from pyollama.errors import BadRequest

COMMANDS = (
    "from",
    "license",
    "template",
    "system",
    "adapter",
    "draft",
    "renderer",
    "parser",
    "parameter",
    "message",
    "requires",
)
_COMMAND_ERROR = (
    'command must be one of "from", "license", "template", "system", "adapter", "draft", "renderer", '
    '"parser", "parameter", "message", or "requires"'
)
_ROLES = ("system", "user", "assistant")


class ModelfileError(BadRequest):
    """The Modelfile does not parse (message as Ollama's parser words it)."""


class Command(Protocol):
    name: str
    args: str


def _store_parser() -> Callable[[str], Any] | None:
    """The store's Modelfile parser when it is there (shared syntax, one implementation)."""
    try:
        from pyollama.store import modelfile as mf  # lazy: the store may not be installed yet
    except ImportError:
        return None
    for attr in ("parse_modelfile", "parse"):
        fn = getattr(mf, attr, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    return None


def _normalize(parsed: Any) -> list[tuple[str, str]]:
    """Accept the store parser's result shapes: `.commands` of (name, args) objects or tuples."""
    items: Iterable[Any] = getattr(parsed, "commands", parsed)
    out: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, tuple):
            name, args = item[0], item[1]
        else:
            name, args = item.name, item.args
        name = str(name).lower()
        if name == "model":
            out.append(("from", str(args)))
        elif name in COMMANDS:
            out.append((name, str(args)))
        else:  # the store names PARAMETER commands after the parameter
            out.append(("parameter", f"{name} {args}"))
    return out


def _unquote(value: str, lineno: int) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1]
    if v.startswith('"') and not v.startswith('"""'):
        raise ModelfileError(f"(line {lineno}): unterminated quote")
    return v


def parse_modelfile_text(text: str) -> list[tuple[str, str]]:
    """Modelfile text to `(command, args)` pairs; `parameter` args are `name value`."""
    store = _store_parser()
    if store is not None:
        try:
            return _normalize(store(text))
        except BadRequest:
            raise
        except ValueError as exc:
            raise ModelfileError(str(exc)) from exc
    return _fallback_parse(text)


def _fallback_parse(text: str) -> list[tuple[str, str]]:
    """Minimal Ollama-syntax parser used only until `pyollama.store.modelfile` exists."""
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        name = parts[0].lower()
        rest = parts[1] if len(parts) > 1 else ""
        if name not in COMMANDS:
            raise ModelfileError(f"(line {lineno}): {_COMMAND_ERROR}")
        if name == "parameter":
            pname, _, pval = rest.strip().partition(" ")
            rest = pval.strip()
            prefix = pname.lower() + " "
        elif name == "message":
            role, _, msg = rest.strip().partition(" ")
            if role.lower() not in _ROLES:
                raise ModelfileError(f'(line {lineno}): role must be one of "system", "user", or "assistant"')
            rest = msg.strip()
            prefix = role.lower() + ": "
        else:
            prefix = ""
        if rest.startswith('"""'):
            body = rest[3:]
            if body.endswith('"""') and len(body) >= 3:
                value = body[:-3]
            else:
                chunks = [body]
                while True:
                    if i >= len(lines):
                        raise ModelfileError(f"(line {lineno}): unterminated multiline string")
                    nxt = lines[i]
                    i += 1
                    if nxt.rstrip().endswith('"""'):
                        chunks.append(nxt.rstrip()[:-3])
                        break
                    chunks.append(nxt)
                value = "\n".join(chunks)
        else:
            value = _unquote(rest, lineno)
        if not value and name != "parameter":
            raise ModelfileError(f"(line {lineno}): missing value for [{name}]")
        out.append((name, prefix + value))
    if not any(n == "from" for n, _ in out):
        raise ModelfileError("no FROM line")
    return out


def resolve_path(arg: str, base: Path) -> Path:
    """A FROM/ADAPTER argument as a path: `~` expanded, relative to the Modelfile's folder."""
    p = Path(os.path.expanduser(arg))
    return p if p.is_absolute() else base / p


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


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


def plan_create(model: str, commands: list[tuple[str, str]], base: Path) -> CreatePlan:
    """Map Modelfile commands onto a create request (uploads pending in `files`/`adapters`)."""
    plan = CreatePlan()
    req = plan.request
    req["model"] = model
    params: list[tuple[str, str]] = []
    licenses: list[str] = []
    messages: list[dict[str, str]] = []
    for name, args in commands:
        if name == "from":
            p = resolve_path(args, base)
            if p.exists():
                plan.files.update(model_files(p))
            else:
                req["from"] = args
        elif name == "adapter":
            p = resolve_path(args, base)
            if not p.exists():
                raise ModelfileError(f"adapter {args!r}: no such file or directory")
            plan.adapters.update(model_files(p))
        elif name == "draft":
            p = resolve_path(args, base)
            if not p.exists():
                raise ModelfileError(f"draft {args!r}: no such file or directory")
            plan.drafts.update(model_files(p))
        elif name in ("template", "system", "renderer", "parser", "requires"):
            req[name] = args
        elif name == "license":
            licenses.append(args)
        elif name == "message":
            role, _, content = args.partition(": ")
            messages.append({"role": role, "content": content})
        else:
            pname, _, pval = args.partition(" ")
            params.append((pname.strip().lower(), pval.strip()))
    if params:
        try:
            req["parameters"] = format_params(params)
        except ValueError as exc:
            raise ModelfileError(str(exc)) from exc
    if licenses:
        req["license"] = licenses if len(licenses) > 1 else licenses[0]
    if messages:
        req["messages"] = messages
    return plan


def read_modelfile(path: Path | None) -> tuple[str, Path]:
    """The Modelfile text and its folder; no `-f` and no `./Modelfile` means `FROM .`."""
    if path is None:
        default = Path("Modelfile")
        if not default.exists():
            return "FROM .", Path.cwd()
        path = default
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelfileError(f"open {path}: {exc.strerror or exc}") from exc
    return decode_modelfile(data), path.resolve().parent


def decode_modelfile(data: bytes) -> str:
    """Bytes to text as Ollama reads them: UTF-16 when a BOM says so, else UTF-8 with bad bytes
    replaced (its `BOMOverride(UTF8.NewDecoder())`), so odd encodings never abort the parse."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")
