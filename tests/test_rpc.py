"""pyollama.rpc: parsing the servers, and the memory probe against a fake rpc-server that speaks
ggml-rpc.cpp's wire format (HELLO, DEVICE_COUNT, GET_DEVICE_MEMORY)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from pyollama import rpc


def test_parse_servers() -> None:
    assert rpc.parse_servers("a:1, 127.0.0.1:50052,,a:1") == ("a:1", "127.0.0.1:50052")
    assert rpc.parse_servers("") == ()
    for bad in ("nohost", ":1", "h:", "h:0", "h:70000", "h:1x", "[::1]:5"):
        with pytest.raises(ValueError):
            rpc.parse_servers(bad)
    with pytest.raises(ValueError, match="at most"):
        rpc.parse_servers(",".join(f"h:{i}" for i in range(1, 18)))


def test_is_loopback() -> None:
    assert rpc.is_loopback("127.0.0.1")
    assert rpc.is_loopback("127.8.0.1")
    assert rpc.is_loopback("localhost")
    assert rpc.is_loopback("::1")
    assert not rpc.is_loopback("0.0.0.0")
    assert not rpc.is_loopback("192.168.1.5")
    assert not rpc.is_loopback("example.com")


def _recv(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def _serve_one(srv: socket.socket, memory: list[tuple[int, int]], major: int) -> None:
    conn, _ = srv.accept()
    with conn:
        try:
            while True:
                cmd, size = struct.unpack("<BQ", _recv(conn, 9))
                payload = _recv(conn, size)
                if cmd == 14:
                    assert payload == bytes(24)
                    answer = bytes([major, 0, 0, 0]) + bytes(24)
                elif cmd == 15:
                    answer = struct.pack("<I", len(memory))
                elif cmd == 11:
                    (dev,) = struct.unpack("<I", payload)
                    answer = struct.pack("<QQ", *memory[dev])
                else:
                    return
                conn.sendall(struct.pack("<Q", len(answer)) + answer)
        except EOFError:
            return


@contextlib.contextmanager
def fake_server(memory: list[tuple[int, int]], major: int = rpc.PROTO_MAJOR) -> Iterator[str]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    t = threading.Thread(target=_serve_one, args=(srv, memory, major), daemon=True)
    t.start()
    try:
        yield f"127.0.0.1:{srv.getsockname()[1]}"
    finally:
        t.join(5)
        srv.close()


def test_probe_reads_every_device() -> None:
    with fake_server([(5 << 30, 8 << 30), (1 << 20, 2 << 20)]) as ep:
        devices = rpc.probe(ep)
    assert devices == [rpc.RpcDevice(ep, 0, 5 << 30, 8 << 30), rpc.RpcDevice(ep, 1, 1 << 20, 2 << 20)]


def test_probe_refuses_another_protocol() -> None:
    with (
        fake_server([(1, 1)], major=rpc.PROTO_MAJOR + 1) as ep,
        pytest.raises(rpc.RpcError, match="protocol"),
    ):
        rpc.probe(ep)


def test_probe_unreachable_and_busy() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(rpc.RpcError, match="not reachable"):
        rpc.probe(f"127.0.0.1:{port}", timeout=1)
    # listening but never answering: what a server busy with another client looks like
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        ep = f"127.0.0.1:{busy.getsockname()[1]}"
        with pytest.raises(rpc.RpcError, match="one client at a time"):
            rpc.probe(ep, timeout=0.2)
        assert rpc.free_memory((ep,), timeout=0.2) == 0


def test_free_memory_and_check_servers() -> None:
    with fake_server([(3, 10), (4, 10)]) as a:
        assert rpc.free_memory((a,)) == 7
    with fake_server([]) as b, pytest.raises(rpc.RpcError, match="no device"):
        rpc.check_servers((b,))
    with fake_server([(3, 10)]) as c:
        assert [d.memory_free for d in rpc.check_servers((c,))] == [3]
