"""Make LoRA adapter GGUFs for tests: low-rank A/B pairs on a base model's attention weights.

The adapter is random but strong (each B @ A is about as large as the weight it adds to), so a
greedy answer changes with it at scale 1 and must stay the base model's at scale 0. The layout is
the one llama.cpp's `convert_lora_to_gguf.py` writes and `llama_adapter_lora_init` reads:
`general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`, and per target weight
`<name>.lora_a` (ne = [n_in, rank]) and `<name>.lora_b` (ne = [rank, n_out]).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_lora(
    path: Path,
    base_gguf: Path,
    *,
    rank: int = 8,
    alpha: float | None = None,
    targets: tuple[str, ...] = ("attn_q", "attn_v"),
    layers: tuple[int, ...] | None = None,
    strength: float = 1.0,
    seed: int = 0,
) -> Path:
    """A LoRA for `base_gguf` on `targets` of `layers` (default every block), written to `path`.

    `strength` scales B @ A relative to the base weight's typical size; `alpha` defaults to `rank`
    (llama.cpp's effective scale is alpha / rank x the user's scale: 1 here).
    """
    import gguf

    from pyollama import engine  # its header reader skips the vocabulary (gguf-py's takes ~15 s)

    header = engine.read_gguf(base_gguf, 0)
    arch = str(header["kv"]["general.architecture"])
    shapes = {t["name"]: [int(x) for x in t["shape"]] for t in header["tensors"]}
    n_layer = 1 + max(int(n.split(".")[1]) for n in shapes if n.startswith("blk."))
    chosen = layers if layers is not None else tuple(range(n_layer))
    rng = np.random.default_rng(seed)

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha if alpha is not None else rank))
    written = 0
    for i in chosen:
        for target in targets:
            name = f"blk.{i}.{target}.weight"
            if name not in shapes:
                continue
            n_in, n_out = shapes[name][0], shapes[name][1]
            # entries of B @ A ~ strength / sqrt(n_in): a random linear map of the weight's scale
            a = (rng.standard_normal((rank, n_in)) / np.sqrt(rank)).astype(np.float32)
            b = (rng.standard_normal((n_out, rank)) * (strength / np.sqrt(n_in))).astype(np.float32)
            writer.add_tensor(f"{name}.lora_a", a)
            writer.add_tensor(f"{name}.lora_b", b)
            written += 1
    if not written:
        raise ValueError(f"none of {targets} found in {base_gguf}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
