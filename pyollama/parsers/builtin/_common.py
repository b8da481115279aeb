"""What several built-in parsers share: Go's `ThinkValue.Bool`."""

from __future__ import annotations

from pyollama.parsers import Think

THINK_LEVELS = ("high", "medium", "low", "max")


def think_bool(think: Think) -> bool:
    """`api.ThinkValue.Bool`: thinking asked for (true, or any of the levels); None is false."""
    if isinstance(think, bool):
        return think
    return think in THINK_LEVELS
