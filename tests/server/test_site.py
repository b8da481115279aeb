"""The connection cap of the listening socket: past it, a new connection gets a 503 and is closed."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from pyollama.server.site import TOO_MANY, LimitedTCPSite


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _get(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data


async def test_connections_past_the_cap_get_a_503() -> None:
    app = web.Application()
    app.router.add_get("/", _ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = LimitedTCPSite(runner, "127.0.0.1", 0, max_connections=3)
    await site.start()
    port = site.port
    try:
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        await asyncio.sleep(0.05)
        refused = await _get(port)
        head, _, body = refused.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503") and json.loads(body) == {"error": TOO_MANY}
        assert site.refused == 1
        for _, w in idle:
            w.close()
        await asyncio.sleep(0.1)
        assert (await _get(port)).endswith(b"ok")  # room again
    finally:
        await runner.cleanup()


async def test_no_cap_when_zero() -> None:
    app = web.Application()
    app.router.add_get("/", _ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = LimitedTCPSite(runner, "127.0.0.1", 0, max_connections=0)
    await site.start()
    try:
        idle = [await asyncio.open_connection("127.0.0.1", site.port) for _ in range(20)]
        assert (await _get(site.port)).endswith(b"ok")
        for _, w in idle:
            w.close()
    finally:
        await runner.cleanup()
