"""Async HTTP client for the Ollama REST API, as the CLI needs it.

No server that answers means one clear `ServerUnreachable` line telling the user to run
`pyollama serve`; the CLI does not start a daemon behind the user's back (a hidden background
process that owns the port and the models is harder to reason about than one command to type).
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import aiohttp

from pyollama import __version__
from pyollama.cli.host import host_from_env
from pyollama.errors import PyollamaError

_CHUNK = 1 << 20


class ServerUnreachable(PyollamaError):
    """Nothing listens at the configured host."""

    status = 503

    def __init__(self, base_url: str) -> None:
        super().__init__(
            f"could not connect to pyollama server at {base_url}; start it with `pyollama serve`"
        )
        self.base_url = base_url


class ResponseError(PyollamaError):
    """The server answered with `{"error": ...}` (before or during a stream)."""


def os_error_text(exc: OSError) -> str:
    """`connection reset by peer`, `x.gguf: no such file or directory`: Go's wording of errno."""
    if isinstance(exc, TimeoutError) and not exc.strerror:
        return "timed out"
    reason = exc.strerror or str(exc) or type(exc).__name__
    reason = reason[:1].lower() + reason[1:]
    return f"{exc.filename}: {reason}" if exc.filename else reason


def transport_error(method: str, url: str, base_url: str, exc: BaseException) -> PyollamaError:
    """A failed exchange as one line; the rest are worded like Go's `url.Error` (`Post "url": why`)."""
    if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(exc, aiohttp.ClientSSLError):
        return ServerUnreachable(base_url)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ResponseError("server disconnected", status=502)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ResponseError(f"unexpected end of response: {exc}", status=502)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return PyollamaError(f'invalid server address "{base_url}" (check PYOLLAMA_HOST or OLLAMA_HOST)')
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ResponseError(f"could not connect to pyollama server at {base_url}: timed out", status=504)
    if isinstance(exc, TimeoutError):
        reason = "timed out"
    elif isinstance(exc, OSError):
        reason = os_error_text(exc)
    else:
        reason = str(exc) or type(exc).__name__
    return ResponseError(f'{method.title()} "{url}": {reason}', status=502)


def _error_from_body(status: int, body: bytes) -> ResponseError:
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
        if isinstance(data, dict) and "error" in data:
            return ResponseError(str(data["error"]), status=status)
    except ValueError:
        pass
    return ResponseError(text or f"{status} error", status=status)


def api_key_from_env(env: Mapping[str, str] | None = None) -> str:
    """`PYOLLAMA_API_KEY`, else `OLLAMA_API_KEY` (trimmed of spaces and quotes), else ""."""
    env = os.environ if env is None else env
    for name in ("PYOLLAMA_API_KEY", "OLLAMA_API_KEY"):
        value = env.get(name, "").strip().strip("\"'")
        if value:
            return value
    return ""


