"""Ollama's model names: `[host/][namespace/]model[:tag]` (types/model/name.go).

Every name is validated part by part *before* it is turned into a path, so a name can never
address anything outside `manifests/`: the allowed characters exclude `/`, `\\`, NUL and
whitespace, a part must start with a letter, digit or `_` (so never `.` or `..`), and the
lengths are capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from pyollama.errors import BadRequest

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
DEFAULT_SCHEME = "https"

INVALID_NAME = "invalid model name"

_MISSING = "!MISSING!"  # an empty part that was promised by a separator (`a/`, `m:`)
_MAX_LEN = {"host": 350, "namespace": 80, "model": 80, "tag": 80}
_ALNUM_ = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class InvalidName(BadRequest):
    """A name that does not follow Ollama's grammar (message `invalid model name`)."""

    def __init__(self, message: str = INVALID_NAME) -> None:
        super().__init__(message)


def is_valid_part(kind: str, s: str) -> bool:
    """Ollama's per-part rule; `kind` is one of host, namespace, model, tag."""
    if not 1 <= len(s) <= _MAX_LEN[kind]:
        return False
    if s[0] not in _ALNUM_:
        return False
    if ".." in s:  # stricter than Ollama: never a traversal-looking component
        return False
    for c in s[1:]:
        if c in _ALNUM_ or c in "-_":
            continue
        if c == "." and kind != "namespace":
            continue
        if c == ":" and kind == "host":
            continue
        return False
    return True


def _cut_promised(s: str, sep: str) -> tuple[str, str, bool]:
    i = s.rfind(sep)
    if i < 0:
        return s, "", False
    return s[:i] or _MISSING, s[i + len(sep) :] or _MISSING, True


@dataclass(frozen=True)
class ModelName:
    """A fully qualified model name; parts keep their case, comparisons ignore it."""

    host: str
    namespace: str
    model: str
    tag: str
    scheme: str = DEFAULT_SCHEME

    # --- construction ------------------------------------------------------------------------

    @classmethod
    def parse_bare(cls, s: str) -> ModelName:
        """Split without defaults or validation (empty string = absent part)."""
        host = namespace = tag = ""
        scheme = DEFAULT_SCHEME
        if s.rfind(":") > s.rfind("/"):
            s, tag, _ = _cut_promised(s, ":")
        s, model, promised = _cut_promised(s, "/")
        if not promised:
            return cls("", "", s, tag, scheme)
        s, namespace, promised = _cut_promised(s, "/")
        if not promised:
            return cls("", s, model, tag, scheme)
        if "://" in s:
            scheme, _, host = s.partition("://")
        else:
            host = s
        return cls(host, namespace, model, tag, scheme)

    @classmethod
    def parse(cls, s: str) -> ModelName:
        """Parse and fill defaults; raises `InvalidName` unless every part is valid."""
        if not isinstance(s, str) or not s or len(s) > 700:
            raise InvalidName()
        bare = cls.parse_bare(s)
        name = cls(
            bare.host or DEFAULT_HOST,
            bare.namespace or DEFAULT_NAMESPACE,
            bare.model,
            bare.tag or DEFAULT_TAG,
            bare.scheme or DEFAULT_SCHEME,
        )
        if not name.is_valid():
            raise InvalidName()
        return name

    @classmethod
    def try_parse(cls, s: str) -> ModelName | None:
        try:
            return cls.parse(s)
        except InvalidName:
            return None

    @classmethod
    def from_relpath(cls, rel: str | PurePosixPath) -> ModelName | None:
        """The name stored at `manifests/<rel>`, or None when `rel` is not a valid name path."""
        parts = PurePosixPath(rel).parts
        if len(parts) != 4:
            return None
        name = cls(*parts)
        return name if name.is_valid() else None

    # --- predicates ----------------------------------------------------------------------------

    def is_valid(self) -> bool:
        return (
            is_valid_part("host", self.host)
            and is_valid_part("namespace", self.namespace)
            and is_valid_part("model", self.model)
            and is_valid_part("tag", self.tag)
        )

    def key(self) -> tuple[str, str, str, str]:
        """Case-folded identity (Ollama matches local models case-insensitively)."""
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())

    def equal_fold(self, other: ModelName) -> bool:
        return self.key() == other.key()

    # --- rendering -----------------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    def display_shortest(self) -> str:
        """Omit the default host and `library/`; the tag is always shown."""
        if self.host.lower() != DEFAULT_HOST:
            prefix = f"{self.host}/{self.namespace}/"
        elif self.namespace.lower() != DEFAULT_NAMESPACE:
            prefix = f"{self.namespace}/"
        else:
            prefix = ""
        return f"{prefix}{self.model}:{self.tag}"

    def relpath(self) -> PurePosixPath:
        """`<host>/<namespace>/<model>/<tag>` relative to `manifests/` (validated again here)."""
        if not self.is_valid():
            raise InvalidName()
        return PurePosixPath(self.host, self.namespace, self.model, self.tag)


def parse_name(s: str) -> ModelName:
    """Shorthand for `ModelName.parse`."""
    return ModelName.parse(s)
