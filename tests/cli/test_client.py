from __future__ import annotations

import pytest

from pyollama.cli.client import Client, ResponseError, ServerUnreachable
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


async def test_blob_head_and_upload(fake_server: FakeServer, tmp_path) -> None:
    f = tmp_path / "x.bin"
    f.write_bytes(b"x" * (3 << 20))
    seen: list[int] = []
    async with Client(fake_server.url) as c:
        assert not await c.blob_exists("sha256:" + "0" * 64)
        await c.upload_blob("sha256:" + "0" * 64, f, seen.append)
        assert await c.blob_exists("sha256:" + "0" * 64)
    assert seen[-1] == 3 << 20
    assert fake_server.state.blobs["sha256:" + "0" * 64] == b"x" * (3 << 20)
