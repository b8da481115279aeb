"""What is cheap to check in a model's GGUF header before llama.cpp loads it.

llama.cpp trusts its header: a NaN hyperparameter, a layer count past its fixed-size arrays or a
vocabulary with a duplicate token reach a `GGML_ASSERT`, which aborts the whole process. These
checks read only the key/values and the tensor table (no weights), run at `create` and before
every load, and refuse a bad file with a 400 naming the field. They mirror the asserts and
assumptions of llama.cpp's `llama_model::load_hparams` and `llama_vocab::impl::load`, and are kept
loose wherever a real model may differ (a child runner process contains whatever gets through).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pyollama.errors import GGUFError
from pyollama.gguf import GGUFInfo

MAX_LAYERS = 512  # llama.cpp's LLAMA_MAX_LAYERS: per-layer arrays are this long
MAX_EXPERTS = 1024  # LLAMA_MAX_EXPERTS
MAX_CONTEXT = 2**31 - 1  # n_ctx_train is a uint32 and becomes an int
ROPE_SCALING_TYPES = ("none", "linear", "yarn", "longrope")  # LLAMA_ROPE_SCALING_TYPES
# the special token ids of llama_vocab::impl::load (tokenizer.ggml.<name>_token_id)
SPECIAL_TOKENS = (
    "bos", "eos", "eot", "eom", "unknown", "seperator", "padding", "cls", "mask",
    "prefix", "suffix", "middle", "fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep",
)  # fmt: skip
_NULL_TOKEN = 2**32 - 1  # LLAMA_TOKEN_NULL (-1) written as a uint32
# float hyperparameters with a range beyond "finite": (low, high, low inclusive)
FLOAT_RANGES: dict[str, tuple[float, float, bool]] = {
    "attention.layer_norm_rms_epsilon": (0.0, 1.0, True),
    "attention.layer_norm_epsilon": (0.0, 1.0, True),
    "attention.group_norm_epsilon": (0.0, 1.0, True),
    "rope.freq_base": (0.0, math.inf, False),
    "rope.freq_base_swa": (0.0, math.inf, False),
    "rope.scaling.factor": (0.0, math.inf, True),
    "rope.scale_linear": (0.0, math.inf, True),
    "attn_logit_softcapping": (0.0, math.inf, True),
    "final_logit_softcapping": (0.0, math.inf, True),
}
# architectures whose blocks are plain attention (attn_k/attn_v) and a dense FFN (ffn_down), so
# the shapes of those follow from the head counts and lengths alone
PLAIN_BLOCKS = frozenset(
    ("llama", "mistral", "gemma", "gemma2", "gemma3", "qwen2", "qwen3", "granite", "starcoder2", "olmo",
     "olmo2", "smollm3", "exaone", "internlm2", "stablelm", "cohere2", "command-r", "mistral3")
)  # fmt: skip
_BLOCK = re.compile(r"^blk\.(\d+)\.")


def _fail(field: str, problem: str) -> GGUFError:
    return GGUFError(f"invalid model: {field} {problem}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Header:
    """The key/values of one architecture with typed getters that name the field on failure."""

    def __init__(self, kv: Mapping[str, Any], arch: str) -> None:
        self.kv = kv
        self.arch = arch

    def key(self, suffix: str) -> str:
        return f"{self.arch}.{suffix}"

    def count(self, suffix: str, *, low: int = 0, high: int = MAX_CONTEXT) -> int | None:
        """An integer key (absent: None); an array here is llama.cpp's per-layer form: its largest."""
        name = self.key(suffix)
        if name not in self.kv:
            return None
        v = self.kv[name]
        values = v if isinstance(v, list) else [v]
        for x in values:
            if not _is_int(x):
                raise _fail(name, f"must be an integer, not {x!r}")
            if not low <= x <= high:
                raise _fail(name, f"is {x}; it must be between {low} and {high}")
        return max(values) if values else None

    def per_layer(self, suffix: str, n_layer: int) -> list[int] | None:
        """A key llama.cpp reads with get_key_or_arr: one value, or one per layer."""
        name = self.key(suffix)
        v = self.kv.get(name)
        if v is None:
            return None
        if isinstance(v, list):
            if len(v) != n_layer:
                raise _fail(name, f"has {len(v)} entries for {n_layer} blocks")
            return [int(x) for x in v]
        return [int(v)] * n_layer


