"""A Hugging Face tokenizer folder as llama.cpp's `tokenizer.ggml.*` keys (Ollama's convert/tokenizer.go).

What llama.cpp's vocab loader (src/llama-vocab.cpp) needs per tokenizer kind:

- `gpt2` (byte-level BPE: Llama 3, Qwen 2/3): tokens, merges, and a `pre` name choosing the
  pre-tokenizer regex. Ollama names it by the sha256 of the `Split` regexes in tokenizer.json; the
  same table is used here.
- `llama` (SentencePiece: Llama 2, Mistral, Gemma, Phi-3): tokens, scores (merge priority), token
  types (`<0xNN>` byte tokens must be typed BYTE for byte fallback). From `tokenizer.model` (the
  SentencePiece protobuf, as Ollama reads it) or, without one, from tokenizer.json's BPE model with
  byte fallback, scoring each token by the rank of the merge that makes it (so llama.cpp's
  highest-score-first merging is the BPE's lowest-rank-first merging).
- `bert` (WordPiece): the vocabulary; the BERT converter rewrites it to llama.cpp's phantom-space
  form.

Special tokens come from tokenizer_config.json (`<type>_token`, `add_<type>_token`) resolved to ids
through tokenizer.json's added tokens, and extra EOS ids from generation_config.json, as Ollama does.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyollama.errors import BadRequest

# llama_token_type
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

# sha256 of the concatenated `Split` pre-tokenizer regexes -> llama.cpp pre-tokenizer (Ollama's table)
PRE_TOKENIZERS = {
    "d98f9631be1e9607a9848c26c1f9eac1aa9fc21ac6ba82a2fc0741af9780a48f": "llama-bpe",
    "03df5c5863ad70781dcfdef491ead25140f895fe8010964be0daefe27be32b02": "deepseek-llm",
    "21cde974d587f0d54dc8d56b183cc1e6239600172035c68fbd6d4b9f8da0576e": "deepseek-coder",
    "1ff7f41064896984db5d1bb6ff64fa4bc29007d08c1b439e505b7392777a319e": "qwen2",
    "00431aed57e696b747435f734d1e3b9b1bfd931a121fb5cac7129e97c181e9ba": "qwen35",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855": "default",  # no Split at all
}

# tokenizer_config type -> the GGUF key part (`tokenizer.ggml.<key>_token_id`); "seperator" is
# llama.cpp's own spelling
SPECIAL_KEYS = {
    "bos": "bos",
    "eos": "eos",
    "unk": "unknown",
    "sep": "seperator",
    "pad": "padding",
    "cls": "cls",
    "mask": "mask",
}
_BYTE_TOKEN = re.compile(r"<0x[0-9A-Fa-f]{2}>")


class TokenizerError(BadRequest):
    pass


@dataclass
class Special:
    type: str
    id: int
    content: str
    add: bool | None = None  # add_<type>_token when tokenizer_config.json says
    ids: list[int] = field(default_factory=list)  # from generation_config.json


@dataclass
class Vocab:
    model: str
    tokens: list[str]
    scores: list[float]
    types: list[int]
    merges: list[str] = field(default_factory=list)
    pre: str = "default"
    add_space_prefix: bool | None = None
    specials: list[Special] = field(default_factory=list)
    chat_template: str = ""

    def special(self, kind: str) -> Special | None:
        return next((s for s in self.specials if s.type == kind), None)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise TokenizerError(f"{path.name}: {exc}") from None


# --- SentencePiece protobuf (tokenizer.model) ------------------------------------------------------


def _varint(b: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(b):
            raise TokenizerError("tokenizer.model: truncated")
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if not c & 0x80:
            return result, i
        shift += 7


def _fields(b: bytes) -> list[tuple[int, int, Any]]:
    """The (field number, wire type, value) triples of one protobuf message."""
    out: list[tuple[int, int, Any]] = []
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        v: int | bytes
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = b[i : i + 8], i + 8
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i : i + n], i + n
        elif wt == 5:
            v, i = b[i : i + 4], i + 4
        else:
            raise TokenizerError(f"tokenizer.model: unsupported wire type {wt}")
        out.append((num, wt, v))
    return out


def parse_sentencepiece(data: bytes) -> tuple[list[str], list[float], list[int], bool]:
    """ModelProto's pieces (field 1: piece, score, type) and normalizer_spec.add_dummy_prefix."""
    tokens: list[str] = []
    scores: list[float] = []
    types: list[int] = []
    add_dummy_prefix = True
    for num, wt, v in _fields(data):
        if num == 1 and wt == 2:
            piece, score, kind = "", 0.0, NORMAL
            for n2, w2, v2 in _fields(v):
                if n2 == 1 and w2 == 2:
                    piece = v2.decode("utf-8")
                elif n2 == 2 and w2 == 5:
                    (score,) = struct.unpack("<f", v2)
                elif n2 == 3 and w2 == 0:
                    kind = int(v2)
            tokens.append(piece)
            scores.append(score)
            types.append(kind)
        elif num == 3 and wt == 2:  # normalizer_spec
            for n2, w2, v2 in _fields(v):
                if n2 == 3 and w2 == 0:
                    add_dummy_prefix = bool(v2)
    return tokens, scores, types, add_dummy_prefix


