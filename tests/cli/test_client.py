from __future__ import annotations

import errno
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from pyollama.cli.client import (
    Client,
    ResponseError,
    ServerUnreachable,
    os_error_text,
    transport_error,
)
from pyollama.errors import PyollamaError
from tests.cli.conftest import FakeServer


async def test_list_show_and_errors(fake_server: FakeServer) -> None:
    async with Client(fake_server.url) as c:
        await c.heartbeat()
        assert [m["name"] for m in await c.list()] == ["smol2:latest"]
        info = await c.show("smol2")
        assert info["details"]["quantization_level"] == "Q4_1"
        with pytest.raises(ResponseError) as ei:
            await c.show("nope")
    assert ei.value.status == 404
    assert str(ei.value) == "model 'nope' not found"


async def test_stream_yields_ndjson_and_raises_error_lines(fake_server: FakeServer) -> None:
    async with Client(fake_server.url) as c:
        parts = [r["response"] async for r in c.generate({"model": "smol2", "prompt": "hi"})]
        assert "".join(parts) == fake_server.state.reply
        with pytest.raises(ResponseError, match="pull model manifest: file does not exist"):
            async for _ in c.pull("missing"):
                pass


async def test_unreachable_is_one_clear_line(dead_url: str) -> None:
    async with Client(dead_url) as c:
        with pytest.raises(ServerUnreachable) as ei:
            await c.list()
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg == f"could not connect to pyollama server at {dead_url}; start it with `pyollama serve`"


async def test_blob_head_and_upload(fake_server: FakeServer, tmp_path: Path) -> None:
    f = tmp_path / "x.bin"
    f.write_bytes(b"x" * (3 << 20))
    seen: list[int] = []
    async with Client(fake_server.url) as c:
        assert not await c.blob_exists("sha256:" + "0" * 64)
        await c.upload_blob("sha256:" + "0" * 64, f, seen.append)
        assert await c.blob_exists("sha256:" + "0" * 64)
    assert seen[-1] == 3 << 20
    assert fake_server.state.blobs["sha256:" + "0" * 64] == b"x" * (3 << 20)


@pytest.fixture
def resetting_url() -> Iterator[str]:
    """A loopback server that reads a request and answers with a TCP reset."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join(5)
    srv.close()


async def test_connection_reset_is_one_line(resetting_url: str) -> None:
    async with Client(resetting_url) as c:
        with pytest.raises(PyollamaError) as ei:
            await c.list()
        msg = str(ei.value)
        assert "\n" not in msg
        assert msg in (
            f'Get "{resetting_url}/api/tags": connection reset by peer',
            "server disconnected",
        )
        with pytest.raises(PyollamaError):
            async for _ in c.generate({"model": "m", "prompt": "hi"}):
                pass


@pytest.mark.parametrize(
    ("exc", "msg"),
    [
        (
            aiohttp.ClientOSError(errno.ECONNRESET, "Connection reset by peer"),
            'Post "U": connection reset by peer',
        ),
        (TimeoutError(), 'Post "U": timed out'),
        (aiohttp.ConnectionTimeoutError("t"), "could not connect to pyollama server at B: timed out"),
        (aiohttp.InvalidUrlClientError("http://[bad:80/api/tags"), 'invalid server address "B"'),
        (aiohttp.ClientPayloadError("cut"), "unexpected end of response: cut"),
    ],
)
def test_transport_errors_are_worded(exc: BaseException, msg: str) -> None:
    assert str(transport_error("POST", "U", "B", exc)).startswith(msg)


def test_os_error_text() -> None:
    assert os_error_text(FileNotFoundError(2, "No such file or directory", "x.gguf")) == (
        "x.gguf: no such file or directory"
    )
    assert os_error_text(TimeoutError()) == "timed out"
