"""ggml's RPC backend from the daemon's side: which servers to use and how much memory they have.

llama.cpp's RPC client aborts the whole process (GGML_ABORT) when a server is unreachable or
answers badly, and waits forever on one that is busy: an `rpc-server` serves one client at a time,
and a loaded model holds its connection for as long as it is loaded. So the daemon never talks to a
server through ggml: it asks here, with a timeout, in a few plain socket calls that speak the same
wire format as ggml-rpc.cpp (`send_rpc_cmd`: a command byte, a little-endian u64 size, the payload;
the answer: a u64 size and the payload), and only a child runner hands the servers to llama.cpp.

The protocol has no authentication: anyone who reaches a server's port can use its devices.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

# ggml-rpc.cpp's rpc_cmd values and ggml-rpc.h's RPC_PROTO_MAJOR_VERSION (llama.cpp's pin)
_CMD_GET_DEVICE_MEMORY = 11
_CMD_HELLO = 14
_CMD_DEVICE_COUNT = 15
PROTO_MAJOR = 7
_CONN_CAPS_SIZE = 24  # transport.h's RPC_CONN_CAPS_SIZE: all zero = plain TCP, no RDMA upgrade
MAX_SERVERS = 16  # GGML_RPC_MAX_SERVERS

DEFAULT_PORT = 50052  # llama.cpp's rpc-server default


class RpcError(Exception):
    """A server that cannot be reached, is busy with another client, or speaks another protocol."""


@dataclass(frozen=True)
class RpcDevice:
    endpoint: str
    index: int
    memory_free: int
    memory_total: int


def parse_endpoint(value: str) -> tuple[str, int]:
    """host:port as ggml's parse_endpoint splits it (at the first colon: no IPv6 literals)."""
    host, sep, port = value.strip().partition(":")
    if not sep or not host or not port.isdigit() or len(port) > 5 or not 0 < int(port) <= 65535:
        raise ValueError(f"invalid RPC server (want host:port): {value!r}")
    if any(c.isspace() or c == "," for c in host):
        raise ValueError(f"invalid RPC server (want host:port): {value!r}")
    return host, int(port)


def parse_servers(value: str) -> tuple[str, ...]:
    """OLLAMA_RPC_SERVERS / `serve --rpc`: comma-separated host:port, duplicates dropped."""
    out: list[str] = []
    for part in value.split(","):
        if not part.strip():
            continue
        host, port = parse_endpoint(part)
        ep = f"{host}:{port}"
        if ep not in out:
            out.append(ep)
    if len(out) > MAX_SERVERS:
        raise ValueError(f"at most {MAX_SERVERS} RPC servers")
    return tuple(out)


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine ("localhost" included)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise RpcError("connection closed by the server")
        buf += chunk
    return bytes(buf)


def _call(sock: socket.socket, cmd: int, payload: bytes, answer_size: int) -> bytes:
    sock.sendall(struct.pack("<BQ", cmd, len(payload)) + payload)
    (size,) = struct.unpack("<Q", _recv_exact(sock, 8))
    if size != answer_size:
        raise RpcError(f"unexpected answer size {size} to command {cmd}")
    return _recv_exact(sock, size)


def probe(endpoint: str, timeout: float = 2.0) -> list[RpcDevice]:
    """The server's devices and their memory now (HELLO, DEVICE_COUNT, GET_DEVICE_MEMORY), then
    the connection is closed so the server is free for the next client. RpcError when it cannot be
    reached or does not answer within `timeout` (a busy server does not answer)."""
    host, port = parse_endpoint(endpoint)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            hello = _call(sock, _CMD_HELLO, bytes(_CONN_CAPS_SIZE), 4 + _CONN_CAPS_SIZE)
            major, minor, patch = hello[0], hello[1], hello[2]
            if major != PROTO_MAJOR:
                raise RpcError(
                    f"RPC server {endpoint} speaks protocol {major}.{minor}.{patch}; "
                    f"this engine speaks {PROTO_MAJOR}.x (use the same llama.cpp version on both)"
                )
            (count,) = struct.unpack("<I", _call(sock, _CMD_DEVICE_COUNT, b"", 4))
            devices = []
            for i in range(count):
                free, total = struct.unpack(
                    "<QQ", _call(sock, _CMD_GET_DEVICE_MEMORY, struct.pack("<I", i), 16)
                )
                devices.append(RpcDevice(endpoint, i, free, total))
            return devices
    except TimeoutError as exc:
        raise RpcError(
            f"RPC server {endpoint} did not answer within {timeout:g}s "
            "(it serves one client at a time: is a model or another daemon using it?)"
        ) from exc
    except OSError as exc:
        raise RpcError(f"RPC server {endpoint} is not reachable: {exc.strerror or exc}") from exc


def free_memory(endpoints: tuple[str, ...], timeout: float = 0.5) -> int:
    """Free memory on every server's devices together: what a model split across them may use
    besides this machine's. A server that does not answer counts 0 (a busy one is held by a loaded
    model, and so can take no other)."""
    total = 0
    for ep in endpoints:
        try:
            total += sum(d.memory_free for d in probe(ep, timeout))
        except RpcError:
            continue
    return total


def check_servers(endpoints: tuple[str, ...], timeout: float = 10.0) -> list[RpcDevice]:
    """Every server answers (before llama.cpp connects, which would abort the process if one did
    not); their devices. Raises RpcError naming the first that does not."""
    out: list[RpcDevice] = []
    for ep in endpoints:
        devices = probe(ep, timeout)
        if not devices:
            raise RpcError(f"RPC server {ep} serves no device")
        out.extend(devices)
    return out


__all__ = [
    "DEFAULT_PORT",
    "RpcDevice",
    "RpcError",
    "check_servers",
    "free_memory",
    "is_loopback",
    "parse_endpoint",
    "parse_servers",
    "probe",
]
