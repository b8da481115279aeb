"""NativeRunner's readiness wait without the engine: a loop that watches the stream's fd, and the
callback path for loops that cannot (Windows' proactor loop), switched to when add_reader says so."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pyollama.runner.native import NativeRunner
from pyollama.runner.types import LoadOptions, ModelMetadata


class FakeStream:
    """The engine's Stream: a queue filled by a worker thread that wakes the reader by fd or callback."""

    def __init__(self, fd: int = -1, wfd: int = -1) -> None:
        self.fd, self.wfd = fd, wfd
        self.items: deque[tuple[int, bool, bool, bytes]] = deque()
        self.lock = threading.Lock()
        self.callback: Callable[[], object] | None = None
        self.notify_calls: list[bool] = []
        self.closed = False

    def fileno(self) -> int:
        return self.fd

    def set_notify(self, callback: Callable[[], object] | None) -> None:
        with self.lock:
            self.callback = callback
        self.notify_calls.append(callback is not None)

    def next(self, timeout_ms: int = 0) -> tuple[int, bool, bool, bytes] | None:
        with self.lock:
            return self.items.popleft() if self.items else None

    def push(self, data: bytes, last: bool = False) -> None:
        with self.lock:
            self.items.append((200, True, last, data))
            callback = self.callback
        if self.wfd >= 0:
            os.write(self.wfd, b"x")
        if callback is not None:
            callback()

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class FakeServer:
    def __init__(self, stream: FakeStream) -> None:
        self.stream = stream

    def submit(self, route: str, body: bytes) -> FakeStream:
        return self.stream


def _runner(stream: FakeStream) -> NativeRunner:
    return NativeRunner("m.gguf", LoadOptions(), FakeServer(stream), ModelMetadata())


def _producer(stream: FakeStream, n: int) -> threading.Thread:
    def run() -> None:
        for i in range(n):
            time.sleep(0.01)
            stream.push(b"%d" % i, last=i == n - 1)

    t = threading.Thread(target=run)
    t.start()
    return t


async def _read_all(runner: NativeRunner) -> list[bytes]:
    return [data async for _status, _is_stream, data in runner._stream("/completion", {})]


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    os.set_blocking(r, False)
    yield r, w
    os.close(r)
    os.close(w)


async def test_a_stream_without_fd_is_woken_by_the_callback() -> None:
    stream = FakeStream()
    producer = _producer(stream, 20)
    got = await asyncio.wait_for(_read_all(_runner(stream)), 10)
    producer.join()
    assert got == [b"%d" % i for i in range(20)]
    assert stream.notify_calls == [True, False]  # armed once, cleared before the stream closed
    assert stream.closed


async def test_a_loop_without_add_reader_falls_back_to_the_callback(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()

    def no_readers(*args: Any) -> None:
        raise NotImplementedError  # as Windows' proactor loop answers

    monkeypatch.setattr(loop, "add_reader", no_readers)
    stream = FakeStream(*pipe)
    producer = _producer(stream, 10)
    got = await asyncio.wait_for(_read_all(_runner(stream)), 10)
    producer.join()
    assert got == [b"%d" % i for i in range(10)]
    assert stream.notify_calls == [True, False]


async def test_a_loop_with_add_reader_uses_the_fd(pipe: tuple[int, int]) -> None:
    r, _ = pipe

    class DrainingStream(FakeStream):
        def next(self, timeout_ms: int = 0) -> tuple[int, bool, bool, bytes] | None:
            with contextlib.suppress(BlockingIOError):
                os.read(r, 4096)  # the engine clears its fd before it looks
            return super().next(timeout_ms)

    stream = DrainingStream(*pipe)
    producer = _producer(stream, 10)
    got = await asyncio.wait_for(_read_all(_runner(stream)), 10)
    producer.join()
    assert got == [b"%d" % i for i in range(10)]
    assert stream.notify_calls == []  # never needed the callback


async def test_a_wake_up_after_the_loop_closed_is_dropped() -> None:
    """The engine's worker may call back after the daemon's loop is gone: no exception escapes."""
    from pyollama.runner.native import _NotifyWaiter

    stream = FakeStream()
    waiter = _NotifyWaiter(stream)
    await waiter.wait()  # arms the callback
    assert stream.callback is not None
    callback = stream.callback
    closed = asyncio.new_event_loop()
    closed.close()
    waiter._loop = closed
    callback()  # would raise RuntimeError('Event loop is closed') unsuppressed
    waiter.close()
    assert stream.notify_calls == [True, False]
