"""Make tiny GGUF models for tests: random-weight llamas (plumbing), scripted models (constructed
weights that make the real engine emit a chosen output) and a random-weight vision projector."""

from __future__ import annotations

import math
import re
import struct
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np


def _copy_tokenizer(reader: Any, writer: Any) -> int:
    import gguf

    n_vocab = 0
    for field in reader.fields.values():
        name = field.name
        if not name.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            sub = field.types[-1]
            if sub == gguf.GGUFValueType.STRING:
                value = [bytes(field.parts[i]).decode("utf-8", "replace") for i in field.data]
            else:
                value = [field.parts[i].tolist()[0] for i in field.data]
            if name == "tokenizer.ggml.tokens":
                n_vocab = len(value)
            writer.add_array(name, value)
        elif vtype == gguf.GGUFValueType.STRING:
            writer.add_string(name, bytes(field.parts[-1]).decode("utf-8", "replace"))
        else:
            writer.add_key_value(name, field.parts[-1].tolist()[0], vtype)
    return n_vocab


def make_tiny_llama(
    path: Path,
    vocab_gguf: Path,
    *,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_head_kv: int = 2,
    n_ff: int = 128,
    n_ctx: int = 512,
    chat_template: str | None = None,
    seed: int = 0,
) -> Path:
    import gguf

    reader = gguf.GGUFReader(str(vocab_gguf))
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(0)
    n_vocab = _copy_tokenizer(reader, writer)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    rng = np.random.default_rng(seed)

    def t(name: str, *shape: int) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    # tied output (no output.weight) and f16 embeddings keep the file small
    writer.add_tensor("token_embd.weight", (rng.standard_normal((n_vocab, n_embd)) * 0.02).astype(np.float16))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    kv = n_embd // n_head * n_head_kv
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        t(f"blk.{i}.attn_q.weight", n_embd, n_embd)
        t(f"blk.{i}.attn_k.weight", kv, n_embd)
        t(f"blk.{i}.attn_v.weight", kv, n_embd)
        t(f"blk.{i}.attn_output.weight", n_embd, n_embd)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        t(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


# ======================================================================================

# Fast GGUF I/O (the `gguf` package takes seconds to read a 150k-token vocabulary)
# =============================================================================================

_GGUF_ALIGN = 32
# GGUF value types (gguf.h: enum gguf_type)
_U8, _I8, _U16, _I16, _U32, _I32, _F32, _BOOL, _STR, _ARR, _U64, _I64, _F64 = range(13)
_SCALAR = {
    _U8: "<u1",
    _I8: "<i1",
    _U16: "<u2",
    _I16: "<i2",
    _U32: "<u4",
    _I32: "<i4",
    _F32: "<f4",
    _BOOL: "<u1",
    _U64: "<u8",
    _I64: "<i8",
    _F64: "<f8",
}
# ggml tensor types written here
_GGML_F32, _GGML_F16 = 0, 1


def _read_gguf_kv(path: Path) -> dict[str, tuple[int, Any]]:
    """The key/value section of a GGUF file: key -> (type, value); arrays of strings are lists."""
    buf = path.read_bytes()
    if buf[:4] != b"GGUF":
        raise ValueError(f"{path} is not a GGUF file")
    _version, _n_tensors, n_kv = struct.unpack_from("<IQQ", buf, 4)
    off = 24

    def string(o: int) -> tuple[str, int]:
        (n,) = struct.unpack_from("<Q", buf, o)
        return buf[o + 8 : o + 8 + n].decode("utf-8", "replace"), o + 8 + n

    out: dict[str, tuple[int, Any]] = {}
    for _ in range(n_kv):
        key, off = string(off)
        (vtype,) = struct.unpack_from("<I", buf, off)
        off += 4
        value: Any
        if vtype == _STR:
            value, off = string(off)
        elif vtype == _ARR:
            etype, count = struct.unpack_from("<IQ", buf, off)
            off += 12
            if etype == _STR:
                items = []
                for _ in range(count):
                    s, off = string(off)
                    items.append(s)
                value = (etype, items)
            else:
                dt = np.dtype(_SCALAR[etype])
                value = (etype, np.frombuffer(buf, dt, count, off).copy())
                off += dt.itemsize * count
        else:
            dt = np.dtype(_SCALAR[vtype])
            value = np.frombuffer(buf, dt, 1, off)[0].item()
            if vtype == _BOOL:
                value = bool(value)
            off += dt.itemsize
        out[key] = (vtype, value)
    return out


def _gguf_str(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _gguf_value(vtype: int, value: Any) -> bytes:
    if vtype == _STR:
        return _gguf_str(value)
    if vtype == _ARR:
        etype, items = value
        head = struct.pack("<IQ", etype, len(items))
        if etype == _STR:
            return head + b"".join(_gguf_str(s) for s in items)
        return head + np.asarray(items, dtype=_SCALAR[etype]).tobytes()
    return np.asarray(value, dtype=_SCALAR[vtype]).tobytes()


def _write_gguf(path: Path, kv: list[tuple[str, int, Any]], tensors: list[tuple[str, np.ndarray]]) -> None:
    """Write a GGUF v3 file: metadata, then f32/f16 tensors (numpy shape (rows, cols) = ggml {cols, rows})."""
    parts = [b"GGUF", struct.pack("<IQQ", 3, len(tensors), len(kv))]
    parts += [
        _gguf_str(key) + struct.pack("<I", vtype) + _gguf_value(vtype, value) for key, vtype, value in kv
    ]
    offset = 0
    blobs = []
    for name, arr in tensors:
        if arr.dtype not in (np.float32, np.float16):
            raise TypeError(f"{name}: only f32/f16 tensors are written, not {arr.dtype}")
        ggml_type = _GGML_F32 if arr.dtype == np.float32 else _GGML_F16
        dims = list(reversed(arr.shape))
        parts.append(_gguf_str(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, ggml_type, offset))
        data = np.ascontiguousarray(arr).tobytes()
        pad = -len(data) % _GGUF_ALIGN
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    head = b"".join(parts)
    head += b"\0" * (-len(head) % _GGUF_ALIGN)
    with open(path, "wb") as f:
        f.write(head)
        for blob in blobs:
            f.write(blob)


# =============================================================================================
# A byte-level BPE tokenizer (Qwen2's pre-tokenizer), to find trigger and script tokens
# =============================================================================================

_TOKEN_NORMAL, _TOKEN_UNKNOWN, _TOKEN_CONTROL, _TOKEN_USER_DEFINED = 1, 2, 3, 4
# Unicode White_Space (llama.cpp's unicode flags), not Python's str.isspace()
_WHITESPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _byte_alphabet() -> list[str]:
    """GPT-2's byte -> printable character table (byte-level BPE vocabularies are written in it)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


_BYTE_CHARS = _byte_alphabet()
_CHAR_BYTES = {c: b for b, c in enumerate(_BYTE_CHARS)}


def _is_letter(c: str) -> bool:
    return unicodedata.category(c).startswith("L")


def _is_number(c: str) -> bool:
    return unicodedata.category(c).startswith("N")


def _qwen2_words(text: str) -> list[str]:
    """Split text as Qwen2's pre-tokenizer regex does (llama.cpp LLAMA_VOCAB_PRE_TYPE_QWEN2):
    `'s|'t|'re|'ve|'m|'ll|'d | [^\\r\\n\\p{L}\\p{N}]?\\p{L}+ | \\p{N} | ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*
    | \\s*[\\r\\n]+ | \\s+(?!\\S) | \\s+`, the alternatives tried in that order at each position."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        # contractions
        if c == "'" and i + 1 < n:
            two = text[i + 1 : i + 3].lower()
            if two in ("re", "ve", "ll"):
                words.append(text[i : i + 3])
                i += 3
                continue
            if nxt.lower() in ("s", "t", "m", "d"):
                words.append(text[i : i + 2])
                i += 2
                continue
        # [^\r\n\p{L}\p{N}]?\p{L}+
        start = i
        if not _is_letter(c) and c not in "\r\n" and not _is_number(c) and nxt and _is_letter(nxt):
            j = i + 1
        elif _is_letter(c):
            j = i
        else:
            j = -1
        if j >= 0:
            while j < n and _is_letter(text[j]):
                j += 1
            words.append(text[start:j])
            i = j
            continue
        if _is_number(c):
            words.append(c)
            i += 1
            continue
        # ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        j = i + 1 if c == " " else i

        def other(ch: str) -> bool:
            return ch not in _WHITESPACE and not _is_letter(ch) and not _is_number(ch)

        if j < n and other(text[j]):
            while j < n and other(text[j]):
                j += 1
            while j < n and text[j] in "\r\n":
                j += 1
            words.append(text[i:j])
            i = j
            continue
        # whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
        j = i
        while j < n and text[j] in _WHITESPACE:
            j += 1
        last_nl = max(text.rfind("\r", i, j), text.rfind("\n", i, j))
        if last_nl >= 0:
            end = last_nl + 1
        elif j == n or j - i == 1:
            end = j
        else:
            end = j - 1  # leave the last space to prefix the next word
        words.append(text[i:end])
        i = end
    return words


class BpeTokenizer:
    """Qwen2-style byte-level BPE over a GGUF vocabulary (special tokens always parsed).

    Only what the factory needs: it tokenizes trigger and script texts the way llama.cpp tokenizes a
    prompt, so the constructed model reacts to exactly those tokens.
    """

    def __init__(self, tokens: list[str], types: np.ndarray, merges: list[str]) -> None:
        self.tokens = tokens
        self.types = types
        self.ids = {t: i for i, t in enumerate(tokens)}
        self._merges = merges
        self._ranks: dict[tuple[str, str], int] | None = None
        special = [
            i
            for i, ty in enumerate(types.tolist())
            if ty in (_TOKEN_CONTROL, _TOKEN_USER_DEFINED, _TOKEN_UNKNOWN)
        ]
        special.sort(key=lambda i: -len(tokens[i]))
        self._special = (
            re.compile("(" + "|".join(re.escape(tokens[i]) for i in special) + ")") if special else None
        )
        self._cache: dict[str, list[int]] = {}

    def _bpe(self, word: str) -> list[int]:
        if word in self._cache:
            return self._cache[word]
        if self._ranks is None:
            self._ranks = {}
            for rank, m in enumerate(self._merges):
                a, _, b = m.partition(" ")
                self._ranks.setdefault((a, b), rank)
        ranks = self._ranks
        syms = list("".join(_BYTE_CHARS[b] for b in word.encode("utf-8")))
        while len(syms) > 1:
            best, best_rank = -1, len(ranks) + 1
            for k in range(len(syms) - 1):
                r = ranks.get((syms[k], syms[k + 1]))
                if r is not None and r < best_rank:
                    best, best_rank = k, r
            if best < 0:
                break
            a, b = syms[best], syms[best + 1]
            merged: list[str] = []
            k = 0
            while k < len(syms):
                if k < len(syms) - 1 and syms[k] == a and syms[k + 1] == b:
                    merged.append(a + b)
                    k += 2
                else:
                    merged.append(syms[k])
                    k += 1
            syms = merged
        out: list[int] = []
        for s in syms:
            if s in self.ids:
                out.append(self.ids[s])
            else:  # llama.cpp falls back to one token per byte
                out.extend(self.ids[ch] for ch in s)
        self._cache[word] = out
        return out

    def encode(self, text: str) -> list[int]:
        pieces = self._special.split(text) if self._special else [text]
        out: list[int] = []
        for k, piece in enumerate(pieces):
            if k % 2 == 1:  # a special token (the split keeps the separators at odd indexes)
                out.append(self.ids[piece])
            elif piece:
                for word in _qwen2_words(piece):
                    out.extend(self._bpe(word))
        return out

    def decode(self, ids: list[int]) -> str:
        raw = bytearray()
        for i in ids:
            text = self.tokens[i]
            if self.types[i] in (_TOKEN_CONTROL, _TOKEN_USER_DEFINED, _TOKEN_UNKNOWN):
                raw += text.encode("utf-8")
            else:
                raw += bytes(_CHAR_BYTES[c] for c in text)
        return raw.decode("utf-8", "replace")


# =============================================================================================
# Scripted models: constructed weights that make the real engine emit a chosen token script
# =============================================================================================
#
# A 2-layer llama whose output at each position depends only on (which trigger was seen last,
# how many tokens ago). Everything is exact arithmetic with wide margins, so that greedy and
# sampled decoding (top_k/top_p/temperature, repeat penalty) agree, whatever the prompt says before
# the trigger, on the CPU paths llama.cpp takes (flash attention on or off, f16 K/V cache).
#
# Residual stream (n_embd dims): a large constant (only there to pin RMSNorm's scale: no weight
# reads it), a +-1 code of the token when it is a trigger token (TT), per-trigger match counts (MT),
# per-trigger "trigger ends here" flags (FL), and the output code (CD: sparse +-1 codes, one per
# script token, plus an axis for the end-of-generation token).
#
# RoPE: freq_base 1 and a `rope_freqs` table give each rotary pair an arbitrary frequency.
#   - "binary" pairs, w_m = pi / 2^m: sum_m cos(w_m * x) is n_bin at x = 0 and at most n_bin - 2 for
#     any other |x| < 2^n_bin, so a query rotated by -x*w attends to exactly x positions back;
#   - one pair with w = 0 (a constant term in the score);
#   - "ramp" pairs, harmonics of 2*pi/P: together a Gaussian flank, a score that drops by >= STEP
#     per position over the first J positions and stays below for the whole context.
#
# Layer 0 (trigger detection): head i-1 reads the TT code i positions back; W_o sums, per trigger,
#   how many of its tokens are where they should be; the FFN turns "all of them" into FL (the
#   longest trigger wins where one is a suffix of another) and cancels the input token's output code
#   (the output matrix is the embedding table: tied, to keep the file small).
# Layer 1 (position in the script): head j-1 (j = 1..J) compares a flag's ramp score with a sink on
#   the current position: it reads the flag vector (e_T) when the most recent trigger is less than j
#   tokens back, else ~0 (a thermometer code of k, the distance). W_o telescopes: head j writes
#   code(T, j-1) - code(T, j), so the sum over heads is code(T, k): the token to emit.
#   The attention output bias adds half an end-token code: with no trigger in range the model ends.
#
# The most recent trigger wins, so a script that contains another entry's trigger continues with
# that entry's script (this is how "<think>...</think>\n\n" + answer reuses the think-off entry).

_CONST = 256.0  # the residual's constant (pins RMSNorm; f16-exact)
_STEP = 24.0  # ramp: score drop per position (a threshold sits half way: margin 12 nats)
_PEAK = 10.0  # binary kernel weight per pair: exact-offset heads win by >= 20 nats
_GATE = 30.0  # FFN gates: silu(+-30) is +30 / -3e-12
_LOGIT = 100.0  # the scripted token's logit (others <= 50, the rest of the vocabulary 0)
_END_BIAS = 0.5  # default end-of-generation code, in units of a script token's code
_RAMP_TAIL = 1e-7  # Gaussian harmonics kept down to this relative size
_MAX_RAMP = 10000.0  # ramp score range: f16 rounding of Q and K errs by < 2.5 nats at this size

# Qwen3's added tokens, at Qwen3's ids, written over the [PAD...] placeholders of a Qwen2 vocab
QWEN3_ADDED_TOKENS: dict[int, str] = {
    151657: "<tool_call>",
    151658: "</tool_call>",
    151665: "<tool_response>",
    151666: "</tool_response>",
    151667: "<think>",
    151668: "</think>",
}
QWEN_VOCAB = (
    Path(__file__).resolve().parent.parent / "vendor" / "llama.cpp" / "models" / "ggml-vocab-qwen2.gguf"
)


class ScriptError(ValueError):
    """The entries cannot be scripted as given (the message says which entry and why)."""


def load_vocab(vocab_gguf: Path = QWEN_VOCAB) -> tuple[dict[str, tuple[int, Any]], BpeTokenizer]:
    """A vocabulary's tokenizer keys (with Qwen3's added tokens over free placeholders) and its tokenizer."""
    kv = {k: v for k, v in _read_gguf_kv(vocab_gguf).items() if k.startswith("tokenizer.")}
    kv.pop("tokenizer.chat_template", None)
    _etype, tokens = kv["tokenizer.ggml.tokens"][1]
    tokens = list(tokens)
    types = kv["tokenizer.ggml.token_type"][1][1]
    for tid, text in QWEN3_ADDED_TOKENS.items():
        if tid < len(tokens) and tokens[tid].startswith("[PAD") and text not in tokens:
            tokens[tid] = text
            types[tid] = _TOKEN_USER_DEFINED
    kv["tokenizer.ggml.tokens"] = (_ARR, (_STR, tokens))
    kv["tokenizer.ggml.token_type"] = (_ARR, (_I32, types))
    merges = kv["tokenizer.ggml.merges"][1][1] if "tokenizer.ggml.merges" in kv else []
    return kv, BpeTokenizer(tokens, types, merges)


def _ramp(n_thresholds: int, n_ctx: int, n_pairs: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Harmonics (frequencies, amplitudes, phase offset) of a periodic Gaussian whose right flank
    falls by >= _STEP per position over [0, n_thresholds] and keeps falling up to n_ctx."""
    z = math.sqrt(-2.0 * math.log(_RAMP_TAIL))
    sigma_min = z * n_ctx / (2 * math.pi * n_pairs - 8 * z)  # narrowest bump n_pairs harmonics can draw
    sigma = max(n_thresholds / 1.4, sigma_min)
    period = n_ctx + 8 * sigma  # the next bump is past the context
    width = n_thresholds / sigma

    def slope(u: float) -> float:  # |d/du exp(-u^2/2)|
        return u * math.exp(-u * u / 2)

    u0 = max((k / 1000 for k in range(3001)), key=lambda u: min(slope(u), slope(u + width)))
    amp = _STEP * sigma / min(slope(u0), slope(u0 + width)) * 1.08
    n = np.arange(1, n_pairs + 1)
    omega = 2 * math.pi * n / period
    alpha = amp * 2 * sigma * math.sqrt(2 * math.pi) / period * np.exp(-((omega * sigma) ** 2) / 2)
    return omega, alpha, u0 * sigma


def _sparse_codes(n: int) -> tuple[int, np.ndarray]:
    """n unit vectors with pairwise dot products in {0, +-1/2, -1}: two +-1/sqrt(2) entries each."""
    d = 2
    while 2 * d * (d - 1) < n:
        d += 1
    codes = []
    for a in range(d):
        for b in range(a + 1, d):
            for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                v = np.zeros(d)
                v[a], v[b] = sa, sb
                codes.append(v / math.sqrt(2))
    return d, np.array(codes[:n]).reshape(n, d)


def _sign_codes(n: int) -> tuple[int, np.ndarray]:
    """n distinct +-1 vectors (two differ in >= 1 place: their dot is <= t - 2 in t dims)."""
    t = max(1, (n - 1).bit_length())
    codes = [[1.0 if (i >> b) & 1 else -1.0 for b in range(t)] for i in range(n)]
    return t, np.array(codes).reshape(n, t)


def _most_recent_trigger(seq: list[int], triggers: list[list[int]]) -> tuple[int, int] | None:
    """(trigger index, position) of the latest position where a trigger ends (the longest one there);
    only triggers wholly inside `seq` count."""
    for pos in range(len(seq) - 1, -1, -1):
        best = -1
        for t, trig in enumerate(triggers):
            n = len(trig)
            if n <= pos + 1 and seq[pos + 1 - n : pos + 1] == trig and (best < 0 or n > len(triggers[best])):
                best = t
        if best >= 0:
            return best, pos
    return None


def make_scripted_model(
    path: Path,
    entries: list[tuple[str, str]],
    *,
    chat_template: str | None = None,
    vocab_gguf: Path = QWEN_VOCAB,
    n_ctx: int = 2048,
    eog: str = "<|im_end|>",
    name: str = "scripted",
) -> Path:
    """Write a llama GGUF that, right after any of the `(trigger, script)` texts' trigger, generates
    the script's tokens and then `eog` (with probability ~1, also when sampled).

    Texts are tokenized with the vocabulary's own tokenizer, special tokens parsed: a trigger should
    start with a special token (`<|im_start|>`, `</think>`, ...) so that the prompt text before it
    cannot merge into its first token. Whatever came before the trigger does not matter. When a
    script contains another entry's trigger, generation continues with that entry's script: a script
    must agree with that, else ScriptError says where. Prompts without a trigger in the last
    J tokens (J = longest script + 1) end at once.

    Limits: scripts of up to ~200 tokens (n_ctx 2048); prompts up to n_ctx (the model's
    context_length, which llama.cpp caps the slot context to); an f16 or f32 K/V cache (q8_0/q4_0
    caches are too coarse for the position scores). ~11 MB with the Qwen vocabulary (5.9 MB of it is
    the tokenizer), built in < 1 s.
    """
    kv, tensors = scripted_weights(
        entries, chat_template=chat_template, vocab_gguf=vocab_gguf, n_ctx=n_ctx, eog=eog, name=name
    )
    _write_gguf(path, kv, tensors)
    return path


def scripted_weights(
    entries: list[tuple[str, str]],
    *,
    chat_template: str | None = None,
    vocab_gguf: Path = QWEN_VOCAB,
    n_ctx: int = 2048,
    eog: str = "<|im_end|>",
    name: str = "scripted",
) -> tuple[list[tuple[str, int, Any]], list[tuple[str, np.ndarray]]]:
    """The metadata and tensors of `make_scripted_model` (see there)."""
    kv_tok, tok = load_vocab(vocab_gguf)
    eog_id = tok.ids.get(eog)
    if eog_id is None:
        raise ScriptError(f"{eog!r} is not a token of {vocab_gguf.name}")
    triggers = [tok.encode(t) for t, _ in entries]
    scripts = [tok.encode(s) for _, s in entries]
    for (text, _), ids in zip(entries, triggers, strict=True):
        if not ids:
            raise ScriptError("empty trigger")
        if triggers.count(ids) > 1:
            raise ScriptError(f"trigger {text!r} is given twice")
    for (text, script), ids in zip(entries, scripts, strict=True):
        if eog_id in ids:
            raise ScriptError(f"the script after {text!r} contains the end token {eog!r}: {script!r}")
    n_trig = len(entries)
    n_think = max(len(s) for s in scripts) + 1  # J: positions 0..J-1 are scripted (the last: eog)
    if n_think + 8 > n_ctx // 2:
        raise ScriptError(f"scripts of up to {n_ctx // 2 - 9} tokens fit a context of {n_ctx}")

    # what the model emits k tokens after trigger t (the script, then eog)
    table = [[*s, *[eog_id] * (n_think - len(s))] for s in scripts]
    for t, (text, _) in enumerate(entries):
        seq = list(triggers[t])
        want = [*scripts[t], eog_id]
        for step, expected in enumerate(want):
            found = _most_recent_trigger(seq, triggers)
            assert found is not None  # the trigger itself ends the sequence
            last, pos = found
            k = len(seq) - 1 - pos
            got = table[last][k] if k < n_think else eog_id
            if got != expected:
                raise ScriptError(
                    f"the script after {text!r} contains the trigger {entries[last][0]!r}; from there the "
                    f"model follows that trigger's script, so token {step} would be {tok.decode([got])!r}, "
                    f"not {tok.decode([expected])!r}: end the script with that trigger's script"
                )
            seq.append(got)

    # --- token codes ------------------------------------------------------------------------------
    trig_tokens = sorted({i for t in triggers for i in t})
    n_tt, tt_codes = _sign_codes(len(trig_tokens))
    tt_code = {tid: tt_codes[i] for i, tid in enumerate(trig_tokens)}
    out_tokens = sorted({i for s in scripts for i in s})
    n_cd, cd_codes = _sparse_codes(max(1, len(out_tokens)))
    cd_code = {tid: np.concatenate([cd_codes[i], [0.0]]) for i, tid in enumerate(out_tokens)}
    cd_code[eog_id] = np.concatenate([np.zeros(n_cd), [1.0]])
    n_cd += 1  # the end-of-generation axis

    # --- residual layout ------------------------------------------------------------------------------
    TT = 1
    MT = TT + n_tt
    FL = MT + n_trig
    CD = FL + n_trig
    n_embd = CD + n_cd
    n_embd += n_embd % 2
    rms = _CONST / math.sqrt(n_embd)  # RMSNorm's divisor, to within 0.3% (the constant dominates)
    EOG_DIM = CD + n_cd - 1

    # --- rotary pairs -----------------------------------------------------------------------------------
    n_bin = max(1, (n_ctx - 1).bit_length())  # distances up to n_ctx - 1 < 2^n_bin
    d = 64 if n_ctx <= 2048 else 96 if n_ctx <= 4096 else 128  # binary pairs, a constant pair, ramp pairs
    n_ramp = d // 2 - 1 - n_bin
    if n_ramp < 20:
        raise ScriptError(f"n_ctx {n_ctx} is too large for this construction")
    P_BIN, P_CONST, P_RAMP = 0, n_bin, n_bin + 1
    omega_bin = math.pi / 2.0 ** np.arange(n_bin)
    omega_ramp, alpha, shift = _ramp(n_think, n_ctx, n_ramp)
    omega = np.concatenate([omega_bin, [0.0], omega_ramp])
    freq_factors = np.where(omega > 0, 1.0 / np.where(omega > 0, omega, 1.0), 1e30).astype(np.float32)
    qscale = math.sqrt(d)  # llama scales scores by 1/sqrt(head_dim)
    n_head = max(n_think, max(len(t) for t in triggers) - 1, 1)

    # --- vocabulary embedding (tied output) ------------------------------------------------------------
    n_vocab = len(tok.tokens)
    embd = np.zeros((n_vocab, n_embd), dtype=np.float16)
    embd[:, 0] = _CONST
    for tid, code in tt_code.items():
        embd[tid, TT : TT + n_tt] = code
    for tid, code in cd_code.items():
        embd[tid, CD : CD + n_cd] = code

    def zeros(*shape: int) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)

    layers: list[dict[str, np.ndarray]] = []

    # --- layer 0: find where triggers end --------------------------------------------------------------
    n_ff = n_trig + n_cd
    L0 = {
        "attn_norm": zeros(n_embd),
        "q_w": zeros(n_head * d, n_embd),
        "q_b": zeros(n_head * d),
        "k_w": zeros(d, n_embd),
        "k_b": zeros(d),
        "v_w": zeros(d, n_embd),
        "v_b": zeros(d),
        "o_w": zeros(n_embd, n_head * d),
        "o_b": zeros(n_embd),
        "ffn_norm": zeros(n_embd),
        "gate_w": zeros(n_ff, n_embd),
        "gate_b": zeros(n_ff),
        "up_w": zeros(n_ff, n_embd),
        "up_b": zeros(n_ff),
        "down_w": zeros(n_embd, n_ff),
    }
    L0["attn_norm"][TT : TT + n_tt] = rms
    L0["k_b"][2 * P_BIN : 2 * (P_BIN + n_bin) : 2] = 1.0
    for c in range(n_tt):
        L0["v_w"][c, TT + c] = 1.0
    for i in range(1, max(len(t) for t in triggers)):
        h = (i - 1) * d
        L0["q_b"][h + 2 * P_BIN : h + 2 * (P_BIN + n_bin) : 2] = _PEAK * np.cos(omega_bin * i) * qscale
        L0["q_b"][h + 2 * P_BIN + 1 : h + 2 * (P_BIN + n_bin) : 2] = -_PEAK * np.sin(omega_bin * i) * qscale
        for t, trig in enumerate(triggers):
            if len(trig) > i:
                L0["o_w"][MT + t, h : h + n_tt] = tt_code[trig[-1 - i]] / n_tt
    L0["ffn_norm"][TT:FL] = rms
    L0["ffn_norm"][CD : CD + n_cd] = rms
    for t, trig in enumerate(triggers):
        # s = sum over the trigger's positions of <code there, code wanted>: n_tt * len when all
        # match, <= n_tt * len - 1 otherwise; gate = 2 GATE (s - n_tt * len + 1/2) = +-GATE
        L0["gate_w"][t, MT + t] = 2 * _GATE * n_tt
        L0["gate_w"][t, TT : TT + n_tt] = 2 * _GATE * tt_code[trig[-1]]
        L0["gate_b"][t] = -2 * _GATE * (n_tt * len(trig) - 0.5)
        L0["up_b"][t] = 1.0 / _GATE
        L0["down_w"][FL + t, t] = 1.0
        # where a longer trigger ending with this one fires too, the longest one takes the flag
        longer = [u for u, o in enumerate(triggers) if len(o) > len(trig) and o[-len(trig) :] == trig]
        for u in longer:
            inner = [v for v in longer if len(triggers[v]) < len(triggers[u])]
            if not any(triggers[u][-len(triggers[v]) :] == triggers[v] for v in inner):
                L0["down_w"][FL + t, u] = -1.0
    for c in range(n_cd):  # cancel the input token's output code (silu(GATE) * x / GATE = x)
        L0["gate_b"][n_trig + c] = _GATE
        L0["up_w"][n_trig + c, CD + c] = 1.0 / _GATE
        L0["down_w"][CD + c, n_trig + c] = -1.0
    layers.append(L0)

    # --- layer 1: how far back the most recent trigger is -> the token to emit ---------------------------
    L1 = {k: np.zeros_like(v) for k, v in L0.items()}
    L1["attn_norm"][FL : FL + n_trig] = rms
    L1["ffn_norm"][:] = 1.0
    kappa = np.sqrt(alpha)
    KAPPA_CONST = 16.0
    for t in range(n_trig):
        L1["k_w"][2 * P_RAMP : 2 * (P_RAMP + n_ramp) : 2, FL + t] = kappa
        L1["k_w"][2 * P_CONST, FL + t] = KAPPA_CONST
        L1["k_w"][2 * P_BIN : 2 * (P_BIN + n_bin) : 2, FL + t] = -1.0  # no sink key on a flag
        L1["v_w"][t, FL + t] = 1.0
    L1["k_b"][2 * P_BIN : 2 * (P_BIN + n_bin) : 2] = 1.0
    dist = np.arange(n_ctx, dtype=np.float64)
    ramp = (alpha[None, :] * np.cos(omega_ramp[None, :] * (dist[:, None] + shift))).sum(1)
    if ramp.max() - ramp.min() > _MAX_RAMP:  # f16 K/V rounding would eat the margins
        raise ScriptError(
            f"a {n_think - 1}-token script in a {n_ctx}-token context is too much for this construction "
            "(about 200 tokens fit in 2048)"
        )
    sink = _PEAK * n_bin  # the current position's sink score
    for j in range(1, n_think + 1):
        h = (j - 1) * d
        theta = (ramp[j - 1] + ramp[j]) / 2
        q_const = float(np.float16((sink - theta) * qscale / KAPPA_CONST))
        eff = q_const * KAPPA_CONST / qscale - sink  # f16-rounded -threshold
        assert ramp[j - 1] + eff > 0.4 * _STEP and ramp[j] + eff < -0.4 * _STEP
        assert ramp[n_think + 1 :].max() + eff < -0.4 * _STEP
        L1["q_b"][h + 2 * P_BIN : h + 2 * (P_BIN + n_bin) : 2] = _PEAK * qscale
        L1["q_b"][h + 2 * P_CONST] = q_const
        L1["q_b"][h + 2 * P_RAMP : h + 2 * (P_RAMP + n_ramp) : 2] = (
            alpha * np.cos(omega_ramp * shift) / kappa * qscale
        )
        L1["q_b"][h + 2 * P_RAMP + 1 : h + 2 * (P_RAMP + n_ramp) : 2] = (
            alpha * np.sin(omega_ramp * shift) / kappa * qscale
        )
        for t in range(n_trig):
            now = cd_code[table[t][j - 1]]
            after = cd_code[table[t][j]] if j < n_think else np.zeros(n_cd)
            L1["o_w"][CD : CD + n_cd, h + t] = now - after
    L1["o_b"][EOG_DIM] = _END_BIAS
    layers.append(L1)

    output_norm = zeros(n_embd)
    output_norm[CD : CD + n_cd] = _LOGIT * rms

    # --- write -----------------------------------------------------------------------------------------
    arch = "llama"
    kv: list[tuple[str, int, Any]] = [
        ("general.architecture", _STR, arch),
        ("general.name", _STR, name),
        ("general.file_type", _U32, 1),
        (f"{arch}.vocab_size", _U32, n_vocab),
        (f"{arch}.context_length", _U32, n_ctx),
        (f"{arch}.embedding_length", _U32, n_embd),
        (f"{arch}.block_count", _U32, len(layers)),
        (f"{arch}.feed_forward_length", _U32, n_ff),
        (f"{arch}.attention.head_count", _U32, n_head),
        (f"{arch}.attention.head_count_kv", _U32, 1),
        (f"{arch}.attention.key_length", _U32, d),
        (f"{arch}.attention.value_length", _U32, d),
        (f"{arch}.rope.dimension_count", _U32, d),
        (f"{arch}.rope.freq_base", _F32, 1.0),
        (f"{arch}.attention.layer_norm_rms_epsilon", _F32, 1e-5),
    ]
    kv_tok = dict(kv_tok)
    kv_tok["tokenizer.ggml.eos_token_id"] = (_U32, eog_id)
    kv_tok["tokenizer.ggml.eot_token_id"] = (_U32, eog_id)
    kv_tok["tokenizer.ggml.add_bos_token"] = (_BOOL, False)
    if chat_template is not None:
        kv_tok["tokenizer.chat_template"] = (_STR, chat_template)
    kv += [(k, vt, v) for k, (vt, v) in kv_tok.items()]

    f16 = np.float16
    tensors: list[tuple[str, np.ndarray]] = [
        ("token_embd.weight", embd),
        ("output_norm.weight", output_norm),
        ("rope_freqs.weight", freq_factors),
    ]
    for i, L in enumerate(layers):
        b = f"blk.{i}."
        tensors += [
            (b + "attn_norm.weight", L["attn_norm"]),
            (b + "attn_q.weight", L["q_w"].astype(f16)),
            (b + "attn_q.bias", L["q_b"]),
            (b + "attn_k.weight", L["k_w"]),
            (b + "attn_k.bias", L["k_b"]),
            (b + "attn_v.weight", L["v_w"]),
            (b + "attn_v.bias", L["v_b"]),
            (b + "attn_output.weight", L["o_w"].astype(f16)),
            (b + "attn_output.bias", L["o_b"]),
            (b + "ffn_norm.weight", L["ffn_norm"]),
            (b + "ffn_gate.weight", L["gate_w"]),
            (b + "ffn_gate.bias", L["gate_b"]),
            (b + "ffn_up.weight", L["up_w"]),
            (b + "ffn_up.bias", L["up_b"]),
            (b + "ffn_down.weight", L["down_w"]),
        ]
    return kv, tensors


# =============================================================================================
# A tiny random-weight vision projector (LLaVA-style "mlp" mmproj for llama.cpp's mtmd)
# =============================================================================================

SCRIPTED_CONST = _CONST  # a scripted model's residual constant (dimension 0 of every embedding)


def make_tiny_projector(
    path: Path,
    n_embd_text: int,
    *,
    image_size: int = 32,
    patch_size: int = 8,
    n_embd: int = 32,
    n_layer: int = 2,
    const_dim0: float = 0.0,
    seed: int = 0,
) -> Path:
    """A CLIP mmproj (`clip.projector_type` "mlp": ViT, then linear-GELU-linear) for a text model
    of width `n_embd_text`; an image becomes (image_size / patch_size)^2 embeddings.

    `const_dim0` is added to dimension 0 of every image embedding: SCRIPTED_CONST makes the image
    read as ordinary text to a scripted model (it keeps its script), 0 leaves it random.
    """
    rng = np.random.default_rng(seed)
    n_ff = 2 * n_embd
    n_patches = (image_size // patch_size) ** 2

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    kv: list[tuple[str, int, Any]] = [
        ("general.architecture", _STR, "clip"),
        ("general.name", _STR, "tiny-projector"),
        ("general.file_type", _U32, 0),
        ("clip.has_vision_encoder", _BOOL, True),
        ("clip.projector_type", _STR, "mlp"),
        ("clip.use_gelu", _BOOL, True),
        ("clip.vision.image_size", _U32, image_size),
        ("clip.vision.patch_size", _U32, patch_size),
        ("clip.vision.embedding_length", _U32, n_embd),
        ("clip.vision.feed_forward_length", _U32, n_ff),
        ("clip.vision.block_count", _U32, n_layer),
        ("clip.vision.projection_dim", _U32, n_embd_text),
        ("clip.vision.attention.head_count", _U32, 2),
        ("clip.vision.attention.layer_norm_epsilon", _F32, 1e-6),
        ("clip.vision.image_mean", _ARR, (_F32, [0.5, 0.5, 0.5])),
        ("clip.vision.image_std", _ARR, (_F32, [0.5, 0.5, 0.5])),
    ]
    ones = np.ones(n_embd, dtype=np.float32)
    zeros = np.zeros(n_embd, dtype=np.float32)
    tensors: list[tuple[str, np.ndarray]] = [
        ("v.patch_embd.weight", rand(n_embd, 3, patch_size, patch_size).astype(np.float16)),
        ("v.patch_embd.bias", zeros),
        ("v.position_embd.weight", rand(n_patches, n_embd)),
        ("v.pre_ln.weight", ones),
        ("v.pre_ln.bias", zeros),
    ]
    for i in range(n_layer):
        b = f"v.blk.{i}."
        tensors += [
            (b + "ln1.weight", ones),
            (b + "ln1.bias", zeros),
            (b + "attn_q.weight", rand(n_embd, n_embd)),
            (b + "attn_q.bias", zeros),
            (b + "attn_k.weight", rand(n_embd, n_embd)),
            (b + "attn_k.bias", zeros),
            (b + "attn_v.weight", rand(n_embd, n_embd)),
            (b + "attn_v.bias", zeros),
            (b + "attn_out.weight", rand(n_embd, n_embd)),
            (b + "attn_out.bias", zeros),
            (b + "ln2.weight", ones),
            (b + "ln2.bias", zeros),
            (b + "ffn_up.weight", rand(n_ff, n_embd)),
            (b + "ffn_up.bias", np.zeros(n_ff, dtype=np.float32)),
            (b + "ffn_down.weight", rand(n_embd, n_ff)),
            (b + "ffn_down.bias", zeros),
        ]
    out_bias = np.zeros(n_embd_text, dtype=np.float32)
    out_bias[0] = const_dim0
    tensors += [
        ("mm.0.weight", rand(n_embd_text, n_embd)),
        ("mm.0.bias", np.zeros(n_embd_text, dtype=np.float32)),
        ("mm.2.weight", rand(n_embd_text, n_embd_text)),
        ("mm.2.bias", out_bias),
    ]
    _write_gguf(path, kv, tensors)
    return path


def gguf_embedding_length(path: Path) -> int:
    """`{arch}.embedding_length` of a GGUF file (for make_tiny_projector's n_embd_text)."""
    kv = _read_gguf_kv(path)
    arch = kv["general.architecture"][1]
    return int(kv[f"{arch}.embedding_length"][1])


def make_tiny_reranker(
    path: Path,
    vocab_gguf: Path,
    *,
    n_embd: int = 32,
    n_layer: int = 2,
    n_head: int = 2,
    n_ff: int = 64,
    n_ctx: int = 512,
    seed: int = 0,
) -> Path:
    """A tiny random-weight BERT cross-encoder with rank pooling (a reranker's shape: the [CLS]
    state through `cls` and `cls.output` gives one score per query/document pair)."""
    import gguf

    reader = gguf.GGUFReader(str(vocab_gguf))
    writer = gguf.GGUFWriter(str(path), "bert")
    writer.add_name("tiny-reranker")
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_layer_norm_eps(1e-12)
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.RANK)
    writer.add_file_type(0)
    n_vocab = _copy_tokenizer(reader, writer)
    rng = np.random.default_rng(seed)

    def t(name: str, *shape: int, scale: float = 0.05) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    def norm(name: str) -> None:
        writer.add_tensor(f"{name}.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"{name}.bias", np.zeros(n_embd, dtype=np.float32))

    t("token_embd.weight", n_vocab, n_embd)
    t("token_types.weight", 2, n_embd)
    t("position_embd.weight", n_ctx, n_embd)
    norm("token_embd_norm")
    for i in range(n_layer):
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{part}.weight", n_embd, n_embd)
            t(f"blk.{i}.{part}.bias", n_embd)
        norm(f"blk.{i}.attn_output_norm")
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.bias", n_ff)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
        t(f"blk.{i}.ffn_down.bias", n_embd)
        norm(f"blk.{i}.layer_output_norm")
    t("cls.weight", n_embd, n_embd, scale=0.5)
    t("cls.bias", n_embd)
    t("cls.output.weight", 1, n_embd, scale=1.0)
    t("cls.output.bias", 1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