class Client:
    """One aiohttp session against one base URL; use as `async with Client() as c:`."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = (base_url or host_from_env()).rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
                headers=self._headers(),
            )
        return self._session

    @staticmethod
    def _headers() -> dict[str, str]:
        """The CLI's headers, with `Authorization: Bearer $OLLAMA_API_KEY` for a daemon that has
        API keys (`PYOLLAMA_API_KEY` wins)."""
        headers = {"User-Agent": f"pyollama/{__version__}", "Accept": "application/x-ndjson"}
        key = api_key_from_env()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- plumbing -------------------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, body: Any = None, *, data: Any = None
    ) -> tuple[int, bytes]:
        url = self.base_url + path
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif data is not None:
            kwargs["data"] = data
            kwargs["headers"] = {"Content-Type": "application/octet-stream"}
        try:
            async with self._sess().request(method, url, **kwargs) as resp:
                raw = await resp.read()
                if resp.status >= 400:
                    raise _error_from_body(resp.status, raw)
                return resp.status, raw
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(method, url, self.base_url, exc) from exc

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """A non-streamed call; the decoded JSON body, or None when empty."""
        _, raw = await self._request(method, path, body)
        return json.loads(raw) if raw.strip() else None

    async def stream(
        self, path: str, body: dict[str, Any] | None, *, data: Any = None, content_type: str = ""
    ) -> AsyncIterator[dict[str, Any]]:
        """POST and yield each NDJSON object; an `{"error"}` line raises `ResponseError`.

        The body is `body` as JSON, or `data` (bytes or an async iterator of them) as `content_type`.
        """
        url = self.base_url + path
        if body is not None:
            data, content_type = json.dumps(body), "application/json"
        try:
            async with self._sess().post(url, data=data, headers={"Content-Type": content_type}) as resp:
                if resp.status >= 400:
                    raise _error_from_body(resp.status, await resp.read())
                buf = b""
                async for chunk in resp.content.iter_any():
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line.strip():
                            yield _decode_line(line)
                if buf.strip():
                    yield _decode_line(buf)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error("POST", url, self.base_url, exc) from exc

    # --- endpoints ------------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """HEAD / as Ollama's CLI does before most commands."""
        await self._request("HEAD", "/")

    async def version(self) -> str:
        data = await self.request("GET", "/api/version")
        return str(data.get("version", "")) if isinstance(data, dict) else ""

    async def list(self) -> list[dict[str, Any]]:
        data = await self.request("GET", "/api/tags")
        return list(data.get("models") or []) if isinstance(data, dict) else []

    async def ps(self) -> builtins.list[dict[str, Any]]:
        data = await self.request("GET", "/api/ps")
        return list(data.get("models") or []) if isinstance(data, dict) else []

    async def show(
        self,
        model: str,
        *,
        verbose: bool = False,
        system: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model}
        if verbose:
            body["verbose"] = True
        if system:
            body["system"] = system
        if options:
            body["options"] = options
        data = await self.request("POST", "/api/show", body)
        return data if isinstance(data, dict) else {}

    async def copy(self, source: str, destination: str) -> None:
        await self.request("POST", "/api/copy", {"source": source, "destination": destination})

    async def delete(self, model: str) -> None:
        await self.request("DELETE", "/api/delete", {"model": model})

    def generate(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return self.stream("/api/generate", body)

    def chat(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return self.stream("/api/chat", body)

    def pull(self, model: str, *, insecure: bool = False) -> AsyncIterator[dict[str, Any]]:
        return self.stream("/api/pull", {"model": model, "insecure": insecure, "stream": True})

    def push(self, model: str, *, insecure: bool = False) -> AsyncIterator[dict[str, Any]]:
        return self.stream("/api/push", {"model": model, "insecure": insecure, "stream": True})

    def create(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return self.stream("/api/create", {**body, "stream": True})

    async def create_capabilities(self) -> dict[str, Any] | None:
        """What the server's create accepts (`GET /api/pyollama/capabilities`); None from a server
        without the probe (Ollama, which converts safetensors and quantizes itself)."""
        try:
            data = await self.request("GET", "/api/pyollama/capabilities")
        except ResponseError as exc:
            if exc.status in (404, 405):
                return None
            raise
        create = data.get("create") if isinstance(data, dict) else None
        return create if isinstance(create, dict) else None

    async def blob_exists(self, digest: str) -> bool:
        try:
            await self._request("HEAD", f"/api/blobs/{digest}")
        except ResponseError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def upload_blob(
        self, digest: str, path: Path, on_progress: Callable[[int], None] | None = None
    ) -> None:
        """POST the file's bytes, streamed, calling `on_progress(bytes_sent)` as they go."""

        async def body() -> AsyncIterator[bytes]:
            sent = 0
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    sent += len(chunk)
                    yield chunk
                    if on_progress is not None:
                        on_progress(sent)

        await self._request("POST", f"/api/blobs/{digest}", data=body())

    async def export(self, models: builtins.list[str], out: BinaryIO) -> int:
        """`POST /api/export`: write the archive of `models` to `out`; returns its size."""
        url = self.base_url + "/api/export"
        n = 0
        try:
            async with self._sess().post(
                url, data=json.dumps({"models": models}), headers={"Content-Type": "application/json"}
            ) as resp:
                if resp.status >= 400:
                    raise _error_from_body(resp.status, await resp.read())
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    out.write(chunk)
                    n += len(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error("POST", url, self.base_url, exc) from exc
        return n

    def import_archive(self, path: Path) -> AsyncIterator[dict[str, Any]]:
        """`POST /api/import` with the archive file streamed as the body; yields progress."""

        async def body() -> AsyncIterator[bytes]:
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    yield chunk

        return self.stream("/api/import", None, data=body(), content_type="application/x-tar")


def _decode_line(line: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise ResponseError(f"invalid response line: {line[:200]!r}", status=502) from exc
    if not isinstance(obj, dict):
        raise ResponseError(f"invalid response line: {line[:200]!r}", status=502)
    if obj.get("error"):
        raise ResponseError(str(obj["error"]), status=500)
    return obj


def file_size(path: Path) -> int:
    return os.stat(path).st_size
