"""Property-based hostile requests against every route (hypothesis, seeded): whatever the body,
the daemon answers with a success or its clean error shape, and never with an unexpected exception
(which the error middleware would log). Over FakeRunner, so it runs in seconds."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyollama.config import Settings
from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.app import make_app
from tests.server.conftest import GB, MemoryStore, default_models

MODELS = ["m1", "m2", "emb", "tmpl", "m1:latest", "nope", "", "a/b/c/d/e", "../../etc", "m1:" + "x" * 300]
FIELDS = [
    "model", "name", "prompt", "suffix", "system", "template", "context", "stream", "raw", "format",
    "keep_alive", "images", "options", "think", "truncate", "shift", "logprobs", "top_logprobs",
    "messages", "tools", "input", "dimensions", "source", "destination", "from", "files", "adapters",
    "parameters", "insecure", "verbose", "max_tokens", "temperature", "n", "tool_choice",
    "response_format", "stop", "_debug_render_only", "role", "content",
]  # fmt: skip
OPTIONS = [
    "num_ctx", "num_predict", "num_thread", "num_batch", "num_parallel", "temperature", "top_k",
    "stop", "seed", "num_gpu", "use_mmap", "unknown_opt",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(MODELS)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system", "tool", "", "x"]), "content": json_values},
        optional={"images": json_values, "tool_calls": json_values, "thinking": json_values},
    ),
    max_size=3,
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(MODELS) | json_values,
        "messages": messages | json_values,
        "options": st.dictionaries(st.sampled_from(OPTIONS), json_values, max_size=4) | json_values,
        "stream": st.booleans() | json_values,
        **{f: json_values for f in FIELDS if f not in ("model", "messages", "options", "stream")},
    },
)
raw_bodies = (
    bodies.map(lambda b: json.dumps(b).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=64)
    | st.sampled_from(
        [b"", b"{", b'{"model": "m1"', b"\xff\xfe", b"[]", b"null", b'{"model": "m1", "model": 2}']
    )
)


class LiveApp:
    """The app on loopback, served from a loop in its own thread (hypothesis tests are sync)."""

    def __init__(self, root: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.root = root
        self.server: TestServer = self.call(self._start())
        self.session: aiohttp.ClientSession = self.call(self._session())
        self.routes: list[tuple[str, str]] = self._routes()

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _start(self) -> TestServer:
        app = make_app(
            Settings(),
            MemoryStore(self.root, default_models()),
            FakeRunnerFactory(),
            free_memory=lambda: 64 * GB,
            host_guard=False,
        )
        server = TestServer(app)
        await server.start_server()
        return server

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    def _routes(self) -> list[tuple[str, str]]:
        out = []
        for route in self.server.app.router.routes():
            info = route.resource.get_info() if route.resource is not None else {}
            path = info.get("path") or info.get("formatter", "")
            path = path.replace("{digest}", "sha256:" + "0" * 64).replace("{model:.+}", "m1")
            if route.method in ("GET", "POST", "DELETE", "HEAD"):
                out.append((route.method, path))
        return sorted(set(out))

    async def _request(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        url = str(self.server.make_url(path))
        async with self.session.request(
            method, url, data=body, headers={"Content-Type": "application/json"}
        ) as r:
            return r.status, r.headers.get("Content-Type", ""), await r.read()

    def request(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        result: tuple[int, str, bytes] = self.call(self._request(method, path, body))
        return result

    def close(self) -> None:
        self.call(self.session.close())
        self.call(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = LiveApp(tmp_path_factory.mktemp("hostile"))
    yield app
    app.close()


NON_JSON_REPLIES = ("text/html", "text/javascript", "text/css", "application/x-tar")  # /ui, /api/export


def assert_clean(method: str, path: str, status: int, ctype: str, data: bytes) -> None:
    """A success, or the route's own error shape; streams are NDJSON/SSE of JSON objects."""
    assert status != 500 or data, (method, path)
    if ctype.startswith("text/plain") and (status < 400 or status in (404, 405)):
        return  # "Ollama is running", Go's 404/405 pages
    if method == "HEAD" or not data:
        return
    if ctype.startswith("application/x-ndjson"):
        for line in data.decode().strip().split("\n"):
            json.loads(line)
        return
    if ctype.startswith("text/event-stream"):
        return
    if status < 400 and ctype.split(";")[0] in NON_JSON_REPLIES:
        return
    assert ctype.startswith("application/json"), (method, path, status, ctype, data[:200])
    obj = json.loads(data)
    if status >= 400:
        err = obj.get("error") if isinstance(obj, dict) else None
        if path.startswith("/v1/"):
            openai = isinstance(err, dict) and isinstance(err.get("message"), str)
            assert openai or obj.get("type") == "error", obj  # OpenAI's or Anthropic's shape
        else:
            assert isinstance(err, str) and err, obj


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(route=st.integers(min_value=0), body=raw_bodies)
def test_every_route_answers_any_body_cleanly(
    live: LiveApp, caplog: pytest.LogCaptureFixture, route: int, body: bytes
) -> None:
    method, path = live.routes[route % len(live.routes)]
    with caplog.at_level(logging.ERROR):
        caplog.clear()
        status, ctype, data = live.request(method, path, body)
        unexpected = [r for r in caplog.records if r.exc_info]
    assert not unexpected, (method, path, body[:300], unexpected[0].getMessage())
    assert_clean(method, path, status, ctype, data)


def test_every_route_is_covered(live: LiveApp) -> None:
    paths = {p for _, p in live.routes}
    for p in (
        "/api/generate",
        "/api/chat",
        "/api/create",
        "/api/pull",
        "/v1/chat/completions",
        "/v1/messages",
    ):
        assert p in paths
