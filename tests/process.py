"""Child processes on loopback for the tests (a daemon, a registry): a free port, waiting until the
child answers, and stopping it (SIGTERM, then SIGKILL). One copy, so every fixture that starts a
process tears it down the same way and reports a child that died with its log."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path


def free_port() -> int:
    """A loopback port nothing listens on now (the kernel's pick; a child binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> Callable[[], bool]:
    """Ready check: something accepts TCP connections on 127.0.0.1:`port`."""

    def check() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    return check


def http_ok(url: str) -> Callable[[], bool]:
    """Ready check: GET `url` answers 200."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    return check


def _tail(log: Path | None) -> str:
    return "" if log is None else ":\n" + log.read_text(errors="replace")[-2000:]


def wait_ready(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    what: str,
    log: Path | None = None,
    timeout: float = 120,
) -> None:
    """Polls `ready` until it holds; RuntimeError if the child exits first, TimeoutError after
    `timeout` seconds (the log's tail in both)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}{_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not start in {timeout:g} s{_tail(log)}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> int | None:
    """SIGTERM (a graceful shutdown, as a service manager sends), SIGKILL after `timeout` s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


@contextlib.contextmanager
def running(
    argv: list[str],
    *,
    ready: Callable[[], bool],
    log: Path,
    what: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> Iterator[subprocess.Popen[bytes]]:
    """Starts `argv` with its output in `log`, yields it once `ready`, and stops it on exit."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            wait_ready(proc, ready, what=what, log=log, timeout=timeout)
            yield proc
        finally:
            stop(proc)
