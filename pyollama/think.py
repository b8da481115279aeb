"""Ollama's `api.ThinkValue`: a request's `think`, unset, a bool, or a level.

Parsers, renderers, templates and the OpenAI/Anthropic translations all ask the same two questions
of it, as Go's `ThinkValue.Bool()` and `.String()` answer them; this is the one place that does.
It imports nothing from pyollama so that any layer can use it.
"""

from __future__ import annotations

__all__ = ["LEVELS", "Think", "is_valid", "think_bool", "think_level"]

Think = bool | str | None
"""A request's `think`: None (unset), a bool, or a level ("high", "medium", "low", "max")."""

LEVELS = ("high", "medium", "low", "max")
"""The strings `ThinkValue` accepts (`UnmarshalJSON` refuses any other)."""


def is_valid(think: object) -> bool:
    """`ThinkValue.IsValid`: unset, a bool, or one of the levels."""
    return think is None or isinstance(think, bool) or (isinstance(think, str) and think in LEVELS)


def think_bool(think: Think) -> bool:
    """`ThinkValue.Bool()`: thinking asked for, by `true` or by any level; unset is false."""
    if isinstance(think, bool):
        return think
    return isinstance(think, str) and think in LEVELS


def think_level(think: Think) -> str:
    """`ThinkValue.String()`: the level, `medium` for `true`, "" for `false` and unset."""
    if isinstance(think, str):
        return think
    return "medium" if think is True else ""
