"""Quantizing GGUF models with llama.cpp's own quantizer, in-process (`create --quantize`).

Ollama shells out to `llama-quantize` (server/quantization.go); pyollama runs the same function
(`llama_model_quantize`) inside the engine on a thread of its own, so the output bytes are the ones
llama-quantize writes, the GIL is never held while it works, and closing the iterator (a client that
went away) stops it before the next tensor. Ollama's accepted types, its per-architecture tensor
choices and its progress arithmetic are mirrored here; the engine does the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from pyollama.errors import BadRequest

# Ollama's fs/ggml ParseFileType: the only types `create --quantize` accepts (after upper-casing)
_ACCEPTED: dict[str, str] = {
    "F32": "F32",
    "F16": "F16",
    "Q8_0": "Q8_0",
    "Q4_K_S": "Q4_K_S",
    "Q4_K_M": "Q4_K_M",
    "Q4_K": "Q4_K_M",
    "BF16": "BF16",
}
# the list its error names (ParseFileType's supportedFileTypes: BF16 is accepted but not listed)
_LISTED = ("F32", "F16", "Q4_K_S", "Q4_K_M", "Q8_0")
UNQUANTIZED = ("F16", "BF16", "F32")
ERR_QUANTIZE = "quantization is only supported for F16, BF16 and F32 models"


def parse_file_type(name: str) -> str:
    """The file type a quantize request asks for (Go `ggml.ParseFileType` of the upper-cased name),
    as llama.cpp names it; raises `BadRequest` with Ollama's message for any other."""
    found = _ACCEPTED.get(name)
    if found is None:
        raise BadRequest(f"unsupported quantization type {name} - supported types are {', '.join(_LISTED)}")
    return found


def accepted_types() -> list[str]:
    """Every quantize type the daemon accepts (what a client can check before uploading)."""
    return list(_ACCEPTED)


def tensor_types(arch: str, file_type: str) -> list[tuple[str, str]]:
    """Ollama's per-architecture `--tensor-type` overrides (server/quantization.go
    `llamaQuantizeArgs`): tensors its K-quants keep at a higher precision for quality."""
    if file_type not in ("Q4_K_S", "Q4_K_M"):
        return []
    if arch in ("qwen35", "qwen35moe"):
        return [(r"^blk\.[0-9]+\.nextn\.eh_proj\.weight$", "q8_0")]
    if arch == "gemma3n":
        return [(r"^per_layer_token_embd\.weight$", "f16")]
    if arch == "deepseek2":
        names = ("attn_k_b", "attn_q_a", "attn_q_b", "attn_v_b", "attn_kv_a_mqa")
        return [(rf"{n}\.weight$", "q8_0") for n in names]
    if arch in ("glmocr", "glm4"):
        return [(r"^token_embd\.weight$", "f16"), (r"^output\.weight$", "f16")]
    return []


@dataclass(frozen=True)
class Progress:
    """llama-quantize's "[current/total]": tensor `current` of `total` is under way."""

    current: int
    total: int


def f32(x: float) -> float:
    """`x` rounded to a float32, as Go's float32 arithmetic leaves it."""
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


async def ollama_quantize(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], file_type: str, arch: str
) -> AsyncGenerator[float, None]:
    """Quantize as Ollama's create does (with its tensor overrides for `arch`), yielding the
    fraction done in its own arithmetic: tensor bytes x current / total (runLlamaQuantizeCommand),
    as a float32 share of the file's data section (rewriteLayerWithLlamaQuantize)."""
    from pyollama.engine import read_gguf

    header = await asyncio.to_thread(read_gguf, src, 0)
    tensor_bytes = sum(int(t.get("size", 0)) for t in header["tensors"])
    data_bytes = os.path.getsize(src) - int(header.get("data_offset", 0))
    progress = quantize_file(src, dst, file_type, overrides=tensor_types(arch, file_type))
    last = 0
    async with contextlib.aclosing(progress):
        async for p in progress:
            done = tensor_bytes * p.current // p.total
            if done > last:  # Ollama reports only growth
                last = done
                yield f32(f32(float(done)) / f32(float(data_bytes))) if data_bytes > 0 else 0.0


async def quantize_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    file_type: str,
    *,
    allow_requantize: bool = True,
    overrides: Sequence[tuple[str, str]] = (),
    nthread: int = 0,
) -> AsyncGenerator[Progress, None]:
    """Quantize `src` into the new file `dst` as `file_type` (llama-quantize's names); yields the
    progress as it comes and ends once `dst` is written. Raises `Canceled` or an `EngineError` with
    llama.cpp's reason. Closing the iterator early (or cancelling its task) stops the job before
    its next tensor and removes `dst`.

    `allow_requantize` is on by default, as Ollama passes `--allow-requantize`.
    """
    from pyollama.engine import QuantizeJob, init

    init()
    options = {
        "type": file_type,
        "nthread": nthread,
        "allow_requantize": allow_requantize,
        "tensor_types": [list(o) for o in overrides],
    }
    job = QuantizeJob(os.fspath(src), os.fspath(dst), json.dumps(options))
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    fd = job.fileno()
    loop.add_reader(fd, ready.set)
    finished = False
    try:
        last = Progress(0, 0)
        while True:
            await ready.wait()
            ready.clear()
            state = job.poll()
            if state is None:
                finished = True
                if last.total and last.current < last.total:
                    yield Progress(last.total, last.total)
                return
            now = Progress(*state)
            if now.total and now != last:
                last = now
                yield now
    finally:
        loop.remove_reader(fd)
        if not finished:
            job.cancel()
        job.close()  # never waits: a cancelled job stops at its next tensor and removes dst
        if not finished:
            with contextlib.suppress(OSError):
                os.unlink(dst)
