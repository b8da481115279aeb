"""`pyollama serve`: bind, print the configuration, log requests, shut down cleanly on signals."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import sys
from collections.abc import Callable

from aiohttp import web

import pyollama
from pyollama.config import Settings, help_table
from pyollama.runner.base import RunnerFactory
from pyollama.server.app import make_app
from pyollama.server.auth import KeyFileError
from pyollama.server.models import ModelStore
from pyollama.server.site import LimitedTCPSite
from pyollama.server.state import STATE

log = logging.getLogger("pyollama.server")

ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs "%{User-Agent}i"'


def serve_help_text() -> str:
    """The body of `pyollama serve --help`."""
    return "Start the pyollama daemon (Ollama's REST API).\n\nUsage:\n  pyollama serve\n\n" + help_table()


def configure_logging(settings: Settings) -> None:
    level = logging.DEBUG if settings.debug else logging.INFO
    fmt = "time=%(asctime)s level=%(levelname)s source=%(name)s msg=%(message)s"
    logging.basicConfig(level=level, format=fmt)


def _default_store(settings: Settings) -> ModelStore:
    from pyollama.server.store_adapter import StoreAdapter
    from pyollama.store.store import Store

    store = Store(settings.models)
    store.housekeeping(noprune=settings.noprune)
    return StoreAdapter(store, noprune=settings.noprune, go_template=settings.go_template)


def _default_factory(settings: Settings) -> RunnerFactory:
    """OLLAMA_RUNNER_ISOLATION: the engine in this process (the default), or a child runner
    process per model. The daemon's own engine still reads GGUF headers (ggml's parser, which refuses
    bad files with an error rather than an abort)."""
    from pyollama import engine
    from pyollama.engine import backends

    engine.init(settings.llama_log_level)
    results = backends.load_plugins()  # GPU plugin wheels, before the devices are listed
    for line in backends.describe(*backends.inventory(), results):
        log.info("%s", line)
    if settings.runner_isolation == "inprocess" or not _can_isolate():
        from pyollama.runner.native import NativeRunner

        return NativeRunner.load
    from pyollama.runner.process import ProcessRunner

    return functools.partial(ProcessRunner.load, log_level=settings.llama_log_level, debug=settings.debug > 0)


def _can_isolate() -> bool:
    """Child runners talk over a Unix socketpair, which Windows' event loop cannot watch: there the
    engine runs in the daemon (docs/differences.md)."""
    if sys.platform == "win32":
        log.info("runner isolation is not available on Windows; models run in the daemon")
        return False
    return True


def _free_memory(rpc_servers: tuple[str, ...] = ()) -> int:
    """RAM plus every GPU's free memory, plus the RPC servers' (OLLAMA_RPC_SERVERS): llama.cpp
    puts the layers that fit on the RPC devices and GPUs and the rest in RAM, so a model fits when
    they all together hold it. A busy RPC server counts nothing (a loaded model holds it)."""
    from pyollama import rpc
    from pyollama.engine import backends
    from pyollama.server.scheduler import read_available_memory

    host = read_available_memory()
    if host <= 0:
        return 0
    return host + backends.gpu_free_memory() + (rpc.free_memory(rpc_servers) if rpc_servers else 0)


def _log_rpc_servers(settings: Settings) -> None:
    """Say at start which RPC servers answer and what they offer (a down one is not fatal: a load
    fails with its reason until it is up)."""
    from pyollama import rpc

    if not settings.rpc_servers:
        return
    log.warning(
        "RPC servers %s: model layers are split across them; ggml's RPC protocol has NO "
        "authentication or encryption, use trusted networks only; one model is loaded at a time",
        ",".join(settings.rpc_servers),
    )
    for ep in settings.rpc_servers:
        try:
            for d in rpc.probe(ep):
                log.info(
                    "RPC server %s device %d: %.1f GiB free of %.1f GiB",
                    ep,
                    d.index,
                    d.memory_free / 2**30,
                    d.memory_total / 2**30,
                )
        except rpc.RpcError as exc:
            log.warning("%s", exc)


async def serve(
    settings: Settings,
    *,
    store: ModelStore | None = None,
    runner_factory: RunnerFactory | None = None,
    stop: asyncio.Event | None = None,
    on_started: Callable[[int], None] | None = None,
) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM when `stop` is None), then shut down cleanly:
    stop accepting, unload models (ending live streams), close connections."""
    if runner_factory is None:
        app = make_app(
            settings,
            store if store is not None else _default_store(settings),
            _default_factory(settings),
            free_memory=functools.partial(_free_memory, settings.rpc_servers),
        )
        _log_rpc_servers(settings)
    else:
        app = make_app(settings, store if store is not None else _default_store(settings), runner_factory)
    runner = web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=log,
        access_log_format=ACCESS_LOG_FORMAT,
        shutdown_timeout=5.0,
    )
    await runner.setup()
    site = LimitedTCPSite(
        runner, settings.host.host or None, settings.host.port, max_connections=settings.max_connections
    )
    await site.start()
    port = settings.host.port
    server = getattr(site, "_server", None)
    if server is not None and getattr(server, "sockets", None):
        port = server.sockets[0].getsockname()[1]
    log.info("Listening on %s:%d (version %s)", settings.host.host or "0.0.0.0", port, pyollama.__version__)
    if on_started is not None:
        on_started(port)
    own_stop = stop is None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    # Windows' event loop takes no signal handlers: there Ctrl+C ends asyncio.run itself
    handled = own_stop and hasattr(loop, "add_signal_handler") and sys.platform != "win32"
    if handled:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        if handled:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        await app[STATE].scheduler.close()
        await runner.cleanup()


def run_server(settings: Settings | None = None) -> int:
    """Entry point for the CLI's `serve` command; returns the exit status."""
    settings = settings if settings is not None else Settings.from_env()
    configure_logging(settings)
    log.info("server config env=%s", settings.as_map())
    try:
        asyncio.run(serve(settings))
    except KeyFileError as exc:
        log.error("Error: %s", exc)
        return 1
    except OSError as exc:
        log.error("Error: listen tcp %s:%d: %s", settings.host.host, settings.host.port, exc.strerror)
        return 1
    return 0