def check_floats(kv: Mapping[str, Any], arch: str) -> None:
    """Every float of the architecture's namespace finite, and the known ones in range. The header
    reader gives NaN and infinities as None (JSON has neither)."""
    prefix = f"{arch}."
    for name, v in kv.items():
        if not name.startswith(prefix):
            continue
        values = v if isinstance(v, list) else [v]
        for i, x in enumerate(values):
            if x is None or (isinstance(x, float) and not math.isfinite(x)):
                where = f"{name}[{i}]" if isinstance(v, list) else name
                raise _fail(where, "is not a finite number")
        rule = FLOAT_RANGES.get(name[len(prefix) :])
        if rule is None or not isinstance(v, int | float) or isinstance(v, bool):
            continue
        low, high, inclusive = rule
        if not (low <= v if inclusive else low < v) or not v < high:
            bound = f">= {low:g}" if inclusive else f"> {low:g}"
            raise _fail(
                name, f"is {v:g}; it must be {bound}" + (f" and < {high:g}" if high < math.inf else "")
            )


def check_model(
    kv: Mapping[str, Any], tensors: Iterable[tuple[str, Sequence[int], str]], *, arrays: bool = True
) -> None:
    """Refuse a model header that llama.cpp would assert on or misread (`GGUFError`, a 400).

    `tensors`: (name, shape as ggml's ne, type name). `arrays=False`: the reader left the arrays
    out (a load-time check), so the vocabulary is not checked. Adapters and projectors are not
    models: only their floats are checked.
    """
    arch = str(kv.get("general.architecture") or "")
    tensor_list = list(tensors)
    if arch:
        check_floats(kv, arch)
    if kv.get("general.type") == "adapter" or arch in ("", "clip", "mmproj"):
        return
    h = _Header(kv, arch)
    shapes = {name: list(shape) for name, shape, _ in tensor_list}
    for name, dims, ggml_type in tensor_list:
        # norms and biases are added to or multiplied into f32 activations, and ggml's CPU binary
        # ops abort on any other type; every converter and quantizer writes 1-D tensors as F32
        if len(dims) == 1 and ggml_type.lower() != "f32":
            raise _fail(
                f"tensor {name}", f"is {ggml_type.upper()}; a 1-D tensor (a norm, a bias) must be F32"
            )

    # --- counts (llama_model::load_hparams) ---------------------------------------------------------
    h.count("context_length", low=1)
    n_embd = h.count("embedding_length", low=1)
    n_layer = h.count("block_count", low=1, high=MAX_LAYERS)
    if n_layer is not None:
        h.count("nextn_predict_layers", high=n_layer)
        blocks = [int(m.group(1)) for name in shapes if (m := _BLOCK.match(name))]
        if blocks and max(blocks) + 1 != n_layer:
            raise _fail(
                h.key("block_count"), f"is {n_layer} but the tensor table has {max(blocks) + 1} blocks"
            )
    _check_experts(h)
    scaling = kv.get(h.key("rope.scaling.type"))
    if scaling is not None and scaling not in ROPE_SCALING_TYPES:
        raise _fail(
            h.key("rope.scaling.type"), f"is {scaling!r}; it must be one of {', '.join(ROPE_SCALING_TYPES)}"
        )
    heads = kv_heads = ff = None
    if n_layer is not None:
        h.count("attention.head_count")
        h.count("attention.head_count_kv")
        h.count("feed_forward_length")
        heads = h.per_layer("attention.head_count", n_layer)
        kv_heads = h.per_layer("attention.head_count_kv", n_layer) or heads
        ff = h.per_layer("feed_forward_length", n_layer)
    has_attention = any(n.endswith((".attn_q.weight", ".attn_qkv.weight")) for n in shapes)
    scalar_heads = kv.get(h.key("attention.head_count"))
    if isinstance(scalar_heads, int) and scalar_heads <= 0 and has_attention:
        raise _fail(h.key("attention.head_count"), f"is {scalar_heads} but the model has attention tensors")
    if heads is not None and kv_heads is not None:
        for i, (nh, nkv) in enumerate(zip(heads, kv_heads, strict=True)):
            if nh > 0 and nkv > 0 and (nkv > nh or nh % nkv):
                where = h.key("attention.head_count_kv") + (
                    f"[{i}]" if isinstance(kv.get(h.key("attention.head_count_kv")), list) else ""
                )
                raise _fail(where, f"({nkv}) does not divide head_count ({nh})")
    key_length = h.count("attention.key_length", low=1)
    value_length = h.count("attention.value_length", low=1)

    # --- the vocabulary (llama_vocab::impl::load) --------------------------------------------------
    n_vocab: int | None = None
    if arrays:
        n_vocab = _check_vocabulary(kv)

    # --- shapes that follow from the hyperparameters -------------------------------------------------
    for name in ("token_embd.weight", "output.weight"):
        shape = shapes.get(name)
        if shape is None or len(shape) != 2:  # not a matrix: llama.cpp's own shape check says so
            continue
        if n_embd is not None and shape[0] != n_embd:
            raise _fail(f"tensor {name}", f"has shape {shape} but {h.key('embedding_length')} is {n_embd}")
        if n_vocab is not None and shape[1] != n_vocab:
            raise _fail(f"tensor {name}", f"has shape {shape} but the vocabulary has {n_vocab} tokens")
    if n_embd is not None:
        for name, shape in shapes.items():
            is_norm = name == "output_norm.weight" or (
                _BLOCK.match(name) is not None and name.endswith((".attn_norm.weight", ".ffn_norm.weight"))
            )
            if is_norm and shape != [n_embd]:
                raise _fail(
                    f"tensor {name}", f"has shape {shape} but {h.key('embedding_length')} is {n_embd}"
                )
    if arch in PLAIN_BLOCKS and n_embd is not None and n_layer is not None and heads and heads[0] > 0:
        head_k = key_length or n_embd // heads[0]
        head_v = value_length or n_embd // heads[0]
        for i in range(n_layer):
            nkv = kv_heads[i] if kv_heads else heads[i]
            expect = {
                f"blk.{i}.attn_k.weight": [n_embd, nkv * head_k],
                f"blk.{i}.attn_v.weight": [n_embd, nkv * head_v],
            }
            if ff is not None and ff[i] > 0:
                expect[f"blk.{i}.ffn_down.weight"] = [ff[i], n_embd]
            for name, want in expect.items():
                got = shapes.get(name)
                if got is not None and nkv > 0 and got != want:
                    raise _fail(f"tensor {name}", f"has shape {got}; the hyperparameters say {want}")


