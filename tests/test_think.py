"""pyollama.think: Ollama's api.ThinkValue."""

from __future__ import annotations

import pytest

from pyollama.think import LEVELS, is_valid, think_bool, think_level


@pytest.mark.parametrize(
    ("think", "on", "level"),
    [(None, False, ""), (False, False, ""), (True, True, "medium"), ("low", True, "low"),
     ("medium", True, "medium"), ("high", True, "high"), ("max", True, "max"), ("", False, ""),
     ("extreme", False, "extreme")],
)  # fmt: skip
def test_bool_and_string_as_go_answers_them(think: bool | str | None, on: bool, level: str) -> None:
    assert think_bool(think) is on
    assert think_level(think) == level  # String() returns any string as it is


def test_is_valid() -> None:
    assert all(is_valid(t) for t in (None, True, False, *LEVELS))
    assert not is_valid("extreme") and not is_valid("") and not is_valid(1)
