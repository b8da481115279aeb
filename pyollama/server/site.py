"""The listening socket, with a cap on concurrent connections.

aiohttp accepts every connection it is offered; each holds a file descriptor and a request
handler until it closes or idles out (aiohttp's keep-alive timeout also ends connections that
never finish their headers). Past `max_connections`, a new connection is answered at once with a
503 and closed, before any of it is read, so a flood of connections cannot take the descriptors
the model runners and the store need.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

TOO_MANY = "server busy, please try again.  too many connections"
_BODY = json.dumps({"error": TOO_MANY}, separators=(",", ":")).encode()
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Connection: close\r\n"
    b"Content-Length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
)


class _Refuse(asyncio.Protocol):
    """Writes the 503 and closes (what the client sent is never read)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(REFUSAL)
        transport.close()


class LimitedTCPSite(web.TCPSite):
    """`web.TCPSite` whose protocol factory refuses connections past `max_connections`.

    It mirrors TCPSite.start (aiohttp 3.x) with the one change of the factory.
    """

    def __init__(self, runner: web.BaseRunner, host: str | None, port: int, *, max_connections: int) -> None:
        super().__init__(runner, host, port)
        self.max_connections = max_connections
        self.refused = 0

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        limit = self.max_connections

        def factory() -> asyncio.BaseProtocol:
            if limit > 0 and len(server.connections) >= limit:
                self.refused += 1
                return _Refuse()
            return server()

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            factory,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port
