"""ProcessRunner: one model served by a child runner process, so that llama.cpp aborting takes
down that model only, not the daemon.

llama.cpp stops the process on a failed `GGML_ASSERT` (a hostile or broken GGUF that passed the
header checks, an engine bug): with the engine in the daemon's process that would end every model
and every client at once. Ollama runs each model in a runner process for the same reason. Here the
child (`python -m pyollama.runner.child`) holds the same Cython engine in a `NativeRunner`, and the
daemon drives it over one end of a socketpair it owns (no TCP port, nothing else can connect),
with the frames of `pyollama.runner.wire`.

When the child dies, every request on it ends with `RunnerCrashed` ("model runner crashed: " and
the most telling of llama.cpp's last log lines), and the `on_exit` callbacks tell the scheduler to
forget the model: the next request loads it again. The child's stderr (llama.cpp's log) is copied
to the daemon's stderr as it comes, as it would be written in-process.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

import msgspec

from pyollama import errors
from pyollama.errors import EngineStateError, ModelLoadError, PyollamaError, RunnerCrashed
from pyollama.runner import wire
from pyollama.runner.base import ChatRequest, CompletionRequest
from pyollama.runner.memory import release_free_memory
from pyollama.runner.types import Chunk, Embeddings, LoadOptions, ModelMetadata, Rerank

log = logging.getLogger("pyollama.runner")

CLOSE_TIMEOUT = 10.0  # seconds a child gets to close its model before it is killed
LOG_LINES = 64  # the child's last stderr lines kept for the crash message
_END = object()
T = TypeVar("T")

# ggml_abort's "file.c:123: message" (GGML_ASSERT, GGML_ABORT), C++'s terminate "what():  ...",
# then any error line: the most telling line of a dying llama.cpp, in that order
_ABORT_LINE = re.compile(r"\.(?:c|cc|cpp|cu|h|hpp|m|mm):\d+: ")
_BACKTRACE_LINE = re.compile(r"^(?:#\d+\s|\S*\(\+0x|\S+\(\S*\+0x[0-9a-f]+\)|\[0x)")


def crash_reason(lines: list[str]) -> str:
    """The line that says why the child died, from its last stderr lines ("" if none helps)."""
    useful = [ln.strip() for ln in lines if ln.strip() and not _BACKTRACE_LINE.match(ln.strip())]
    tests: tuple[Callable[[str], bool], ...] = (
        lambda ln: _ABORT_LINE.search(ln) is not None,
        lambda ln: "what():" in ln,
        lambda ln: "error" in ln.lower() or "terminate called" in ln,
    )
    for test in tests:
        for line in reversed(useful):
            if test(line):
                return line.split("what():", 1)[-1].strip() if "what():" in line else line
    return useful[-1] if useful else ""


def exit_description(returncode: int | None) -> str:
    """How the process ended, as Go's os/exec says it ("signal: aborted", "exit status 1")."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
        words = {"SIGABRT": "aborted", "SIGKILL": "killed", "SIGSEGV": "segmentation fault"}
        return "signal: " + words.get(name, name.removeprefix("SIG").lower())
    return f"exit status {returncode}"


def _error_from(failure: wire.Failure) -> PyollamaError:
    """The child's exception as the same `pyollama.errors` class (so a 400 stays a 400)."""
    cls = getattr(errors, failure.kind, None)
    if not (isinstance(cls, type) and issubclass(cls, PyollamaError)):
        cls = errors.InternalError
    return cls(failure.message, status=failure.status)


class _Call:
    """One request in flight: what the child sent for it, in order."""

    __slots__ = ("queue",)

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()


