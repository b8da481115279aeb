"""An HTTP client for one registry repository: URLs, redirects, the auth challenge, bounded reads.

Redirects are followed by hand so that credentials never leave the registry's origin: the
`Authorization` header is only sent to the registry's own scheme/host/port, a redirect elsewhere
(a CDN) is followed without it, and an https registry is never redirected to plain http.
Automatic decompression is off, so a hostile registry cannot send a compression bomb.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

import pyollama
from pyollama.registry import auth
from pyollama.registry.types import RegistryError, TransferOptions, TransientError
from pyollama.store.names import ModelName
from pyollama.store.store import MEDIA_MANIFEST

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def user_agent() -> str:
    """Ollama's shape `ollama/<ver> (<arch> <os>) Go/<ver>`, naming pyollama and Python."""
    arch = _GOARCH.get(platform.machine().lower(), platform.machine().lower())
    return f"pyollama/{pyollama.__version__} ({arch} {sys.platform}) Python/{platform.python_version()}"


def origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme, (url.host or "").lower(), url.port)


def registry_base(name: ModelName, insecure: bool) -> URL:
    """`scheme://host`; plain http needs `insecure` (which, as in Ollama, also forces http)."""
    if name.scheme == "http" and not insecure:
        raise RegistryError("insecure protocol http")
    if name.scheme not in ("http", "https"):
        raise RegistryError(f"unsupported protocol {name.scheme}")
    scheme = "http" if insecure else name.scheme
    try:
        return URL.build(scheme=scheme, authority=name.host)
    except ValueError:
        raise RegistryError(f"invalid registry host {name.host!r}") from None


