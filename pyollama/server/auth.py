"""Opt-in API keys (`OLLAMA_API_KEYS`, `OLLAMA_API_KEYS_FILE`): what Ollama leaves to a proxy
(ollama#4888).

With keys configured, every request needs `Authorization: Bearer <key>` (what the `openai` SDK and
`ollama.Client(headers=...)` send) or `x-api-key: <key>` (the `anthropic` SDK), except `GET /` and
`HEAD /` (health checks) and the static chat page under `/ui` (a browser cannot attach a header to
a page load; the page asks for the key and sends it on every API call). Keys are compared in
constant time (SHA-256 digests through `hmac.compare_digest`, against every key without an early
exit), and are never logged: the access log has no headers, and `Settings.as_map` counts them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from pyollama.config import Settings
from pyollama.server.state import error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OPEN_PATHS = ("/",)  # GET and HEAD only
OPEN_PREFIXES = ("/ui",)  # static files; the API they call is guarded


class KeyFileError(ValueError):
    """The keys file cannot be read: the daemon refuses to start rather than run unguarded."""


def read_key_file(path: Path) -> tuple[str, ...]:
    """One key a line; blank lines and `#` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise KeyFileError(f"OLLAMA_API_KEYS_FILE {path}: {reason}") from None
    keys = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.append(line)
    return tuple(keys)


def configured_keys(settings: Settings) -> tuple[str, ...]:
    """The keys from the environment and the keys file (empty: authentication off)."""
    keys = list(settings.api_keys)
    if settings.api_keys_file is not None:
        keys.extend(read_key_file(settings.api_keys_file))
    return tuple(dict.fromkeys(keys))


class KeyRing:
    """Holds only the keys' digests; `check` takes the same time whichever key (if any) matches."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = tuple(hashlib.sha256(k.encode()).digest() for k in keys)

    def __bool__(self) -> bool:
        return bool(self._digests)

    def check(self, presented: str) -> bool:
        given = hashlib.sha256(presented.encode()).digest()
        ok = False
        for digest in self._digests:
            ok |= hmac.compare_digest(given, digest)
        return ok and bool(presented)


def presented_key(request: web.Request) -> str:
    """The key a client sent: `Authorization: Bearer <key>`, else `x-api-key`."""
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key", "").strip()


def is_open(request: web.Request) -> bool:
    if request.method in ("GET", "HEAD") and request.path in OPEN_PATHS:
        return True
    return request.method in ("GET", "HEAD") and any(
        request.path == p or request.path.startswith(p + "/") for p in OPEN_PREFIXES
    )


def auth_middleware(ring: KeyRing) -> Middleware:
    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not ring or is_open(request) or ring.check(presented_key(request)):
            return await handler(request)
        response = error_response(401, "unauthorized")
        response.headers["WWW-Authenticate"] = 'Bearer realm="pyollama"'
        return response

    return auth