class ProcessRunner:
    """A loaded model in a child process (implements `pyollama.runner.base.Runner`)."""

    def __init__(self, model_path: str, options: LoadOptions, proc: asyncio.subprocess.Process) -> None:
        self.model_path = model_path
        self.options = options
        self._proc = proc
        self._metadata = ModelMetadata()
        self._calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)
        self._ready: asyncio.Future[ModelMetadata] = asyncio.get_running_loop().create_future()
        self._channel = wire.Channel(wire.Reply, self._on_message, self._on_lost)  # type: ignore[arg-type]
        self._log: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._log_task: asyncio.Task[None] | None = None
        self._death: asyncio.Task[None] | None = None
        self._exit_callbacks: list[Callable[[str], None]] = []
        self._closing = False
        self.crash: str | None = None  # the crash message once the child died unasked

    # --- loading --------------------------------------------------------------------------------

    @classmethod
    async def load(
        cls,
        model_path: str,
        options: LoadOptions,
        *,
        log_level: int = 0,
        debug: bool = False,
        engine: str = "native",
        fake_token_delay: float = 0.0,
        env: Mapping[str, str] | None = None,
    ) -> ProcessRunner:
        """Start a child, load the model in it and wait until it is ready.

        `debug` keeps ggml's backtrace on an abort (it may fork gdb, which takes seconds).
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child_env = dict(os.environ if env is None else env)
        if not debug:
            child_env.setdefault("GGML_NO_BACKTRACE", "1")
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "pyollama.runner.child",
                "--fd",
                str(theirs.fileno()),
                "--model",  # for ps and the tests; the Load frame says what to load
                model_path,
                pass_fds=(theirs.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=child_env,
                start_new_session=True,  # the terminal's Ctrl-C is the daemon's to handle
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        runner = cls(model_path, options, proc)
        try:
            await runner._start(
                ours,
                wire.Load(
                    model_path=model_path,
                    options=options,
                    log_level=log_level,
                    engine=engine,
                    fake_token_delay=fake_token_delay,
                ),
            )
        except BaseException:
            await runner._kill()
            ours.close()  # a no-op once the transport had it (and closed it)
            raise
        release_free_memory()  # the daemon's side: the GGUF header it decoded to resolve the model
        return runner

    async def _start(self, sock: socket.socket, load: wire.Load) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_unix_connection(lambda: self._channel, sock=sock)
        self._log_task = asyncio.ensure_future(self._read_log())
        self._channel.send(load)
        self._metadata = await self._ready
        log.debug("runner process %d ready for %s", self._proc.pid, self.model_path)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def metadata(self) -> ModelMetadata:
        return self._metadata

    @property
    def alive(self) -> bool:
        return self._death is None

    def on_exit(self, callback: Callable[[str], None]) -> None:
        """`callback(message)` once, if the child dies without being closed (at once if it did)."""
        if self.crash is not None:
            callback(self.crash)
            return
        self._exit_callbacks.append(callback)

    # --- the channel ----------------------------------------------------------------------------

    def _on_message(self, msg: Any) -> None:
        if isinstance(msg, wire.Piece):
            call = self._calls.get(msg.id)
            if call is not None:
                call.queue.put_nowait(msg.chunk)
        elif isinstance(msg, wire.End):
            call = self._calls.get(msg.id)
            if call is not None:
                call.queue.put_nowait(_END)
        elif isinstance(msg, wire.Result):
            call = self._calls.get(msg.id)
            if call is not None:
                call.queue.put_nowait(msg)
        elif isinstance(msg, wire.Failure):
            if msg.id == 0:
                if not self._ready.done():
                    self._ready.set_exception(_error_from(msg))
                return
            call = self._calls.get(msg.id)
            if call is not None:
                call.queue.put_nowait(_error_from(msg))
        elif isinstance(msg, wire.Ready) and not self._ready.done():
            self._ready.set_result(msg.metadata)

    def _on_lost(self, exc: BaseException | None) -> None:
        if self._death is None:
            self._death = asyncio.ensure_future(self._died())

    async def _read_log(self) -> None:
        """Copy the child's stderr to ours line by line, keeping the last lines."""
        stream = self._proc.stdout
        assert stream is not None
        out = getattr(sys.stderr, "buffer", None)
        while True:
            try:
                line = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):  # a line past the reader's limit
                line = await stream.read(1 << 16)
            if not line:
                return
            self._log.append(line.decode("utf-8", "replace").rstrip("\n"))
            try:
                if out is not None:
                    out.write(line)
                    out.flush()
                else:
                    sys.stderr.write(line.decode("utf-8", "replace"))
            except (OSError, ValueError):
                pass

    async def _died(self) -> None:
        """The socket closed: reap the child, then end every call with the reason."""
        proc = self._proc
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:  # the socket closed but the process lingers (a broken frame)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if self._log_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._log_task), 2.0)
        how = exit_description(proc.returncode)
        if self._closing:
            error: PyollamaError = EngineStateError("model was unloaded")
        else:
            reason = crash_reason(list(self._log)) or how
            error = RunnerCrashed(f"model runner crashed: {reason}")
            self.crash = error.message
            log.error("runner process %d for %s died (%s): %s", proc.pid, self.model_path, how, error.message)
        if not self._ready.done():
            self._ready.set_exception(error if not self._closing else ModelLoadError("load cancelled"))
        for call in self._calls.values():
            call.queue.put_nowait(error)
        if not self._closing:
            for callback in self._exit_callbacks:
                try:
                    callback(error.message)
                except Exception:
                    log.exception("runner exit callback failed")

    def _begin(self, make: Callable[[int], Any]) -> tuple[int, _Call]:
        if self._closing:
            raise EngineStateError("model is unloaded")
        if self.crash is not None:
            raise RunnerCrashed(self.crash)
        call_id = next(self._ids)
        self._channel.send(make(call_id))  # first: a request that cannot be encoded leaves no trace
        call = _Call()
        self._calls[call_id] = call
        return call_id, call

    def _end(self, call_id: int, finished: bool) -> None:
        self._calls.pop(call_id, None)
        if not finished and self._death is None:
            self._channel.send(wire.Cancel(id=call_id))

    async def _stream(self, make: Callable[[int], Any]) -> AsyncIterator[Chunk]:
        call_id, call = self._begin(make)
        finished = False
        try:
            while True:
                item = await call.queue.get()
                if isinstance(item, Chunk):
                    yield item
                    continue
                finished = True
                if item is _END:
                    return
                raise item
        finally:
            self._end(call_id, finished)

    async def _call(self, make: Callable[[int], Any], kind: type[T]) -> T:
        call_id, call = self._begin(make)
        finished = False
        try:
            item = await call.queue.get()
            finished = True
        finally:
            self._end(call_id, finished)
        if isinstance(item, BaseException):
            raise item
        return msgspec.convert(item.value, kind)

    # --- the Runner protocol ----------------------------------------------------------------------

    def complete(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        return self._stream(lambda i: wire.Complete(id=i, request=request))

    def chat(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        return self._stream(lambda i: wire.Chat(id=i, request=request))

    async def embed(self, inputs: list[str], *, truncate: bool = True, normalize: bool = True) -> Embeddings:
        return await self._call(
            lambda i: wire.Embed(id=i, inputs=inputs, truncate=truncate, normalize=normalize), Embeddings
        )

    async def rerank(self, query: str, documents: list[str]) -> Rerank:
        return await self._call(lambda i: wire.RerankCall(id=i, query=query, documents=documents), Rerank)

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return await self._call(lambda i: wire.Tokenize(id=i, text=text, add_special=add_special), list[int])

    async def detokenize(self, tokens: list[int]) -> str:
        return await self._call(lambda i: wire.Detokenize(id=i, tokens=tokens), str)

    async def apply_template(self, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        return await self._call(lambda i: wire.ApplyTemplate(id=i, messages=messages, kwargs=kwargs), str)

    async def close(self) -> None:
        """Ask the child to close its model and exit; kill it if it does not in time."""
        if self._closing:
            if self._death is not None:
                await asyncio.shield(self._death)
            return
        self._closing = True
        if self._death is None:
            self._channel.send(wire.Shutdown())
            try:
                await asyncio.wait_for(self._proc.wait(), CLOSE_TIMEOUT)
            except TimeoutError:
                log.warning("runner process %d did not exit; killing it", self._proc.pid)
                await self._kill()
        if self._death is None:  # exited, but the socket's end is not seen yet
            self._channel.abort()
        if self._death is not None:
            await asyncio.shield(self._death)

    async def _kill(self) -> None:
        self._closing = True
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()
        await self._proc.wait()
        self._channel.abort()
        if self._death is not None:
            await asyncio.shield(self._death)
        if self._log_task is not None and not self._log_task.done():
            self._log_task.cancel()
