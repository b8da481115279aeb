"""Seeded, bounded GGUF mutants for the fuzz tests and bench/fuzz_models.py.

A GGUF file is parsed into its key/values, tensor table and data section (`GGUFFile`), one field
is changed (`mutate`), and the mutant is written back with the same data (`GGUFFile.write`). A
mutation of the tensor table can keep the file well-formed for ggml's parser (`relayout`: offsets
recomputed, each tensor's bytes cut or zero-padded) so that it reaches llama.cpp's loader, or not.
Truncations cut the file anywhere. Every mutant is described in one line (`Mutant.what`), and the
same (file, seed) always gives the same mutant.
"""

from __future__ import annotations

import math
import random
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# GGUF value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
        U64: "<Q", I64: "<q", F64: "<d"}  # fmt: skip
INT_TYPES = (U8, I8, U16, I16, U32, I32, U64, I64)
_RANGE = {t: (0, 2 ** (8 * w) - 1) for t, w in ((U8, 1), (U16, 2), (U32, 4), (U64, 8))} | {
    t: (-(2 ** (8 * w - 1)), 2 ** (8 * w - 1) - 1) for t, w in ((I8, 1), (I16, 2), (I32, 4), (I64, 8))
}

# ggml tensor types: (elements per block, bytes per block), for the ones the test models use
GGML_TYPES: dict[int, tuple[int, int]] = {
    0: (1, 4),  # f32
    1: (1, 2),  # f16
    2: (32, 18),  # q4_0
    3: (32, 20),  # q4_1
    6: (32, 22),  # q5_0
    7: (32, 24),  # q5_1
    8: (32, 34),  # q8_0
    10: (256, 84),  # q2_K
    11: (256, 110),  # q3_K
    12: (256, 144),  # q4_K
    13: (256, 176),  # q5_K
    14: (256, 210),  # q6_K
    30: (1, 2),  # bf16
}


@dataclass
class KV:
    key: str
    type: int
    value: Any  # arrays: (element type, list)


@dataclass
class Tensor:
    name: str
    dims: list[int]
    type: int
    offset: int