def _check_experts(h: _Header) -> None:
    """The expert asserts of load_hparams: counts within bounds and consistent with each other."""
    n_expert = h.count("expert_count", high=MAX_EXPERTS) or 0
    used = h.count("expert_used_count", high=MAX_EXPERTS) or 0
    groups = h.count("expert_group_count", high=MAX_EXPERTS) or 0
    group_used = h.count("expert_group_used_count", high=MAX_EXPERTS) or 0
    if n_expert == 0:
        if used:
            raise _fail(h.key("expert_used_count"), f"is {used} but the model has no experts")
        if groups:
            raise _fail(h.key("expert_group_count"), f"is {groups} but the model has no experts")
        return
    if not 0 < used <= n_expert:
        raise _fail(
            h.key("expert_used_count"), f"is {used}; it must be between 1 and expert_count ({n_expert})"
        )
    if groups >= n_expert:
        raise _fail(h.key("expert_group_count"), f"is {groups}; it must be below expert_count ({n_expert})")
    if groups > 1 and (n_expert % groups or not 0 < group_used < groups):
        raise _fail(
            h.key("expert_group_count"), f"({groups}) and expert_group_used_count ({group_used}) do not fit"
        )


def _check_vocabulary(kv: Mapping[str, Any]) -> int | None:
    """Token arrays of one length, unique token texts, special ids inside the vocabulary; the
    vocabulary size (None when the model has no tokenizer)."""
    tokens = kv.get("tokenizer.ggml.tokens")
    if tokens is None:
        return None
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise _fail("tokenizer.ggml.tokens", "must be an array of strings")
    n = len(tokens)
    if n == 0 and kv.get("tokenizer.ggml.model") not in (None, "none"):
        raise _fail("tokenizer.ggml.tokens", "is empty")
    if len(set(tokens)) != n:  # llama.cpp asserts id_to_token.size() == token_to_id.size()
        seen: set[str] = set()
        dup = next(t for t in tokens if t in seen or seen.add(t))  # type: ignore[func-returns-value]
        raise _fail("tokenizer.ggml.tokens", f"has the token {dup!r} twice")
    for name in ("tokenizer.ggml.scores", "tokenizer.ggml.token_type"):
        values = kv.get(name)
        if values is None:
            continue
        if not isinstance(values, list) or len(values) != n:
            length = len(values) if isinstance(values, list) else "no"
            raise _fail(name, f"has {length} entries for {n} tokens")
        if any(x is None for x in values):
            raise _fail(name, "has an entry that is not a finite number")
    size = kv.get(f"{kv.get('general.architecture')}.vocab_size")
    if size is not None and size != n:
        raise _fail(
            f"{kv.get('general.architecture')}.vocab_size", f"is {size} but the vocabulary has {n} tokens"
        )
    for special in SPECIAL_TOKENS:
        name = f"tokenizer.ggml.{special}_token_id"
        v = kv.get(name)
        if v is None:
            continue
        if not _is_int(v):
            raise _fail(name, f"must be an integer, not {v!r}")
        if v != -1 and v != _NULL_TOKEN and not 0 <= v < n:
            raise _fail(name, f"is {v}; the vocabulary has {n} tokens")
    return n


def check_gguf(info: GGUFInfo) -> None:
    """`check_model` over a header read with its arrays (`pyollama.gguf.read_gguf_info`)."""
    check_model(info.kv, [(t.name, t.shape, t.type) for t in info.tensors])
