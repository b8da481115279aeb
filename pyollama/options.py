"""Ollama's model options: the one table of names, types, defaults and load-time flags.

Mirrors api/types.go (`Options`, `Runner`, `DefaultOptions`, `FromMap`, `FormatParams`). Three
readers share it: Modelfile `PARAMETER` parsing (strings in, typed values out), the API's
`options` objects (JSON values in, checked), and the scheduler, which reloads a model only when a
load-time option changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pyollama.errors import BadRequest, InternalError
from pyollama.go.strconv import BOOL_STRINGS, float32_shortest

OptionType = Literal["int", "float", "bool", "string", "string_list"]


@dataclass(frozen=True)
class OptionSpec:
    """One option: Ollama's name, type and default, whether changing it reloads the model, and the
    llama.cpp request field a per-request option becomes (the runner does the translation)."""

    name: str
    type: OptionType
    default: Any  # None: unset / decided at load time
    load_time: bool = False
    doc: str = ""
    llama: str | None = None  # llama.cpp's /completion field (per-request options only)
    sent_by_default: bool = False  # Ollama's default goes to llama.cpp even when nobody set it
    choices: tuple[str, ...] = ()  # the values a string option may take ("" always: unset)


def _sampling(
    name: str, type_: OptionType, default: Any, doc: str = "", llama: str | None = None
) -> OptionSpec:
    """A sampling option whose Ollama default replaces llama.cpp's (top_p 0.9, not 0.95; ...)."""
    return OptionSpec(name, type_, default, False, doc, llama or name, True)


# llama.cpp's n-gram speculators (common/speculative.cpp), for the `draft_ngram` option
NGRAM_SPECULATORS = ("ngram-simple", "ngram-map-k", "ngram-map-k4v", "ngram-mod", "ngram-cache")

OPTIONS: dict[str, OptionSpec] = {
    s.name: s
    for s in (
        # load-time (Runner): changing one reloads the model
        OptionSpec("num_ctx", "int", None, True, "context per slot; default from OLLAMA_CONTEXT_LENGTH/VRAM"),
        OptionSpec("num_batch", "int", 512, True, "logical batch size"),
        OptionSpec("num_gpu", "int", -1, True, "layers offloaded; -1 auto, 0 CPU only"),
        OptionSpec("main_gpu", "int", None, True, "forces a single GPU"),
        OptionSpec("use_mmap", "bool", None, True, "unset = auto; false loads without mmap"),
        OptionSpec("num_thread", "int", 0, True, "0 = auto"),
        OptionSpec("draft_num_predict", "int", 4, True, "speculative decoding draft length"),
        # pyollama's own: llama.cpp's draft-free n-gram speculation, and the LoRA adapters' scale
        OptionSpec(
            "draft_ngram",
            "string",
            None,
            True,
            "n-gram speculative decoding (no draft model): one of llama.cpp's n-gram speculators",
            choices=NGRAM_SPECULATORS,
        ),
        OptionSpec("lora_scale", "float", 1.0, True, "scale of the ADAPTERs (0 turns them off)"),
        # pyollama's own: Ollama has only the server-wide OLLAMA_NUM_PARALLEL (its #8842)
        OptionSpec(
            "num_parallel", "int", None, True, "slots for this model; unset = OLLAMA_NUM_PARALLEL/auto"
        ),
        # per request (sampling / prediction)
        OptionSpec("num_keep", "int", 4, False, "tokens kept on context shift", "n_keep"),
        OptionSpec("seed", "int", -1, False, "-1 = random", "seed"),
        OptionSpec("num_predict", "int", -1, False, "-1 = until stop (10 x num_ctx)", "n_predict"),
        _sampling("top_k", "int", 40),
        _sampling("top_p", "float", 0.9),
        _sampling("min_p", "float", 0.0),
        _sampling("typical_p", "float", 1.0),
        _sampling("repeat_last_n", "int", 64, "0 off, -1 = num_ctx"),
        _sampling("temperature", "float", 0.8),
        _sampling("repeat_penalty", "float", 1.0),
        _sampling("presence_penalty", "float", 0.0),
        _sampling("frequency_penalty", "float", 0.0),
        OptionSpec("stop", "string_list", [], False, "repeatable in a Modelfile", "stop"),
    )
}

