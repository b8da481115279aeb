"""A sha256 whose running state can be saved and restored: a resumed pull hashes only the new bytes.

`hashlib` cannot export its state, so a pull resumed at byte N had to read and hash those N bytes
again. OpenSSL's low-level `SHA256_*` functions (in the libcrypto that Python's own `_hashlib`
links, so the same code and speed as `hashlib.sha256`) work on `SHA256_CTX`, a plain struct whose
layout has not changed since OpenSSL 0.9.8; its bytes can go to disk and come back. Where that
library cannot be reached (a Python built without OpenSSL, a platform where `_hashlib` does not
re-export it), `load_sha256()` returns None and callers hash from the first byte, as before.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
from typing import Any


class _Sha256Ctx(ctypes.Structure):
    """openssl/sha.h `SHA256_CTX` (`SHA_LONG` is a 32-bit unsigned int)."""

    _fields_ = [
        ("h", ctypes.c_uint32 * 8),
        ("Nl", ctypes.c_uint32),
        ("Nh", ctypes.c_uint32),
        ("data", ctypes.c_uint32 * 16),
        ("num", ctypes.c_uint),
        ("md_len", ctypes.c_uint),
    ]


STATE_SIZE = ctypes.sizeof(_Sha256Ctx)  # 112


class Sha256Lib:
    """The three libcrypto entry points; ctypes releases the GIL around each call."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.init = lib.SHA256_Init
        self.init.argtypes = [ctypes.c_void_p]
        self.init.restype = ctypes.c_int
        self.update = lib.SHA256_Update
        self.update.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        self.update.restype = ctypes.c_int
        self.final = lib.SHA256_Final
        self.final.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.final.restype = ctypes.c_int


@functools.cache
def load_sha256() -> Sha256Lib | None:
    """libcrypto's SHA256_* through `_hashlib`'s own link, checked on a known answer; else None."""
    try:
        import _hashlib

        lib = Sha256Lib(ctypes.CDLL(_hashlib.__file__))
        probe = ResumableSha256(lib)
        probe.update(b"abc" * 1000)
        restored = ResumableSha256(lib, probe.state(), 3000)
        restored.update(b"def")
        if restored.hexdigest() != hashlib.sha256(b"abc" * 1000 + b"def").hexdigest():
            return None
        return lib
    except (ImportError, OSError, AttributeError, ValueError):
        return None


class ResumableSha256:
    """sha256 with `state()` / restore; `offset` is the number of bytes hashed so far."""

    def __init__(self, lib: Sha256Lib, state: bytes | None = None, offset: int = 0) -> None:
        self._lib = lib
        if state is None:
            self._ctx = _Sha256Ctx()
            if offset or not lib.init(ctypes.byref(self._ctx)):
                raise ValueError("SHA256_Init failed")
        else:
            if len(state) != STATE_SIZE:
                raise ValueError(f"sha256 state is {len(state)} bytes, not {STATE_SIZE}")
            self._ctx = _Sha256Ctx.from_buffer_copy(state)
            ctx = self._ctx
            # the state must say it hashed exactly `offset` bytes, with its partial block in `data`
            if (ctx.Nh << 32 | ctx.Nl) != offset * 8 or ctx.num != offset % 64 or ctx.md_len != 32:
                raise ValueError("sha256 state does not match its offset")
        self.offset = offset

    def update(self, data: Any) -> None:
        """Hash a bytes-like object (a writable buffer is passed without a copy)."""
        view = memoryview(data).cast("B")
        n = len(view)
        if not n:
            return
        if view.readonly:
            buf: Any = ctypes.c_char_p(bytes(view))
        else:
            buf = (ctypes.c_char * n).from_buffer(view)
        if not self._lib.update(ctypes.byref(self._ctx), buf, n):
            raise ValueError("SHA256_Update failed")
        self.offset += n

    def state(self) -> bytes:
        return bytes(self._ctx)

    def hexdigest(self) -> str:
        ctx = _Sha256Ctx.from_buffer_copy(bytes(self._ctx))  # Final on a copy: this one goes on
        out = (ctypes.c_ubyte * 32)()
        if not self._lib.final(out, ctypes.byref(ctx)):
            raise ValueError("SHA256_Final failed")
        return bytes(out).hex()
