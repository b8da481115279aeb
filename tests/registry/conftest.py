"""Registry fixtures: a real CNCF distribution server on loopback, a counting proxy, fake registries."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import ClientSession, web

from pyollama.registry import TransferOptions
from pyollama.store import Store, create_model
from tests.process import free_port, http_ok, running

ROOT = Path(__file__).resolve().parents[2]
MB = 1 << 20

# Small parts and quick retries, so the tests exercise parallel parts on a ~100 MB model.
FAST = TransferOptions(
    parts=4,
    min_part_size=8 * MB,
    max_part_size=32 * MB,
    stall_timeout=2.0,
    max_retries=3,
    backoff=0.01,
    state_interval=0.02,
    max_stalls=3,
)


def registry_binary() -> str:
    """`docker-registry` (Debian's CNCF distribution); scripts/setup installs it, a test never does."""
    found = shutil.which("docker-registry")
    if not found:
        pytest.skip("docker-registry is not installed: run scripts/setup as root")
    return found


@dataclass
class RealRegistry:
    host: str  # 127.0.0.1:<port>
    root: Path

    def name(self, repo: str) -> str:
        return f"{self.host}/{repo}"


@pytest.fixture(scope="session")
def real_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealRegistry]:
    binary = registry_binary()
    root = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    with running(
        [binary, "serve", str(config)],
        ready=http_ok(f"http://127.0.0.1:{port}/v2/"),
        log=root / "registry.log",
        what="docker-registry",
        timeout=30,
    ):
        yield RealRegistry(f"127.0.0.1:{port}", root)


T = TypeVar("T")


async def collect(gen: AsyncIterator[T]) -> list[T]:
    return [p async for p in gen]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MB):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


@pytest.fixture(scope="session")
def smol_store(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Store:
    """A store holding `smol:latest` created from SmolLM2 (with a system layer and parameters)."""
    store = Store(tmp_path_factory.mktemp("src-store"))
    digest, _, _ = store.write_blob_file(smollm2_path)
    req = {
        "model": "smol",
        "files": {"smol.gguf": digest},
        "system": "You are terse.",
        "parameters": {"temperature": 0},
    }

    async def run() -> None:
        async for _ in create_model(store, req):
            pass

    asyncio.run(run())
    return store


# --- a counting, optionally throttled proxy in front of a registry -------------------------------


@dataclass
class Proxy:
    """Forwards everything to `upstream` and counts the blob bytes it sends back, per digest."""

    upstream: str
    delay: float = 0.0  # seconds slept per 64 KiB chunk of a blob body
    blob_bytes: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def total(self) -> int:
        return sum(self.blob_bytes.values())

    def app(self) -> web.Application:
        async def handler(request: web.Request) -> web.StreamResponse:
            self.requests.append((request.method, request.path_qs, dict(request.headers)))
            headers = {
                k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
            }
            body = await request.read()
            async with (
                ClientSession(auto_decompress=False) as s,
                s.request(
                    request.method,
                    f"http://{self.upstream}{request.path_qs}",
                    headers=headers,
                    data=body or None,
                    allow_redirects=False,
                ) as up,
            ):
                resp = web.StreamResponse(status=up.status)
                for k, v in up.headers.items():
                    if k.lower() not in ("transfer-encoding", "connection", "content-encoding"):
                        resp.headers[k] = v
                await resp.prepare(request)
                digest = request.path.rsplit("/", 1)[-1] if "/blobs/sha256:" in request.path else ""
                if request.method == "GET":
                    async for chunk in up.content.iter_chunked(64 << 10):
                        if digest:
                            self.blob_bytes[digest] = self.blob_bytes.get(digest, 0) + len(chunk)
                            if self.delay:
                                await asyncio.sleep(self.delay)
                        await resp.write(chunk)
                await resp.write_eof()
                return resp

        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", handler)
        return app


@pytest.fixture
def make_proxy(aiohttp_server: Any) -> Callable[..., Any]:
    async def make(upstream: str, delay: float = 0.0) -> tuple[Proxy, str]:
        proxy = Proxy(upstream, delay)
        server = await aiohttp_server(proxy.app())
        return proxy, f"127.0.0.1:{server.port}"

    return make


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def env_with_path() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env
