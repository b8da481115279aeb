"""The child runner process: one model in a `NativeRunner`, driven over a socket the daemon owns.

    python -m pyollama.runner.child --fd N [--model PATH]

The daemon (`pyollama.runner.process.ProcessRunner`) starts this with one end of a socketpair as
fd N. The first frame is a `Load`; the answer is `Ready` (or a `Failure` and exit). Then every
request frame runs as its own task, its chunks going back as they come. When llama.cpp aborts,
this process dies and nothing else does: that is the point of it. When the daemon goes away (EOF on
the socket), the process exits at once, even in the middle of a load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from pyollama.errors import PyollamaError
from pyollama.runner import wire
from pyollama.runner.base import Runner


async def _load(msg: wire.Load) -> Runner:
    if msg.engine == "fake":
        from pyollama.runner.fake import FakeRunner

        return FakeRunner(msg.model_path, msg.options, token_delay=msg.fake_token_delay)
    from pyollama import engine
    from pyollama.runner.native import NativeRunner

    engine.init(msg.log_level)
    return await NativeRunner.load(msg.model_path, msg.options)


def _failure(call_id: int, exc: BaseException) -> wire.Failure:
    if isinstance(exc, PyollamaError):
        return wire.Failure(id=call_id, kind=type(exc).__name__, status=exc.status, message=exc.message)
    return wire.Failure(id=call_id, kind="InternalError", status=500, message=str(exc) or type(exc).__name__)


class ChildServer:
    """The child's side of the channel: a loaded runner and one task per live request."""

    def __init__(self) -> None:
        self.runner: Runner | None = None
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.done = asyncio.Event()
        self.channel = wire.Channel(wire.Request, self._on_message, self._on_lost)  # type: ignore[arg-type]
        self._loading: asyncio.Task[None] | None = None

    def _on_lost(self, exc: BaseException | None) -> None:
        # The daemon is gone (or closed the socket): nobody is left to answer. A load in a thread
        # cannot be interrupted, so do not wait for anything.
        if self.runner is None or self._loading is not None:
            os._exit(0)
        self.done.set()

    def _on_message(self, msg: Any) -> None:
        if isinstance(msg, wire.Load):
            if self._loading is None and self.runner is None:
                self._loading = asyncio.ensure_future(self._do_load(msg))
            return
        if isinstance(msg, wire.Cancel):
            task = self.tasks.pop(msg.id, None)
            if task is not None:
                task.cancel()
            return
        if isinstance(msg, wire.Shutdown):
            self.done.set()
            return
        runner = self.runner
        if runner is None:
            self.channel.send(
                wire.Failure(id=msg.id, kind="EngineStateError", status=500, message="not loaded")
            )
            return
        work: Awaitable[None]
        if isinstance(msg, wire.Complete):
            work = self._stream(msg.id, runner.complete(msg.request))
        elif isinstance(msg, wire.Chat):
            work = self._stream(msg.id, runner.chat(msg.request))
        elif isinstance(msg, wire.Embed):
            work = self._call(
                msg.id, runner.embed(msg.inputs, truncate=msg.truncate, normalize=msg.normalize)
            )
        elif isinstance(msg, wire.RerankCall):
            work = self._call(msg.id, runner.rerank(msg.query, msg.documents))
        elif isinstance(msg, wire.Tokenize):
            work = self._call(msg.id, runner.tokenize(msg.text, add_special=msg.add_special))
        elif isinstance(msg, wire.Detokenize):
            work = self._call(msg.id, runner.detokenize(msg.tokens))
        elif isinstance(msg, wire.ApplyTemplate):
            work = self._call(msg.id, runner.apply_template(msg.messages, **msg.kwargs))
        else:  # pragma: no cover - the decoder only yields the types above
            return
        task = asyncio.ensure_future(work)
        self.tasks[msg.id] = task
        task.add_done_callback(functools.partial(self._forget, msg.id))

    def _forget(self, call_id: int, task: asyncio.Task[None]) -> None:
        if self.tasks.get(call_id) is task:
            del self.tasks[call_id]

    async def _do_load(self, msg: wire.Load) -> None:
        try:
            runner = await _load(msg)
        except BaseException as exc:
            self.channel.send(_failure(0, exc))
            self.done.set()
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._loading = None
        if self.channel.closed:
            os._exit(0)
        self.runner = runner
        self.channel.send(wire.Ready(metadata=runner.metadata))

    async def _stream(self, call_id: int, chunks: AsyncIterator[Any]) -> None:
        try:
            async with contextlib.aclosing(chunks):  # type: ignore[type-var]
                async for chunk in chunks:
                    self.channel.send(wire.Piece(call_id, chunk))
            self.channel.send(wire.End(call_id))
        except asyncio.CancelledError:
            pass  # the daemon cancelled it and expects nothing more
        except Exception as exc:
            self.channel.send(_failure(call_id, exc))

    async def _call(self, call_id: int, result: Awaitable[Any]) -> None:
        try:
            value = await result
        except asyncio.CancelledError:
            return
        except Exception as exc:
            self.channel.send(_failure(call_id, exc))
            return
        self.channel.send(wire.Result(id=call_id, value=value))

    async def close(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        if self.runner is not None:
            await self.runner.close()
        self.channel.close()


async def serve(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    server = ChildServer()
    loop = asyncio.get_running_loop()
    await loop.create_unix_connection(lambda: server.channel, sock=sock)
    await server.done.wait()
    await server.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pyollama.runner.child")
    ap.add_argument("--fd", type=int, required=True, help="this end of the daemon's socketpair")
    ap.add_argument("--model", default="", help="the model's path, for ps (the daemon sends what to load)")
    args = ap.parse_args(argv)
    # Ctrl-C reaches the whole process group: the daemon decides when this process ends
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(serve(args.fd))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
