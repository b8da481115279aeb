"""pyollama.go.base64: StdEncoding.DecodeString and its errors."""

from __future__ import annotations

import pytest

from pyollama.go.base64 import decode_string


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("", b""),
        ("aGk=", b"hi"),
        ("aGVsbG8=", b"hello"),
        ("aA==", b"h"),
        ("aG\r\nk=", b"hi"),
        ("aGk=\n", b"hi"),
    ],
)
def test_decode_string(text: str, raw: bytes) -> None:
    assert decode_string(text) == raw


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("aGk", 0),
        ("a", 0),
        ("aGk*", 3),
        ("=aGk", 0),
        ("a=Gk", 1),
        ("aG=k", 2),
        ("aG=", 3),
        ("aGk=x", 4),
        ("aGk=aGk=", 4),
        ("é", 0),
    ],
)
def test_decode_string_errors_name_the_byte(text: str, at: int) -> None:
    with pytest.raises(ValueError, match=f"^illegal base64 data at input byte {at}$"):
        decode_string(text)
