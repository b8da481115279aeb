from __future__ import annotations

import pytest

from pyollama.go.format import human_number


@pytest.mark.parametrize(
    ("n", "s"),
    [
        (134515008, "134.52M"),
        (268098176, "268.10M"),
        (3212749888, "3.2B"),
        (7000000000, "7B"),
        (1000000, "1M"),
        (64, "64"),
        (1500, "2K"),
        (2_000_000_000_000, "2000B"),  # Ollama's HumanNumber has no T
    ],
)
def test_human_number(n: int, s: str) -> None:
    assert human_number(n) == s
