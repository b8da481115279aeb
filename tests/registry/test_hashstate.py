"""`ResumableSha256`: the same digests as hashlib, and a state that survives a trip to disk."""

from __future__ import annotations

import hashlib
import random
import sys

import pytest

from pyollama.registry.hashstate import STATE_SIZE, ResumableSha256, Sha256Lib, load_sha256


@pytest.fixture
def lib() -> Sha256Lib:
    found = load_sha256()
    if found is None:
        if sys.platform == "linux":
            pytest.fail("libcrypto's SHA256_* should be reachable through _hashlib on Linux")
        pytest.skip("no resumable sha256 on this platform")
    return found


@pytest.mark.parametrize("seed", range(4))
def test_matches_hashlib_in_random_pieces(lib: Sha256Lib, seed: int) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(200_000)
    h = ResumableSha256(lib)
    pos = 0
    while pos < len(data):
        n = rng.randint(0, 5000)
        piece = data[pos : pos + n]
        h.update(bytearray(piece) if rng.random() < 0.5 else piece)  # writable and read-only buffers
        pos += len(piece)
    assert h.offset == len(data)
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()  # hexdigest does not end the hash


@pytest.mark.parametrize("cut", [0, 1, 63, 64, 65, 4096, 99_999])
def test_state_restores_anywhere(lib: Sha256Lib, cut: int) -> None:
    data = random.Random(cut).randbytes(100_000)
    h = ResumableSha256(lib)
    h.update(data[:cut])
    state = h.state()
    assert len(state) == STATE_SIZE
    h2 = ResumableSha256(lib, state, cut)
    h2.update(data[cut:])
    assert h2.hexdigest() == hashlib.sha256(data).hexdigest()


def test_state_must_match_its_offset(lib: Sha256Lib) -> None:
    h = ResumableSha256(lib)
    h.update(b"x" * 1000)
    with pytest.raises(ValueError, match="does not match"):
        ResumableSha256(lib, h.state(), 999)
    with pytest.raises(ValueError, match="not 112"):
        ResumableSha256(lib, h.state()[:-1], 1000)
    with pytest.raises(ValueError, match="does not match"):
        ResumableSha256(lib, bytes(STATE_SIZE), 1000)
