"""Fixtures for the server tests: an in-memory store and an app over FakeRunnerFactory."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from pyollama.config import Settings
from pyollama.errors import BadRequest, ModelNotFound
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.app import make_app
from pyollama.server.models import ModelInfo
from pyollama.server.schemas import (
    CreateRequest,
    ListModel,
    ListResponse,
    ModelDetails,
    ProgressResponse,
    ShowResponse,
)

GB = 1 << 30


class MemoryStore:
    """A `ModelStore` over a dict, with blobs in a temp dir."""

    def __init__(self, root: Path, models: dict[str, ModelInfo]) -> None:
        self.root = root
        self.models = models

    @staticmethod
    def _key(name: str) -> str:
        if not name or ("/" in name.strip("/") and name.count("/") > 2) or " " in name:
            raise BadRequest("invalid model name")
        return name if ":" in name else name + ":latest"

    def resolve(self, name: str) -> ModelInfo:
        key = self._key(name)
        if key not in self.models:
            raise ModelNotFound(f"model '{name}' not found")
        return self.models[key]

    def list_models(self) -> ListResponse:
        return ListResponse(
            models=[
                ListModel(
                    name=k,
                    model=k,
                    modified_at="2024-01-01T00:00:00Z",
                    size=1,
                    digest=m.digest,
                    details=m.details,
                )
                for k, m in self.models.items()
            ]
        )

    def show(
        self, name: str, *, verbose: bool = False, system: str = "", options: dict[str, Any] | None = None
    ) -> ShowResponse:
        m = self.resolve(name)
        return ShowResponse(
            template=m.template or "",
            system=system or m.system,
            details=m.details,
            model_info={},
            capabilities=list(m.capabilities),
        )

    async def create(self, body: dict[str, Any]) -> AsyncIterator[ProgressResponse]:
        request = msgspec.convert(body, CreateRequest)
        if not request.from_ and not request.files:
            raise BadRequest("neither 'from' or 'files' was specified")
        yield ProgressResponse(status="using existing layer sha256:" + "0" * 64)
        if request.from_ == "boom":
            raise BadRequest("template error: boom")
        key = self._key(request.model)
        self.models[key] = msgspec.structs.replace(self.resolve(request.from_ or "m1"), name=key)
        yield ProgressResponse(status="writing manifest")
        yield ProgressResponse(status="success")

    async def pull(self, name: str, *, insecure: bool = False) -> AsyncGenerator[ProgressResponse, None]:
        """Pulls `name` as a copy of `m1` (a `bad/...` name fails after the first line)."""
        key = self._key(name)
        yield ProgressResponse(status="pulling manifest")
        if key.startswith("bad/"):
            raise BadRequest("pull model manifest: file does not exist")
        digest = "sha256:" + "0" * 64
        yield ProgressResponse(status=f"pulling {digest[7:19]}", digest=digest, total=3, completed=3)
        self.models[key] = msgspec.structs.replace(self.models["m1:latest"], name=key)
        yield ProgressResponse(status="success")

    async def push(self, name: str, *, insecure: bool = False) -> AsyncGenerator[ProgressResponse, None]:
        self.resolve(name)
        yield ProgressResponse(status="retrieving manifest")
        yield ProgressResponse(status="pushing manifest")
        yield ProgressResponse(status="success")

    def copy(self, source: str, destination: str) -> None:
        self.models[self._key(destination)] = self.resolve(source)

    def delete(self, name: str) -> None:
        key = self._key(name)
        if key not in self.models:
            raise ModelNotFound(name)
        del self.models[key]

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / digest.replace(":", "-")

    async def write_blob(self, digest: str, chunks: AsyncIterator[bytes], *, size: int | None) -> bool:
        data = b"".join([c async for c in chunks])
        got = "sha256:" + hashlib.sha256(data).hexdigest()
        if got != digest:
            raise BadRequest(f'digest mismatch, expected "{digest}", got "{got}"')
        path = self.blob_path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return True

    def create_capabilities(self) -> dict[str, Any]:
        return {"quantize": [], "safetensors": False, "adapters": ["gguf"], "draft": False}

    def export_archive(self, names: list[str]) -> Iterator[bytes]:
        for name in names:
            self.resolve(name)
        return iter([b""])

    def import_archive(self, fileobj: IO[bytes]) -> Iterator[dict[str, Any]]:
        raise BadRequest("archives are not supported by the in-memory store")


def model(name: str, path: str, **kw: Any) -> ModelInfo:
    return ModelInfo(
        name=name,
        model_path=path,
        digest="d" * 64,
        size=1000,
        details=ModelDetails(format="gguf", family="fake", parameter_size="1K", quantization_level="Q4_1"),
        capabilities=kw.pop("capabilities", ("completion",)),
        **kw,
    )


def default_models() -> dict[str, ModelInfo]:
    return {
        "m1:latest": model("m1:latest", "/blobs/m1"),
        "m2:latest": model("m2:latest", "/blobs/m2"),
        "m3:latest": model("m3:latest", "/blobs/m3"),
        "emb:latest": model("emb:latest", "/blobs/emb", capabilities=("embedding",)),
        "tmpl:latest": model(
            "tmpl:latest",
            "/blobs/tmpl",
            template="{{ .System }}|{{ .Prompt }}",
            system="SYS",
            parameters={"temperature": 0.1},
        ),
    }


ClientMaker = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def factory() -> FakeRunnerFactory:
    return FakeRunnerFactory()


@pytest.fixture
def make_client(aiohttp_client: Any, tmp_path: Path, factory: FakeRunnerFactory) -> ClientMaker:
    async def go(
        *,
        settings: Settings | None = None,
        fac: FakeRunnerFactory | None = None,
        free_memory: Callable[[], int] = lambda: 64 * GB,
        host_guard: bool | None = None,
        models: dict[str, ModelInfo] | None = None,
    ) -> TestClient[Any, Any]:
        app = make_app(
            settings or Settings(),
            MemoryStore(tmp_path, default_models() if models is None else models),
            fac or factory,
            free_memory=free_memory,
            host_guard=False if host_guard is None else host_guard,
            version="0.0.0-test",
        )
        return await aiohttp_client(app)  # type: ignore[no-any-return]

    return go


@pytest.fixture
async def client(make_client: ClientMaker) -> TestClient[Any, Any]:
    return await make_client()


def ndjson(body: bytes) -> list[dict[str, Any]]:
    assert body.endswith(b"\n")
    lines = body.split(b"\n")[:-1]
    assert all(lines), "blank line in NDJSON"
    return [json.loads(line) for line in lines]