# Ollama's fix for Gemma 3 configs that leave turn markers typed normal
_GEMMA_CONTROL = frozenset(
    {
        "<end_of_turn>",
        "<start_of_turn>",
        "<start_function_declaration>",
        "<end_function_declaration>",
        "<start_function_call>",
        "<end_function_call>",
        "<start_function_response>",
        "<end_function_response>",
        "<escape>",
    }
)


def _vocab_from_spm(folder: Path) -> Vocab:
    tokens, scores, types, prefix = parse_sentencepiece((folder / "tokenizer.model").read_bytes())
    extra = _read_json(folder / "special_tokens_map.json") or {}
    ast = extra.get("additional_special_tokens") or []
    ast_names = {x if isinstance(x, str) else str(x.get("content", "")) for x in ast}
    for i, tok in enumerate(tokens):
        if types[i] == NORMAL and (tok in _GEMMA_CONTROL or tok in ast_names):
            types[i] = CONTROL
    added = _read_json(folder / "added_tokens.json") or {}
    for content, tid in sorted(added.items(), key=lambda kv: kv[1]):
        if tid < len(tokens):
            if tokens[tid] != content:
                raise TokenizerError(f"token mismatch: {content} != {tokens[tid]} at pos [{tid}]")
            continue
        if tid != len(tokens):
            raise TokenizerError(f"invalid token id: [{tid}] as pos [{len(tokens)}]")
        tokens.append(content)
        scores.append(-1000.0)
        types.append(USER_DEFINED)
    return Vocab("llama", tokens, scores, types, add_space_prefix=prefix)


# --- tokenizer.json ------------------------------------------------------------------------------


def _merges(model: dict[str, Any]) -> list[str]:
    raw = model.get("merges") or []
    return [m if isinstance(m, str) else " ".join(m) for m in raw]


def _pre_name(tj: dict[str, Any]) -> str:
    pre = tj.get("pre_tokenizer") or {}
    parts = pre.get("pretokenizers") or [pre]
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, dict) and p.get("type") == "Split":
            regex = (p.get("pattern") or {}).get("Regex")
            if regex:
                h.update(regex.encode())
    return PRE_TOKENIZERS.get(h.hexdigest(), "default")


def _is_byte_level(tj: dict[str, Any]) -> bool:
    """GPT-2 style byte-level BPE (its pieces spell bytes as printable runes) vs SentencePiece
    style BPE (pieces are text with `▁` for spaces, bytes as `<0xNN>` fallback tokens)."""
    model = tj.get("model") or {}
    if model.get("byte_fallback"):
        return False
    for part in (tj.get("pre_tokenizer"), tj.get("decoder")):
        if isinstance(part, dict):
            kinds = [part.get("type")] + [
                x.get("type") for x in part.get("pretokenizers") or part.get("decoders") or []
            ]
            if "ByteLevel" in kinds:
                return True
            if "Metaspace" in kinds or "ByteFallback" in kinds:
                return False
    return True


def _spm_prefix(tj: dict[str, Any]) -> bool:
    """Whether the tokenizer puts a `▁` before the text (SentencePiece's add_dummy_prefix)."""
    for part in (tj.get("pre_tokenizer"), tj.get("normalizer")):
        if not isinstance(part, dict):
            continue
        for p in [part, *(part.get("pretokenizers") or part.get("normalizers") or [])]:
            if p.get("type") == "Metaspace":
                return bool(p.get("prepend_scheme", "always") != "never" and p.get("add_prefix_space", True))
            if p.get("type") == "Prepend" and p.get("prepend") == "\u2581":
                return True
    return False