@dataclass
class GGUFFile:
    version: int
    kvs: list[KV]
    tensors: list[Tensor]
    data_start: int  # where the data section starts in `source`
    source: Path
    alignment: int = 32
    # a rewrite of the data section: None keeps the source's bytes
    layout: list[tuple[int, int]] | None = field(default=None)  # per tensor: (source offset, new size)

    # --- reading ---------------------------------------------------------------------------------

    @classmethod
    def read(cls, path: Path) -> GGUFFile:
        """The header of `path` (the data stays on disk and is copied when a mutant is written)."""
        with open(path, "rb") as fh:
            head = fh.read(64 << 20)  # every header of the test models fits
        r = _Reader(head)
        if r.raw(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        version = r.scalar(U32)
        n_tensors, n_kv = r.scalar(U64), r.scalar(U64)
        kvs = []
        for _ in range(n_kv):
            key = r.string()
            vtype = r.scalar(U32)
            kvs.append(KV(key, vtype, r.value(vtype)))
        tensors = []
        for _ in range(n_tensors):
            name = r.string()
            n_dims = r.scalar(U32)
            dims = [r.scalar(U64) for _ in range(n_dims)]
            tensors.append(Tensor(name, dims, r.scalar(U32), r.scalar(U64)))
        alignment = next((int(kv.value) for kv in kvs if kv.key == "general.alignment"), 32)
        start = r.pos + (-r.pos % alignment)
        return cls(version, kvs, tensors, start, path, alignment)

    # --- access ----------------------------------------------------------------------------------

    def get(self, key: str) -> KV | None:
        return next((kv for kv in self.kvs if kv.key == key), None)

    @property
    def architecture(self) -> str:
        kv = self.get("general.architecture")
        return str(kv.value) if kv is not None else ""

    def copy(self) -> GGUFFile:
        kvs = [KV(kv.key, kv.type, (kv.value[0], list(kv.value[1])) if kv.type == ARR else kv.value)
               for kv in self.kvs]  # fmt: skip
        tensors = [Tensor(t.name, list(t.dims), t.type, t.offset) for t in self.tensors]
        return replace(
            self, kvs=kvs, tensors=tensors, layout=None if self.layout is None else list(self.layout)
        )

    def relayout(self) -> None:
        """Recompute every tensor's offset from its (possibly changed) shape and type, so that ggml's
        parser accepts the table; each tensor keeps its source bytes, cut or zero-padded."""
        layout = []
        offset = 0
        for t in self.tensors:
            size = tensor_nbytes(t)
            layout.append((t.offset, size))  # the source offset (one relayout per mutant)
            t.offset = offset
            offset += size + (-size % self.alignment)
        self.layout = layout

    # --- writing ---------------------------------------------------------------------------------

    def header_bytes(self) -> bytes:
        out = [b"GGUF", struct.pack("<IQQ", self.version, len(self.tensors), len(self.kvs))]
        for kv in self.kvs:
            out.append(_string(kv.key) + struct.pack("<I", kv.type) + _value(kv.type, kv.value))
        for t in self.tensors:
            out.append(
                _string(t.name) + struct.pack(f"<I{len(t.dims)}QIQ", len(t.dims), *t.dims, t.type, t.offset)
            )
        head = b"".join(out)
        return head + b"\0" * (-len(head) % self.alignment)

    def write(self, path: Path, *, truncate_at: int | None = None) -> Path:
        with open(path, "wb") as out, open(self.source, "rb") as src:
            out.write(self.header_bytes())
            if self.layout is None:
                src.seek(self.data_start)
                shutil.copyfileobj(src, out, 1 << 20)
            else:
                for src_offset, size in self.layout:
                    src.seek(self.data_start + src_offset)
                    data = src.read(min(size, 1 << 31))
                    out.write(data + b"\0" * (size - len(data) + (-size % self.alignment)))
            if truncate_at is not None:
                out.truncate(truncate_at)
        return path


def tensor_nbytes(t: Tensor) -> int:
    block, size = GGML_TYPES.get(t.type, (1, 1))
    n = 1
    for d in t.dims:
        n *= max(d, 0)
    return n // block * size if n % block == 0 else -(-n // block) * size


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def raw(self, n: int) -> bytes:
        b = self.buf[self.pos : self.pos + n]
        if len(b) != n:
            raise ValueError("header past the first 64 MiB")
        self.pos += n
        return b

    def scalar(self, vtype: int) -> Any:
        fmt = _FMT[vtype]
        (v,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self) -> str:
        n = self.scalar(U64)
        return self.raw(n).decode("utf-8", "surrogateescape")

    def value(self, vtype: int) -> Any:
        if vtype == STR:
            return self.string()
        if vtype == ARR:
            etype, n = self.scalar(U32), self.scalar(U64)
            if etype == STR:
                return (etype, [self.string() for _ in range(n)])
            fmt = _FMT[etype]
            width = struct.calcsize(fmt)
            items = list(struct.unpack_from(f"<{n}{fmt[1]}", self.buf, self.pos))
            self.pos += width * n
            return (etype, items)
        return self.scalar(vtype)


def _string(s: str) -> bytes:
    b = s.encode("utf-8", "surrogateescape")
    return struct.pack("<Q", len(b)) + b


def _value(vtype: int, value: Any) -> bytes:
    if vtype == STR:
        return _string(value)
    if vtype == ARR:
        etype, items = value
        head = struct.pack("<IQ", etype, len(items))
        if etype == STR:
            return head + b"".join(_string(s) for s in items)
        return head + struct.pack(f"<{len(items)}{_FMT[etype][1]}", *items)
    return struct.pack(_FMT[vtype], value)


# --- mutations -------------------------------------------------------------------------------------


@dataclass
class Mutant:
    seed: int
    what: str  # one line: which field, from what to what
    gguf: GGUFFile
    truncate_at: int | None = None

    def write(self, path: Path) -> Path:
        return self.gguf.write(path, truncate_at=self.truncate_at)


_NASTY_INTS = (0, 1, -1, 2, 3, 7, 255, 65535, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1)
_NASTY_FLOATS = (math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 1e-38, 1e38, 3.4e38, 1e-45, 1e6)


def _fit(vtype: int, v: int) -> int:
    lo, hi = _RANGE[vtype]
    return v if lo <= v <= hi else (v % (hi - lo + 1)) + lo


def _int_value(rng: random.Random, vtype: int, old: int) -> int:
    choice = rng.random()
    if choice < 0.6:
        v = rng.choice(_NASTY_INTS)
    elif choice < 0.8:
        v = old + rng.choice((-1, 1, -old, old, 1000 * old + 1))
    else:
        v = rng.randint(_RANGE[vtype][0], _RANGE[vtype][1])
    return _fit(vtype, v)


def _float_value(rng: random.Random, old: float) -> float:
    if rng.random() < 0.8:
        return rng.choice(_NASTY_FLOATS)
    return old * rng.choice((-1.0, 1e-6, 1e6, 0.5))


def _scalar_mutation(rng: random.Random, kv: KV) -> str:
    old = kv.value
    if kv.type in INT_TYPES:
        kv.value = _int_value(rng, kv.type, int(old))
    elif kv.type in (F32, F64):
        kv.value = _float_value(rng, float(old))
        if kv.type == F32 and math.isfinite(kv.value) and abs(kv.value) > 3.4e38:
            kv.value = math.inf
    elif kv.type == BOOL:
        kv.value = not old
    elif kv.type == STR:
        strings = ("", "x" * rng.choice((1, 300, 70000)), "\udcff\udcfe", "llama", "gemma3", "clip", "bert")
        kv.value = rng.choice((*strings, old[: len(old) // 2], old + "{%"))
    return f"{kv.key} {_short(old)} -> {_short(kv.value)}"


def _array_mutation(rng: random.Random, kv: KV) -> str:
    etype, items = kv.value
    n = len(items)
    op = rng.choice(("drop", "extend", "empty", "element", "element", "type"))
    if op == "drop" and n:
        k = rng.choice((1, max(1, n // 2), n - 1 if n > 1 else 1))
        kv.value = (etype, items[: n - k])
        return f"{kv.key}: {n} -> {n - k} elements"
    if op == "extend" and n:
        extra = rng.choice((1, 1000))
        kv.value = (etype, items + [items[-1]] * extra)
        return f"{kv.key}: {n} -> {n + extra} elements"
    if op == "empty":
        kv.value = (etype, [])
        return f"{kv.key}: {n} -> 0 elements"
    if op == "type" and etype != STR:
        new = rng.choice([t for t in (I32, U32, F32, U8, I64) if t != etype])
        kv.value = (new, [_coerce(new, x) for x in items])
        return f"{kv.key}: element type {etype} -> {new}"
    if not n:
        kv.value = (etype, [0] if etype != STR else [""])
        return f"{kv.key}: 0 -> 1 element"
    i = rng.randrange(n)
    old = items[i]
    if etype == STR:
        items[i] = rng.choice(("", "\udcff", old * 50, "<|im_start|>"))
    elif etype in (F32, F64):
        items[i] = _float_value(rng, float(old))
    elif etype in INT_TYPES:
        items[i] = _int_value(rng, etype, int(old))
    else:
        items[i] = not old
    return f"{kv.key}[{i}] {_short(old)} -> {_short(items[i])}"


def _coerce(etype: int, x: Any) -> Any:
    if etype == F32:
        return float(x)
    return _fit(etype, int(x)) if not isinstance(x, float) or math.isfinite(x) else 0


def _type_mutation(rng: random.Random, kv: KV) -> str:
    old_type = kv.type
    if kv.type in INT_TYPES:
        kv.type = rng.choice((F32, STR, BOOL, *[t for t in INT_TYPES if t != kv.type]))
    elif kv.type in (F32, F64):
        kv.type = rng.choice((U32, STR, F64 if kv.type == F32 else F32))
    else:
        kv.type = rng.choice((U32, F32))
    if kv.type == STR:
        kv.value = str(kv.value)
    elif kv.type in (F32, F64):
        kv.value = float(kv.value) if not isinstance(kv.value, str | tuple) else 1.0
    elif kv.type == BOOL:
        kv.value = bool(kv.value)
    elif kv.type in INT_TYPES:
        v = kv.value
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        kv.value = _fit(kv.type, int(v) if ok else 7)
    return f"{kv.key}: type {old_type} -> {kv.type}"


def _tensor_mutation(rng: random.Random, g: GGUFFile) -> str:
    t = rng.choice(g.tensors)
    op = rng.choice(("dim", "dim", "dim", "ndims", "type", "drop", "rename", "swap", "offset", "dup"))
    keep_layout = rng.random() < 0.75  # most reach llama.cpp's loader; the rest test ggml's parser
    what: str
    if op == "dim":
        i = rng.randrange(len(t.dims))
        old = t.dims[i]
        t.dims[i] = rng.choice(
            (0, 1, old + 1, old - 1 if old > 1 else 2, old * 2, max(old // 2, 1), 2**31, 7)
        )
        what = f"tensor {t.name} dim {i}: {old} -> {t.dims[i]}"
    elif op == "ndims":
        old_dims = list(t.dims)
        t.dims = [*t.dims, 1] if rng.random() < 0.5 or len(t.dims) == 1 else t.dims[:-1]
        what = f"tensor {t.name} dims {old_dims} -> {t.dims}"
    elif op == "type":
        old_t = t.type
        t.type = rng.choice([x for x in GGML_TYPES if x != t.type])
        what = f"tensor {t.name} type {old_t} -> {t.type}"
    elif op == "drop":
        g.tensors.remove(t)
        what = f"tensor {t.name} removed"
    elif op == "rename":
        old_name = t.name
        t.name = rng.choice((t.name.replace("blk.", "blk.9"), t.name + ".x", "", "token_embd.weight"))
        what = f"tensor {old_name} renamed {t.name!r}"
    elif op == "swap" and len(t.dims) > 1:
        t.dims = list(reversed(t.dims))
        what = f"tensor {t.name} dims reversed -> {t.dims}"
    elif op == "dup":
        g.tensors.append(Tensor(t.name, list(t.dims), t.type, t.offset))
        what = f"tensor {t.name} duplicated"
    else:
        old_off = t.offset
        t.offset = old_off + rng.choice((1, g.alignment, -g.alignment if old_off else 2**40))
        keep_layout = False
        what = f"tensor {t.name} offset {old_off} -> {t.offset}"
    known = all(x.type in GGML_TYPES and tensor_nbytes(x) < (1 << 31) for x in g.tensors)
    if keep_layout and known:
        g.relayout()
        what += " (relaid out)"
    return what


def _hyperparameter_keys(g: GGUFFile) -> list[KV]:
    arch = g.architecture
    keys = (f"{arch}.", "tokenizer.ggml.")
    return [kv for kv in g.kvs if kv.type != ARR and kv.key.startswith(keys)]


def mutate(base: GGUFFile, seed: int, *, file_size: int) -> Mutant:
    """One seeded mutant of `base`: a hyperparameter, any KV, a KV's type, an array, the tensor
    table, a removed KV, or a truncation."""
    rng = random.Random(seed)
    g = base.copy()
    kind = rng.choices(
        ("hparam", "kv", "type", "array", "tensor", "remove", "truncate", "header"),
        weights=(30, 8, 8, 12, 25, 6, 8, 3),
    )[0]
    truncate_at = None
    if kind == "hparam":
        what = _scalar_mutation(rng, rng.choice(_hyperparameter_keys(g)))
    elif kind == "kv":
        what = _scalar_mutation(rng, rng.choice([kv for kv in g.kvs if kv.type != ARR]))
    elif kind == "type":
        what = _type_mutation(rng, rng.choice([kv for kv in g.kvs if kv.type != ARR]))
    elif kind == "array":
        what = _array_mutation(rng, rng.choice([kv for kv in g.kvs if kv.type == ARR]))
    elif kind == "tensor":
        what = _tensor_mutation(rng, g)
    elif kind == "remove":
        kv = rng.choice(_hyperparameter_keys(g) + [kv for kv in g.kvs if kv.type == ARR])
        g.kvs.remove(kv)
        what = f"{kv.key} removed"
    elif kind == "truncate":
        head = len(g.header_bytes())
        truncate_at = rng.choice((rng.randrange(8, head), rng.randrange(head, file_size), file_size - 1))
        what = f"truncated at {truncate_at} of {file_size} bytes (header {head})"
    else:
        field_ = rng.choice(("version", "n_tensors"))
        if field_ == "version":
            old = g.version
            g.version = rng.choice((0, 1, 2, 4, 2**32 - 1))
            what = f"version {old} -> {g.version}"
        else:
            g.tensors.append(Tensor("extra.weight", [32], 0, g.tensors[-1].offset))
            what = "an extra tensor sharing the last one's data"
    return Mutant(seed, f"[{kind}] {what}", g, truncate_at)


def mutants(path: Path, seeds: range | list[int]) -> Iterator[Mutant]:
    base = GGUFFile.read(path)
    size = path.stat().st_size
    for seed in seeds:
        yield mutate(base, seed, file_size=size)


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


# --- through a real daemon -------------------------------------------------------------------------


@dataclass
class Outcome:
    seed: int
    what: str
    stage: str  # "create" (refused), "generate" (an error), "ok" (it generated), "crash" (the runner)
    status: int
    detail: str


@dataclass
class FuzzReport:
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # daemon died, hung, or answered unclean

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.stage] = out.get(o.stage, 0) + 1
        return out


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def _clean_error(status: int, body: bytes) -> str | None:
    """None when `body` is Ollama's error shape for an error status, else what is wrong with it."""
    import json

    if status < 400:
        return f"status {status} for an error"
    try:
        obj = json.loads(body)
    except ValueError:
        return f"status {status} with a body that is not JSON: {body[:200]!r}"
    if not isinstance(obj, dict) or not isinstance(obj.get("error"), str) or not obj["error"]:
        return f"status {status} without an error message: {body[:200]!r}"
    return None


async def fuzz_daemon(
    url: str,
    alive: Any,
    source: Path,
    seeds: list[int] | range,
    *,
    good_model: str,
    workdir: Path,
    generate_timeout: float = 300.0,
    check_good_every: int = 10,
    log: Any = None,
) -> FuzzReport:
    """Every mutant of `source` for `seeds`: upload, create, generate, delete, on the daemon at
    `url` (`alive()` says whether its process still runs). The daemon must stay up, answer every
    request in time with a success or a clean error, forget a crashed model, and keep serving
    `good_model` (checked every `check_good_every` mutants and at the end)."""
    import aiohttp

    report = FuzzReport()
    timeout = aiohttp.ClientTimeout(total=generate_timeout)
    path = workdir / "mutant.gguf"

    async def good(s: aiohttp.ClientSession, when: str) -> None:
        body = {"model": good_model, "prompt": "Hello", "stream": False, "options": {"num_predict": 2}}
        async with s.post(url + "/api/generate", json=body) as r:
            data = await r.read()
            if r.status != 200 or b'"done":true' not in data:
                report.failures.append(f"good model failed {when}: {r.status} {data[:300]!r}")

    async with aiohttp.ClientSession(timeout=timeout) as s:
        for n, mutant in enumerate(mutants(source, seeds)):
            mutant.write(path)
            name = f"fuzz-{mutant.seed}"
            outcome: Outcome | None = None
            try:
                digest = _sha256(path)
                with open(path, "rb") as fh:
                    async with s.post(f"{url}/api/blobs/{digest}", data=fh) as r:
                        if r.status not in (200, 201):
                            report.failures.append(f"seed {mutant.seed}: upload {r.status} {await r.text()}")
                            continue
                body = {"model": name, "files": {"model.gguf": digest}, "stream": False}
                async with s.post(url + "/api/create", json=body) as r:
                    data = await r.read()
                    if r.status != 200:
                        problem = _clean_error(r.status, data)
                        if problem:
                            report.failures.append(f"seed {mutant.seed} ({mutant.what}): create {problem}")
                        outcome = Outcome(
                            mutant.seed, mutant.what, "create", r.status, data.decode("utf-8", "replace")
                        )
                if outcome is None:
                    stream = mutant.seed % 2 == 1  # half streamed: errors after the first byte too
                    gen = {"model": name, "prompt": "Hello\nthere", "stream": stream, "keep_alive": 0,
                           "options": {"num_predict": 4}}  # fmt: skip
                    async with s.post(url + "/api/generate", json=gen) as r:
                        data = await r.read()
                        text = data.decode("utf-8", "replace")
                        if r.status == 200:
                            last = text.strip().split("\n")[-1] if text.strip() else ""
                            if '"error"' in last:
                                stage = "crash" if "model runner crashed" in last else "generate"
                                outcome = Outcome(mutant.seed, mutant.what, stage, 200, last)
                            elif '"done":true' not in last:
                                report.failures.append(
                                    f"seed {mutant.seed}: generate ended without done: {text[-300:]}"
                                )
                            else:
                                outcome = Outcome(mutant.seed, mutant.what, "ok", 200, "")
                        else:
                            problem = _clean_error(r.status, data)
                            if problem:
                                report.failures.append(
                                    f"seed {mutant.seed} ({mutant.what}): generate {problem}"
                                )
                            stage = "crash" if "model runner crashed" in text else "generate"
                            outcome = Outcome(mutant.seed, mutant.what, stage, r.status, text)
                    if outcome is not None and outcome.stage == "crash":
                        async with s.get(url + "/api/ps") as r:
                            ps = await r.text()
                            if name in ps:
                                report.failures.append(
                                    f"seed {mutant.seed}: a crashed model is still loaded: {ps}"
                                )
                    async with s.delete(url + "/api/delete", json={"model": name}) as r:
                        await r.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                report.failures.append(f"seed {mutant.seed} ({mutant.what}): {type(exc).__name__} {exc}")
            finally:
                path.unlink(missing_ok=True)
            if outcome is not None:
                report.outcomes.append(outcome)
                if log is not None:
                    o = outcome
                    log(f"{o.seed:5d} {o.stage:8s} {o.status} {o.what} :: {o.detail[:160]}")
            if not alive():
                report.failures.append(f"the daemon died after seed {mutant.seed} ({mutant.what})")
                return report
            if (n + 1) % check_good_every == 0:
                await good(s, f"after seed {mutant.seed}")
        await good(s, "at the end")
    return report