LOAD_TIME_OPTIONS: frozenset[str] = frozenset(n for n, s in OPTIONS.items() if s.load_time)
DEFAULTS_SENT: dict[str, Any] = {n: s.default for n, s in OPTIONS.items() if s.sent_by_default}
"""Ollama's sampling defaults that always reach llama.cpp, whose own would differ (api.DefaultOptions)."""

# Accepted by old Ollama; a Modelfile using them gets a warning and the value is dropped.
DEPRECATED_PARAMETERS: tuple[str, ...] = (
    "penalize_newline",
    "low_vram",
    "f16_kv",
    "logits_all",
    "vocab_only",
    "use_mlock",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
)

_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_INT64 = (-(2**63), 2**63 - 1)


def deprecation_warning(name: str) -> str:
    return f"warning: parameter {name} is deprecated"


def _go_list(values: list[str]) -> str:
    return "[" + " ".join(values) + "]"  # Go's %s of a []string


def _parse_go_float(s: str) -> float:
    if "_" in s or s.strip() != s or not s:
        raise ValueError(s)
    low = s.lower().lstrip("+-")
    if low in ("inf", "infinity", "nan"):
        return float(s)
    if low.startswith("0x"):
        return float32_shortest(float.fromhex(s))
    return float32_shortest(float(s))


def format_params(params: dict[str, list[str]]) -> dict[str, Any]:
    """Modelfile strings to typed values (Go `api.FormatParams`), with Ollama's error wording."""
    out: dict[str, Any] = {}
    for key, vals in params.items():
        spec = OPTIONS.get(key)
        if spec is None:
            raise BadRequest(f"unknown parameter '{key}'")
        v = vals[0]
        if spec.type == "float":
            try:
                out[key] = _parse_go_float(v)
            except ValueError:
                raise BadRequest(f"invalid float value {_go_list(vals)}") from None
        elif spec.type == "int":
            if not _INT_RE.match(v) or not _INT64[0] <= int(v) <= _INT64[1]:
                raise BadRequest(f"invalid int value {_go_list(vals)}")
            out[key] = int(v)
        elif spec.type == "bool":
            if v not in BOOL_STRINGS:
                raise BadRequest(f"invalid bool value {_go_list(vals)}")
            out[key] = BOOL_STRINGS[v]
        elif spec.type == "string":
            _check_choice(spec, v)
            out[key] = v
        else:
            out[key] = list(vals)
    return out


def _check_choice(spec: OptionSpec, value: str) -> None:
    if spec.choices and value and value not in spec.choices:
        raise BadRequest(f"invalid {spec.name} value {value!r}: one of {', '.join(spec.choices)}")


def check_option(key: str, val: Any) -> Any | None:
    """Validate one API `options` value (Go `Options.FromMap`).

    Returns the value to use, None for unknown keys (ignored, as Ollama does) and raises
    `InternalError` (Ollama answers 500) for a wrong type.
    """
    spec = OPTIONS.get(key)
    if spec is None or val is None:
        return None
    if spec.type == "int":
        if isinstance(val, bool) or not isinstance(val, int | float):
            raise InternalError(f'option "{key}" must be of type integer')
        return int(val)
    if spec.type == "float":
        if isinstance(val, bool) or not isinstance(val, int | float):
            raise InternalError(f'option "{key}" must be of type float32')
        return float(val)
    if spec.type == "bool":
        if not isinstance(val, bool):
            raise InternalError(f'option "{key}" must be of type boolean')
        return val
    if spec.type == "string":
        if not isinstance(val, str):
            raise InternalError(f'option "{key}" must be of type string')
        _check_choice(spec, val)
        return val
    if not isinstance(val, list):
        raise InternalError(f'option "{key}" must be of type array')
    if not all(isinstance(x, str) for x in val):
        raise InternalError(f'option "{key}" must be of an array of strings')
    return list(val)
