"""`PARAMETER`/`/set parameter` values typed as Ollama's `api.FormatParams` types them."""

from __future__ import annotations

from typing import Any

INT_OPTIONS = frozenset(
    {
        "num_ctx",
        "num_batch",
        "num_gpu",
        "main_gpu",
        "num_thread",
        "draft_num_predict",
        "num_keep",
        "seed",
        "num_predict",
        "top_k",
        "repeat_last_n",
    }
)
FLOAT_OPTIONS = frozenset(
    {"top_p", "min_p", "typical_p", "temperature", "repeat_penalty", "presence_penalty", "frequency_penalty"}
)
BOOL_OPTIONS = frozenset({"use_mmap"})
LIST_OPTIONS = frozenset({"stop"})
DEPRECATED_OPTIONS = frozenset(
    {
        "penalize_newline",
        "low_vram",
        "f16_kv",
        "logits_all",
        "vocab_only",
        "use_mlock",
        "mirostat",
        "mirostat_tau",
        "mirostat_eta",
    }
)


def _go_list(values: list[str]) -> str:
    return "[" + " ".join(values) + "]"


def _parse_bool(text: str) -> bool:
    t = text.strip()
    if t in {"1", "t", "T", "TRUE", "true", "True"}:
        return True
    if t in {"0", "f", "F", "FALSE", "false", "False"}:
        return False
    raise ValueError(text)


def format_param(name: str, values: list[str]) -> Any:
    """One option's typed value; ValueError with Ollama's message when it can't be typed."""
    if name in LIST_OPTIONS:
        return list(values)
    if name in INT_OPTIONS:
        try:
            return int(values[0])
        except (ValueError, IndexError):
            raise ValueError(f"invalid int value {_go_list(values)}") from None
    if name in FLOAT_OPTIONS:
        try:
            return float(values[0])
        except (ValueError, IndexError):
            raise ValueError(f"invalid float value {_go_list(values)}") from None
    if name in BOOL_OPTIONS:
        try:
            return _parse_bool(values[0])
        except (ValueError, IndexError):
            raise ValueError(f"invalid bool value {_go_list(values)}") from None
    if name in DEPRECATED_OPTIONS:
        raise ValueError(f"parameter {name} is deprecated")
    raise ValueError(f"unknown parameter '{name}'")


def format_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Modelfile `PARAMETER` lines to the `parameters` object (`stop` lines accumulate)."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    out: dict[str, Any] = {}
    for name, values in grouped.items():
        if name in DEPRECATED_OPTIONS:
            continue
        out[name] = format_param(name, values)
    return out
