"""`pyollama rpc-server`: serve this machine's devices to daemons elsewhere (ggml's RPC backend).

llama.cpp's tools/rpc/rpc-server, in-process: same flags where they make sense (-H/--host,
-p/--port, -t/--threads, -d/--device, -c/--cache). A daemon started with OLLAMA_RPC_SERVERS (or
`serve --rpc`) naming this host:port splits its models' layers across it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from pyollama.errors import PyollamaError
from pyollama.rpc import DEFAULT_PORT, is_loopback, parse_endpoint

DESCRIPTION = """\
Serve this machine's devices (its GPUs, else its CPU) to other pyollama daemons over ggml's RPC
protocol, until Ctrl-C. A daemon started with OLLAMA_RPC_SERVERS=host:port,... (or
`pyollama serve --rpc host:port,...`) splits each model's layers across these servers and itself.

WARNING: the RPC protocol has NO authentication and NO encryption. Anyone who can reach the port can
allocate memory and run compute graphs on this machine's devices. The server binds 127.0.0.1 by
default; bind another address (--host) only on a network you trust completely, never the internet.
One client is served at a time."""

WARNING_BANNER = """\
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
WARNING: pyollama rpc-server is bound to {host}, not a loopback address.
         ggml's RPC protocol has no authentication and no encryption: anyone
         who reaches {host}:{port} can use this machine's devices.
         Never expose it to an untrusted network.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"""


def default_threads() -> int:
    """rpc-server's default: half the logical CPUs, at least one."""
    return max(1, (os.cpu_count() or 2) // 2)


def _positive(value: str) -> int:
    n = int(value)
    if n <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return n


def _port(value: str) -> int:
    n = int(value)
    if not 0 < n <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port: {value}")
    return n


def add_parser(sub: Any, formatter_class: Callable[[str], argparse.HelpFormatter]) -> None:
    """Register `rpc-server` on the CLI's subcommands."""
    p = sub.add_parser(
        "rpc-server",
        help="Serve this machine's devices to other daemons (ggml RPC; no authentication)",
        description=DESCRIPTION,
        formatter_class=formatter_class,
    )
    p.add_argument(
        "-H", "--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1; see the WARNING above)"
    )
    p.add_argument("-p", "--port", type=_port, default=DEFAULT_PORT, help=f"Port (default {DEFAULT_PORT})")
    p.add_argument(
        "-t",
        "--threads",
        type=_positive,
        default=None,
        help=f"Threads for the CPU device (default {default_threads()})",
    )
    p.add_argument(
        "-d",
        "--device",
        default="",
        help="Comma-separated ggml devices to serve (e.g. CUDA0,CPU; default: every GPU, else the CPU)",
    )
    p.add_argument(
        "-c",
        "--cache",
        action="store_true",
        help="Keep received tensors in a local file cache (a reload sends hashes, not weights)",
    )
    p.set_defaults(handler=cmd_rpc_server)


def endpoint_of(args: argparse.Namespace) -> str:
    """host:port as ggml parses it; PyollamaError for what it would refuse."""
    ep = f"{args.host}:{args.port}"
    try:
        parse_endpoint(ep)
    except ValueError as exc:
        raise PyollamaError(f"{exc} (IPv6 literals are not supported by ggml's RPC)") from exc
    return ep


def _cache_dir(enabled: bool) -> str:
    if not enabled:
        return ""
    import platformdirs

    path = platformdirs.user_cache_path("pyollama") / "rpc"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


async def cmd_rpc_server(args: argparse.Namespace) -> int:
    """Run the server on a thread (it blocks in C for the life of the process) and wait for a
    signal; then end the process at once, as the C loop cannot be stopped."""
    ep = endpoint_of(args)
    if not is_loopback(args.host):
        print(WARNING_BANNER.format(host=args.host, port=args.port), file=sys.stderr, flush=True)
    from pyollama.engine import init, rpc_server_run

    init(0)
    threads = args.threads or default_threads()
    cache = _cache_dir(args.cache)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            rpc_server_run(ep, threads, args.device, cache)
        except BaseException as exc:  # reported by the waiting coroutine
            failure.append(exc)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is gone: the process is ending
                loop.call_soon_threadsafe(done.set)

    stop = asyncio.Event()
    handled = hasattr(loop, "add_signal_handler") and sys.platform != "win32"
    if handled:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    threading.Thread(target=serve, name="rpc-server", daemon=True).start()
    waits = {asyncio.ensure_future(done.wait()), asyncio.ensure_future(stop.wait())}
    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if failure:
        raise PyollamaError(str(failure[0]))
    print("rpc-server: stopped", file=sys.stderr, flush=True)
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    os._exit(0)  # the serving thread is inside ggml's accept loop, which has no way out


__all__ = ["DESCRIPTION", "add_parser", "cmd_rpc_server", "default_threads", "endpoint_of"]
