"""Ollama's registry auth: an ed25519 key of one's own and a signed token request.

On a 401 the registry names a token endpoint (`WWW-Authenticate: Bearer realm=..,service=..,scope=..`).
Ollama asks it for a token with `Authorization: <ssh public key>:<signature>` where the signature
covers `GET,<token url>,<base64(hex(sha256(empty body)))>` (server/auth.go, auth/auth.go). The key is
Ollama's `~/.ollama/id_ed25519` format (OpenSSH), created on first use.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

import platformdirs

from pyollama.registry.types import RegistryError

# cryptography costs ~8 MiB resident: imported on the first pull or push, not at serve start
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_NAME = "id_ed25519"
_PARAM_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
EMPTY_BODY_HASH = base64.b64encode(hashlib.sha256(b"").hexdigest().encode()).decode()


def default_key_path() -> Path:
    """Where pyollama keeps its key (Ollama: `~/.ollama/id_ed25519`)."""
    return platformdirs.user_data_path("pyollama") / KEY_NAME


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """Read the OpenSSH private key at `path`, creating it (and `.pub`) when absent.

    Creation goes through a temp file and `os.link` so two processes racing here agree on one key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        priv = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        pub = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(priv)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
                path.with_name(path.name + ".pub").write_bytes(pub + b"\n")
        finally:
            tmp.unlink(missing_ok=True)
    try:
        key_obj = serialization.load_ssh_private_key(path.read_bytes(), password=None)
    except (ValueError, OSError) as exc:
        raise RegistryError(f"could not read key {path}: {exc}") from None
    if not isinstance(key_obj, Ed25519PrivateKey):
        raise RegistryError(f"{path} is not an ed25519 key")
    return key_obj


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The base64 field of the `ssh-ed25519 AAAA...` line (what Ollama puts before the colon)."""
    from cryptography.hazmat.primitives import serialization

    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return line.split()[1].decode()


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    """`<public key>:<base64 signature>`, Ollama's `auth.Sign`."""
    return f"{public_key_text(key)}:{base64.b64encode(key.sign(data)).decode()}"


@dataclass(frozen=True)
class Challenge:
    realm: str
    service: str
    scope: str


def parse_challenge(header: str) -> Challenge:
    """Parse `Bearer realm="..",service="..",scope=".."` (scope may hold commas inside quotes)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise RegistryError(f"unsupported authentication scheme {scheme!r}")
    values = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM_RE.finditer(rest)
    }
    realm = values.get("realm", "")
    if not realm:
        raise RegistryError("registry sent an auth challenge without a realm")
    return Challenge(realm=realm, service=values.get("service", ""), scope=values.get("scope", ""))


def _go_query_encode(pairs: list[tuple[str, str]]) -> str:
    """Go's `url.Values.Encode`: keys sorted, values in order, QueryEscape'd."""
    pairs = sorted(pairs, key=lambda kv: kv[0])  # stable: keeps each key's values in order
    return "&".join(f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in pairs)


def token_url(challenge: Challenge, *, now: float | None = None, nonce: str | None = None) -> str:
    """The realm URL with `service`, each `scope`, `ts` and `nonce` added, encoded as Go encodes it."""
    parts = urlsplit(challenge.realm)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RegistryError(f"invalid auth realm {challenge.realm!r}")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs.append(("service", challenge.service))
    pairs.extend(("scope", s) for s in challenge.scope.split(" "))
    pairs.append(("ts", str(int(time.time() if now is None else now))))
    pairs.append(("nonce", nonce or base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, _go_query_encode(pairs), ""))


def token_request_authorization(key: Ed25519PrivateKey, url: str) -> str:
    """The `Authorization` header value for `GET url` (the token request)."""
    return sign(key, f"GET,{url},{EMPTY_BODY_HASH}".encode())
