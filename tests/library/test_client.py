"""pyollama.Client / AsyncClient: the `ollama` package's API in process (fast over FakeRunner and a
real on-disk store; slow with llama.cpp and SmolLM2, with sockets forbidden)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pyollama
from pyollama.config import Settings
from pyollama.library import (
    AsyncClient,
    ChatResponse,
    Client,
    GenerateResponse,
    ProgressResponse,
    ResponseError,
)
from pyollama.library.convert import function_tool
from pyollama.runner.fake import FakeRunnerFactory


def ollama_style(Client: Any, model_file: Path) -> dict[str, Any]:
    """Code as written for `ollama.Client`; only the Client class passed in differs."""
    client = Client(host="http://127.0.0.1:11434")
    digest = client.create_blob(model_file)
    client.create(model="tiny", files={model_file.name: digest}, system="Be brief.")
    out: dict[str, Any] = {}
    out["names"] = [m.model for m in client.list().models]
    out["caps"] = client.show("tiny").capabilities
    r = client.chat(
        model="tiny", messages=[{"role": "user", "content": "hello there"}], options={"num_predict": 4}
    )
    out["chat"] = r["message"]["content"]
    out["chat_attr"] = r.message.content
    parts = [
        p.message.content
        for p in client.chat(
            model="tiny",
            messages=[{"role": "user", "content": "a b c"}],
            stream=True,
            options={"num_predict": 4},
        )
    ]
    out["streamed"] = parts
    out["generate"] = client.generate(model="tiny", prompt="x y", options={"num_predict": 4}).response
    out["embed"] = client.embed(model="tiny", input=["one", "two"]).embeddings
    out["ps"] = [m.name for m in client.ps().models]
    out["copy"] = client.copy("tiny", "tiny2").status
    out["delete"] = client.delete("tiny2").status
    return out


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    c = Client(settings=Settings(models=tmp_path / "models"), runner_factory=FakeRunnerFactory())
    yield c
    c.close()


def test_ollama_code_runs_unchanged(tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def make(**kw: Any) -> Client:
        return Client(settings=Settings(models=tmp_path / "models"), runner_factory=FakeRunnerFactory(), **kw)

    out = ollama_style(make, tiny_gguf)
    assert out["names"] == ["tiny:latest"]
    assert "completion" in out["caps"]
    assert out["chat"] and out["chat"] == out["chat_attr"]
    assert "".join(out["streamed"]) == "a b c" and len(out["streamed"]) > 1
    assert out["generate"]
    assert len(out["embed"]) == 2
    assert out["ps"] == ["tiny:latest"]
    assert out["copy"] == out["delete"] == "success"


def test_errors_are_ollama_response_errors(client: Client) -> None:
    ollama = pytest.importorskip("ollama")
    with pytest.raises(ResponseError) as err:
        client.chat(model="missing", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 404 and err.value.error == "model 'missing' not found"
    assert isinstance(err.value, ollama.ResponseError)
    with pytest.raises(ollama.ResponseError):
        client.show("missing")
    with pytest.raises(ResponseError) as err:
        client.generate(model="x", prompt="p", options={"num_ctx": "big"})
    assert err.value.status_code in (400, 404)


def test_types_read_like_ollamas(client: Client, tiny_gguf: Path) -> None:
    client.create(model="tiny", files={tiny_gguf.name: client.create_blob(tiny_gguf)})
    r = client.chat(model="tiny", messages=[{"role": "user", "content": "hi"}])
    assert r.done is True and r["done"] is True and r.get("done_reason") == "stop"
    assert "message" in r and "thinking" not in r.message and r.message.thinking is None
    assert r.message.tool_calls is None
    assert r.model_dump()["message"]["role"] == "assistant"
    assert pyollama.Client is Client and pyollama.AsyncClient is AsyncClient
    tok = client.tokenize("tiny", "hé")
    assert client.detokenize("tiny", tok.tokens).content == "hé"


def test_stream_closed_early_frees_the_runner(tmp_path: Path, tiny_gguf: Path) -> None:
    fac = FakeRunnerFactory()
    with Client(settings=Settings(models=tmp_path / "m"), runner_factory=fac) as c:
        c.create(model="tiny", files={tiny_gguf.name: c.create_blob(tiny_gguf)})
        it = c.generate(model="tiny", prompt="one two three four five", stream=True)
        assert next(it).response == "one"
        it.close()
        runner = fac.runners[0]
        for _ in range(500):  # inner generators are finalized on the client's loop, a tick later
            if runner.live_streams == 0:
                break
            time.sleep(0.01)
        assert runner.cancelled_streams == 1 and runner.live_streams == 0
    assert fac.runners[0].closed  # close() unloads


def test_function_tools() -> None:
    def add(a: int, b: float | None = None) -> float:
        """Add two numbers.

        Args:
            a (int): the first
            b: the second
        """
        return a + (b or 0)

    tool = function_tool(add)["function"]
    assert tool["name"] == "add" and tool["description"] == "Add two numbers."
    assert tool["parameters"]["properties"]["a"] == {"type": "integer", "description": "the first"}
    assert tool["parameters"]["properties"]["b"]["type"] == ["number", "null"]
    assert tool["parameters"]["required"] == ["a"]


async def test_async_client(tmp_path: Path, tiny_gguf: Path) -> None:
    async with AsyncClient(settings=Settings(models=tmp_path / "m"), runner_factory=FakeRunnerFactory()) as c:
        await c.create(model="tiny", files={tiny_gguf.name: await c.create_blob(tiny_gguf)})
        # the client's methods return one reply or a stream (no overloads on `stream`): narrow here
        r = await c.chat(model="tiny", messages=[{"role": "user", "content": "a b"}])
        assert isinstance(r, ChatResponse) and r.message.content == "a b"
        gen = await c.generate(model="tiny", prompt="x y z", stream=True)
        assert not isinstance(gen, GenerateResponse)
        parts = [p.response async for p in gen]
        assert "".join(parts) == "x y z"
        created = await c.create(model="t2", from_="tiny", stream=True)
        assert not isinstance(created, ProgressResponse)
        progress = [p.status async for p in created]
        assert progress[-1] == "success"


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library must not talk to any server: connecting anywhere fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the in-process client opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.slow
def test_real_model_in_process(tmp_path: Path, smollm2_path: Path, no_sockets: None) -> None:
    pytest.importorskip("pyollama.engine")
    settings = Settings(models=tmp_path / "models", num_thread=2, num_parallel=1)
    with Client(settings=settings) as client:
        client.create(model="smol", files={smollm2_path.name: client.create_blob(smollm2_path)})
        opts = {"num_predict": 8, "temperature": 0, "seed": 1}
        msgs = [{"role": "user", "content": "What is the capital of France?"}]
        r = client.chat(model="smol", messages=msgs, options=opts)
        assert r.message.content and r.done_reason in ("stop", "length") and r.eval_count
        streamed = "".join(
            p.message.content or ""
            for p in client.chat(model="smol", messages=msgs, stream=True, options=opts)
        )
        assert streamed == r.message.content  # same seed, same answer, streamed or not
        g = client.generate(model="smol", prompt="The sky is", options=opts)
        assert g.response and g.context
        e = client.embed(model="smol", input="hello")
        assert len(e.embeddings[0]) == 576
        toks = client.tokenize("smol", "Hello, world!").tokens
        assert client.detokenize("smol", toks).content == "Hello, world!"
        assert client.show("smol").modelinfo["general.architecture"] == "llama"
        assert [m.name for m in client.ps().models] == ["smol:latest"]
    with Client(settings=settings) as again:  # the store persists; a new client loads again
        assert [m.model for m in again.list().models] == ["smol:latest"]


def ollama_session(client: Any, model_file: Path) -> list[Any]:
    """A short session written against `ollama.Client`'s API."""
    client.create(model="smol", files={model_file.name: client.create_blob(model_file)})
    opts = {"num_predict": 6, "temperature": 0, "seed": 3}
    chat = client.chat(model="smol", messages=[{"role": "user", "content": "Say hi"}], options=opts)
    gen = client.generate(model="smol", prompt="1, 2, 3,", options=opts)
    toks = client.embed(model="smol", input="x").embeddings[0][:4]
    return [chat.message.content, chat.eval_count, gen.response, [round(v, 4) for v in toks]]


@pytest.mark.slow
def test_same_answers_as_the_daemon(tmp_path: Path, smollm2_path: Path) -> None:
    """`ollama.Client` against the real daemon and `pyollama.Client` in process say the same."""
    ollama = pytest.importorskip("ollama")
    from tests.server.daemon import Daemon, need_engine

    need_engine()
    d = Daemon(tmp_path, tmp_path / "daemon-models", env={"OLLAMA_NUM_PARALLEL": "1"})
    try:
        with ollama.Client(host=d.url) as http_client:
            over_http = ollama_session(http_client, smollm2_path)
    finally:
        d.stop()
    settings = Settings(models=tmp_path / "lib-models", num_thread=2, num_parallel=1)
    with Client(settings=settings) as client:
        in_process = ollama_session(client, smollm2_path)
    assert in_process == over_http