def _vocab_from_json(tj: dict[str, Any]) -> Vocab:
    model = tj.get("model") or {}
    kind = model.get("type")
    raw_vocab = model.get("vocab")
    if kind not in ("WordPiece", "BPE"):
        # a Unigram tokenizer.json comes with its tokenizer.model, which is read instead
        raise TokenizerError(f"unsupported tokenizer model {kind!r} (without a tokenizer.model)")
    by_id: dict[int, tuple[str, float]] = {}
    if isinstance(raw_vocab, dict):
        for piece, tid in raw_vocab.items():
            by_id[int(tid)] = (str(piece), float(tid))
    else:
        raise TokenizerError("tokenizer.json has no vocabulary")
    added = {int(t["id"]): t for t in tj.get("added_tokens") or []}
    for tid, t in added.items():
        by_id[tid] = (str(t["content"]), float(tid))
    ids = sorted(by_id)
    if ids != list(range(len(ids))):
        raise TokenizerError("tokenizer.json: token ids are not contiguous")
    tokens = [by_id[i][0] for i in ids]
    types = [NORMAL] * len(tokens)
    for tid, t in added.items():
        types[tid] = CONTROL if t.get("special") else USER_DEFINED
    merges = _merges(model)

    if kind == "WordPiece":
        return Vocab("bert", tokens, [float(i) for i in ids], types)
    if kind == "BPE" and _is_byte_level(tj):
        # Ollama's parseVocabularyFromTokenizer: scores are the ids, the merges go along
        return Vocab("gpt2", tokens, [float(i) for i in ids], types, merges=merges, pre=_pre_name(tj))
    # SentencePiece-style BPE: scores drive llama.cpp's merging; byte tokens typed BYTE
    n = len(merges)
    rank: dict[str, int] = {}
    for r, m in enumerate(merges):
        a, _, b = m.partition(" ")
        rank.setdefault(a + b, r)
    scores = [-float(rank[t]) if t in rank else -float(n + i) for i, t in enumerate(tokens)]
    unk = model.get("unk_token")
    unk_id = model.get("unk_id")
    for i, t in enumerate(tokens):
        if types[i] != NORMAL:
            continue
        if _BYTE_TOKEN.fullmatch(t):
            types[i] = BYTE
        elif t == unk or i == unk_id:
            types[i] = UNKNOWN
    return Vocab("llama", tokens, scores, types, add_space_prefix=_spm_prefix(tj))


def parse_tokenizer(folder: Path, special_types: tuple[str, ...]) -> Vocab:
    """The vocabulary and special tokens of a model folder (Ollama's `parseTokenizer`)."""
    tj = _read_json(folder / "tokenizer.json")
    if (folder / "tokenizer.model").is_file():
        vocab = _vocab_from_spm(folder)
    elif tj is not None:
        vocab = _vocab_from_json(tj)
    else:
        raise TokenizerError("unknown tokenizer format")

    added: dict[str, int] = {}
    if tj is not None:
        added = {str(t["content"]): int(t["id"]) for t in tj.get("added_tokens") or []}
        if vocab.model == "llama" and (folder / "tokenizer.model").is_file():
            # special added tokens that tokenizer.model types as plain pieces (Gemma's turn markers
            # in some checkpoints): control tokens, as tokenizer.json says (beyond Ollama's list)
            for t in tj.get("added_tokens") or []:
                tid, content = int(t["id"]), str(t["content"])
                plain = tid < len(vocab.types) and vocab.types[tid] == NORMAL and vocab.tokens[tid] == content
                if t.get("special") and plain:
                    vocab.types[tid] = CONTROL

    cfg = _read_json(folder / "tokenizer_config.json") or {}
    tmpl = cfg.get("chat_template")
    if isinstance(tmpl, str):
        vocab.chat_template = tmpl
    elif isinstance(tmpl, list):
        defaults = [t for t in tmpl if isinstance(t, dict) and t.get("name") == "default"]
        vocab.chat_template = str(defaults[0].get("template", "")) if defaults else ""
    elif tmpl is not None:
        raise TokenizerError("invalid chat_template")
    if not vocab.chat_template and (folder / "chat_template.jinja").is_file():
        vocab.chat_template = (folder / "chat_template.jinja").read_text(encoding="utf-8")

    for st in special_types:
        raw = cfg.get(f"{st}_token")
        text = raw.get("content") if isinstance(raw, dict) else raw
        if not isinstance(text, str):
            continue
        add = cfg.get(f"add_{st}_token")
        found = added.get(text)
        if found is None and text in vocab.tokens:
            found = vocab.tokens.index(text)  # a special token of tokenizer.model's own pieces
        if found is not None:
            vocab.specials.append(Special(st, found, text, add if isinstance(add, bool) else None))

    gen = _read_json(folder / "generation_config.json") or {}
    for st in special_types:
        v = gen.get(f"{st}_token_id")
        if isinstance(v, list):
            sp = vocab.special(st)
            if sp is not None:
                sp.ids = [int(x) for x in v]
    return vocab
