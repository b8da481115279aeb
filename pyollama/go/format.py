"""Ollama's own `format` package: how it writes parameter counts."""

from __future__ import annotations

__all__ = ["human_number"]


def human_number(n: int) -> str:
    """`format.HumanNumber`: `3.2B`, `134.52M` (two decimals for millions), `32K`, `999`."""
    if n >= 1_000_000_000:
        v = n / 1e9
        return f"{v:.0f}B" if v == int(v) else f"{v:.1f}B"
    if n >= 1_000_000:
        v = n / 1e6
        return f"{v:.0f}M" if v == int(v) else f"{v:.2f}M"
    if n >= 1000:
        return f"{n / 1e3:.0f}K"
    return str(n)
