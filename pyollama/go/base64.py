"""Go's `encoding/base64` decoding, with its errors: Ollama refuses images by Go's rules."""

from __future__ import annotations

import base64

__all__ = ["decode_string"]

_STD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def decode_string(text: str) -> bytes:
    """`base64.StdEncoding.DecodeString`: padding required, CR/LF skipped, and the error names the
    offending byte the way Go's decodeQuantum does (`illegal base64 data at input byte N`).

    Python's `b64decode` is laxer (it drops other junk with `validate=False` and words errors its own
    way), so the text is checked here first and only clean quanta reach it."""
    src = text.encode("utf-8", "surrogatepass")
    clean = bytearray()
    si, n, j = 0, len(src), 0

    def fail(at: int) -> ValueError:
        return ValueError(f"illegal base64 data at input byte {at}")

    while si < n:
        c = src[si]
        si += 1
        if c in (10, 13):
            continue
        if c in _STD:
            clean.append(c)
            j = (j + 1) % 4
            continue
        if c != 61:  # "="
            raise fail(si - 1)
        if j in (0, 1):
            raise fail(si - 1)
        if j == 2:
            while si < n and src[si] in (10, 13):
                si += 1
            if si == n:
                raise fail(n)
            if src[si] != 61:
                raise fail(si - 1)
            si += 1
        while si < n and src[si] in (10, 13):
            si += 1
        if si < n:
            raise fail(si)
        clean += b"=" * (4 - j)
        j = 0
        break
    if j:
        raise fail(n - j)
    return base64.b64decode(bytes(clean))
