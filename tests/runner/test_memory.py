"""pyollama.runner.memory: the heap's free pages go back after a load, where the C library can."""

from __future__ import annotations

import ctypes
import sys

import pytest

from pyollama.runner import memory


@pytest.fixture(autouse=True)
def _fresh_lookup() -> object:
    memory._malloc_trim.cache_clear()
    yield
    memory._malloc_trim.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trims_on_linux() -> None:
    assert memory.release_free_memory() is True


def test_no_op_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory.release_free_memory() is False


def test_no_op_without_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoTrim:
        def __init__(self, *_args: object) -> None:
            pass

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", NoTrim)
    assert memory.release_free_memory() is False