class RegistryClient:
    """Requests against `<base>/v2/<namespace>/<model>/...`; one aiohttp session per client."""

    def __init__(
        self,
        name: ModelName,
        *,
        insecure: bool = False,
        key_path: Path | None = None,
        options: TransferOptions | None = None,
        token: str = "",
    ) -> None:
        self.name = name
        self.insecure = insecure
        self.base = registry_base(name, insecure)
        self.key_path = key_path or auth.default_key_path()
        self.options = options or TransferOptions()
        self.token = token
        self._key: Ed25519PrivateKey | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            opts = self.options
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=max(8, 2 * opts.parts)),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=opts.connect_timeout, sock_read=opts.stall_timeout
                ),
                headers={"User-Agent": user_agent()},
                auto_decompress=False,
                read_bufsize=1 << 20,
                trust_env=False,
            )
        return self._session

    def fork(self) -> RegistryClient:
        """A client with its own session and the current token (for work that outlives a request)."""
        return RegistryClient(
            self.name, insecure=self.insecure, key_path=self.key_path, options=self.options, token=self.token
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- URLs --------------------------------------------------------------------------------------

    @property
    def repo(self) -> str:
        return f"{self.name.namespace}/{self.name.model}"

    def url(self, path: str) -> URL:
        return self.base.with_path(f"/v2/{self.repo}/{path}", encoded=False)

    def manifest_url(self, tag: str | None = None) -> URL:
        return self.url(f"manifests/{tag or self.name.tag}")

    def blob_url(self, digest: str) -> URL:
        return self.url(f"blobs/{digest}")

    def same_origin(self, url: URL) -> bool:
        return origin(url) == origin(self.base)

    # --- requests ----------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: URL,
        *,
        headers: dict[str, str] | None = None,
        data: Any = None,
        follow_redirects: bool = True,
        retry_auth: bool = True,
    ) -> aiohttp.ClientResponse:
        """Send one request; redirects and one auth challenge are handled here. Caller releases."""
        retried = False
        redirects = 0
        while True:
            hdrs = dict(headers or {})
            if self.token and self.same_origin(url):
                hdrs["Authorization"] = f"Bearer {self.token}"
            try:
                body = data() if callable(data) else data  # a factory gives a fresh body per attempt
                resp = await self.session.request(method, url, headers=hdrs, data=body, allow_redirects=False)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise TransientError(
                    f"{method} {url.with_query(None)}: {exc or type(exc).__name__}"
                ) from None
            if resp.status == 401 and retry_auth and not retried and self.same_origin(url):
                challenge = resp.headers.get("WWW-Authenticate", "")
                resp.release()
                if not challenge:
                    raise RegistryError("unauthorized: registry sent no auth challenge")
                await self.authenticate(auth.parse_challenge(challenge))
                retried = True
                continue
            if follow_redirects and resp.status in _REDIRECTS:
                location = resp.headers.get("Location", "")
                resp.release()
                redirects += 1
                if not location or redirects > self.options.max_redirects:
                    raise RegistryError("too many redirects" if location else "redirect without a location")
                url = self.check_redirect(url, location)
                if resp.status == 303:
                    method, data = "GET", None
                continue
            return resp

    def check_redirect(self, current: URL, location: str) -> URL:
        """Resolve a Location; refuse odd schemes and https to http downgrades."""
        try:
            target = current.join(URL(location, encoded=True))
        except ValueError:
            raise RegistryError(f"invalid redirect location {location!r}") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise RegistryError(f"refusing redirect to {target.scheme or 'relative'} URL")
        if current.scheme == "https" and target.scheme == "http" and not self.insecure:
            raise RegistryError("refusing redirect from https to http")
        return target

    async def authenticate(self, challenge: auth.Challenge) -> None:
        """Fetch a bearer token from the challenge's realm (which must be on the registry's host)."""
        url_text = auth.token_url(challenge)
        url = URL(url_text, encoded=True)
        if ((url.host or "").lower(), url.port) != ((self.base.host or "").lower(), self.base.port):
            raise RegistryError(
                f"realm host {url.authority!r} does not match original host {self.base.authority!r}"
            )
        if self._key is None:
            self._key = auth.load_or_create_key(self.key_path)
        headers = {"Authorization": auth.token_request_authorization(self._key, url_text)}
        try:
            resp = await self.session.get(url, headers=headers, allow_redirects=False)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RegistryError(f"token request failed: {exc}") from None
        async with resp:
            body = await self.read_limited(resp, self.options.max_small_body)
            if resp.status != 200:
                raise RegistryError(f"unauthorized: token request returned {resp.status}: {_text(body)}")
        try:
            doc = json.loads(body)
        except ValueError:
            raise RegistryError("unauthorized: token response is not JSON") from None
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError("unauthorized: token response has no token")
        self.token = token

    async def read_limited(self, resp: aiohttp.ClientResponse, limit: int, what: str = "response") -> bytes:
        """Read a whole body of at most `limit` bytes; longer (or endless) bodies are refused."""
        if resp.content_length is not None and resp.content_length > limit:
            resp.close()
            raise RegistryError(f"{what} too large ({resp.content_length} bytes, limit {limit})")
        buf = bytearray()
        try:
            while chunk := await resp.content.read(min(1 << 20, limit + 1 - len(buf))):
                buf += chunk
                if len(buf) > limit:
                    resp.close()
                    raise RegistryError(f"{what} too large (over {limit} bytes)")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"reading {what}: {exc or type(exc).__name__}") from None
        if resp.content_length is not None and len(buf) != resp.content_length:
            raise TransientError(f"{what}: got {len(buf)} bytes, Content-Length said {resp.content_length}")
        return bytes(buf)

    async def error_from(self, resp: aiohttp.ClientResponse, context: str) -> RegistryError:
        """A RegistryError from a non-success reply (Ollama: `<status>: <body>`)."""
        try:
            body = await self.read_limited(resp, 64 << 10, "error body")
        except RegistryError:
            body = b""
        finally:
            resp.release()
        if resp.status == 401:
            return RegistryError(f"{context}unauthorized: {_text(body) or 'access denied'}".strip())
        cls = TransientError if resp.status >= 500 or resp.status in (408, 429) else RegistryError
        return cls(f"{context}{resp.status}: {_text(body)}".rstrip(": "))


def _text(body: bytes) -> str:
    """A registry error body, condensed: the first `errors[].message` if it is Docker's JSON shape."""
    try:
        doc = json.loads(body)
        errs = doc.get("errors") if isinstance(doc, dict) else None
        if errs and isinstance(errs, list) and isinstance(errs[0], dict):
            return str(errs[0].get("message") or errs[0].get("code") or "")
    except ValueError:
        pass
    return body.decode("utf-8", "replace").strip()[:500]


MANIFEST_ACCEPT = MEDIA_MANIFEST
