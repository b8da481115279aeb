"""The converter's parts: safetensors checks, the GGUF writer, Go's replacer, tokenizer files, the
BERT conversion of all-MiniLM-L6-v2, and create's safetensors path (statuses, missing extra)."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pyollama.convert import ERR_NO_NUMPY, convert_model
from pyollama.convert.base import replacer
from pyollama.convert.gguf_writer import (
    FLOAT32,
    GGML_BF16,
    GGML_F16,
    GGML_F32,
    STRING,
    OutTensor,
    array,
    boolean,
    f32,
    string,
    u32,
    write_gguf,
)
from pyollama.convert.safetensors import SafetensorsError, read_header
from pyollama.convert.tokenizer import BYTE, CONTROL, NORMAL, parse_sentencepiece, parse_tokenizer
from pyollama.errors import BadRequest
from pyollama.store import Store
from pyollama.store.create import collect, create_model
from tests.convert.hf_factory import make_hf_model, write_safetensors
from tests.store.conftest import gguf_py_reader


def _read(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from gguf import GGUFReader

    r = GGUFReader(str(path))
    return {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.")}, {
        t.name: t for t in r.tensors
    }


# --- safetensors -------------------------------------------------------------------------------------


def test_safetensors_dtypes(tmp_path: Path) -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    for dt, tol in (("F32", 0), ("F16", 1e-3), ("BF16", 1e-2)):
        p = tmp_path / f"{dt}.safetensors"
        write_safetensors(p, {"w": a, "scalar": np.asarray(3.0, np.float32)}, dt)
        ts = {t.name: t for t in read_header(p)}
        assert ts["w"].dtype == dt and ts["w"].shape == (3, 4)
        assert np.allclose(ts["w"].numpy(), a, atol=tol)
        assert ts["scalar"].numpy().shape == (1,)  # 0-dim becomes 1-dim, as in Ollama


@pytest.mark.parametrize("problem", ["short", "huge header", "not json", "offsets", "dtype"])
def test_safetensors_refuses_bad_headers(tmp_path: Path, problem: str) -> None:
    p = tmp_path / "x.safetensors"
    if problem == "short":
        p.write_bytes(b"\x01\x02")
    elif problem == "huge header":
        p.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    elif problem == "not json":
        p.write_bytes(struct.pack("<Q", 4) + b"{{{{")
    else:
        meta = {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16 if problem == "dtype" else 64]}}
        if problem == "dtype":
            meta["w"]["dtype"] = "Q9"
        h = json.dumps(meta).encode()
        p.write_bytes(struct.pack("<Q", len(h)) + h + b"\0" * 16)
    with pytest.raises(SafetensorsError):
        read_header(p)


# --- GGUF writer -------------------------------------------------------------------------------------


def test_gguf_writer_round_trip(tmp_path: Path) -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3) + 0.5
    path = tmp_path / "w.gguf"
    with open(path, "wb") as f:
        write_gguf(
            f,
            {
                "general.architecture": string("llama"),
                "x.u": u32(7),
                "x.f": f32(0.25),
                "x.b": boolean(True),
                "x.s": array(STRING, ["a", "ünï"]),
                "x.fs": array(FLOAT32, [1.0, -2.5]),
            },
            [
                OutTensor("a32", (2, 3), GGML_F32, lambda: a),
                OutTensor("a16", (2, 3), GGML_F16, lambda: a),
                OutTensor("abf", (2, 3), GGML_BF16, lambda: a),
                OutTensor("v", (5,), GGML_F32, lambda: np.ones(5, np.float32)),
            ],
        )
    kv, tensors = _read(path)
    assert kv["x.u"] == 7 and kv["x.f"] == 0.25 and kv["x.b"] is True
    assert kv["x.s"] == ["a", "ünï"] and kv["x.fs"] == [1.0, -2.5]
    assert [int(x) for x in tensors["a32"].shape] == [3, 2]  # ggml order: innermost first
    assert np.array_equal(np.asarray(tensors["a32"].data).reshape(2, 3), a)
    assert np.array_equal(np.asarray(tensors["a16"].data).reshape(2, 3).astype(np.float32), a)
    bf = np.asarray(tensors["abf"].data).view("<u2").reshape(2, 3).astype("<u4") << 16
    assert np.allclose(bf.view("<f4"), a, atol=1e-2)
    assert all(t.data_offset % 32 == 0 for t in tensors.values())


def test_bf16_rounds_to_nearest_even() -> None:
    from pyollama.convert.gguf_writer import _to_kind

    x = np.array([1.0, 1.00390625, 1.01171875, np.nan], dtype=np.float32)  # exact, tie-down, tie-up
    got = np.frombuffer(_to_kind(x, GGML_BF16), dtype="<u2")
    assert list(got[:3]) == [0x3F80, 0x3F80, 0x3F82]
    assert got[3] & 0x7F80 == 0x7F80 and got[3] & 0x7F


# --- names and tokenizers ----------------------------------------------------------------------------


def test_replacer_is_gos() -> None:
    r = replacer(
        ("attention.output.dense", "attn_output", "output.dense", "ffn_down", "encoder.layer", "blk")
    )
    assert r("encoder.layer.0.attention.output.dense.weight") == "blk.0.attn_output.weight"
    assert r("encoder.layer.0.output.dense.bias") == "blk.0.ffn_down.bias"
    first = replacer(("a", "1", "ab", "2"))
    assert first("abab") == "1b1b"  # the earlier pair wins at one position


def _pb_varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def _pb_piece(piece: str, score: float, kind: int) -> bytes:
    body = b"\x0a" + _pb_varint(len(piece.encode())) + piece.encode()
    body += b"\x15" + struct.pack("<f", score) + b"\x18" + _pb_varint(kind)
    return b"\x0a" + _pb_varint(len(body)) + body


def test_sentencepiece_model_protobuf() -> None:
    data = _pb_piece("<unk>", 0.0, 2) + _pb_piece("<s>", 0.0, 3) + _pb_piece("\u2581the", -1.5, 1)
    data += _pb_piece("<0x41>", 0.0, 6)
    normalizer = b"\x18\x00"  # add_dummy_prefix: false
    data += b"\x1a" + _pb_varint(len(normalizer)) + normalizer
    tokens, scores, types, prefix = parse_sentencepiece(data)
    assert tokens == ["<unk>", "<s>", "\u2581the", "<0x41>"]
    assert scores == [0.0, 0.0, -1.5, 0.0] and types == [2, 3, 1, 6] and prefix is False


def test_tokenizer_model_wins_and_specials_resolve(tmp_path: Path) -> None:
    data = b"".join(
        _pb_piece(p, -float(i), k) for i, (p, k) in enumerate([("<unk>", 2), ("<s>", 3), ("</s>", 3)])
    )
    data += _pb_piece("<end_of_turn>", -9.0, 1)
    (tmp_path / "tokenizer.model").write_bytes(data)
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "bos_token": {"content": "<s>"},
                "eos_token": "</s>",
                "add_bos_token": True,
                "chat_template": "T",
            }
        )
    )
    (tmp_path / "generation_config.json").write_text(json.dumps({"eos_token_id": [2, 3]}))
    v = parse_tokenizer(tmp_path, ("bos", "eos"))
    assert v.model == "llama" and v.types[3] == CONTROL  # Ollama's Gemma 3 control-token fix
    assert [(s.type, s.id, s.add) for s in v.specials] == [("bos", 1, True), ("eos", 2, None)]
    eos = v.special("eos")
    assert eos is not None and eos.ids == [2, 3]
    assert v.chat_template == "T"


def test_spm_style_tokenizer_json(tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    folder = make_hf_model(tmp_path / "m", "llama2")
    v = parse_tokenizer(folder, ("bos", "eos", "unk"))
    assert v.model == "llama" and v.add_space_prefix is True
    assert v.types[v.tokens.index("<0x0A>")] == BYTE and v.types[v.tokens.index("<s>")] == CONTROL
    assert v.types[v.tokens.index("\u2581a")] == NORMAL


# --- BERT: the real all-MiniLM-L6-v2 folder ----------------------------------------------------------


def test_minilm_converts_to_ollamas_bert_gguf(minilm_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "minilm.gguf"
    with open(out, "wb") as f:
        convert_model(minilm_dir, f)
    kv, tensors = _read(out)
    assert kv["general.architecture"] == "bert" and kv["tokenizer.ggml.model"] == "bert"
    assert kv["bert.pooling_type"] == 1 and kv["bert.normalize_embeddings"] is True
    assert kv["bert.block_count"] == 6 and kv["bert.attention.head_count"] == 12
    assert kv["bert.attention.causal"] is False and kv["tokenizer.ggml.token_type_count"] == 2
    assert kv["tokenizer.ggml.cls_token_id"] == 101 and kv["tokenizer.ggml.seperator_token_id"] == 102
    assert kv["tokenizer.ggml.padding_token_id"] == 0 and kv["tokenizer.ggml.unknown_token_id"] == 100
    tokens = kv["tokenizer.ggml.tokens"]
    assert tokens[101] == "[CLS]" and tokens[1996] == "\u2581the" and "##s" not in tokens and "s" in tokens
    assert len(tensors) == 101 and "embeddings.position_ids" not in tensors
    assert tensors["token_types.weight"].tensor_type.name == "F32"
    assert tensors["blk.5.ffn_down.weight"].tensor_type.name == "F16"
    src = {t.name: t for t in read_header(minilm_dir / "model.safetensors")}
    want = src["encoder.layer.0.attention.self.query.weight"].numpy()
    got = np.asarray(tensors["blk.0.attn_q.weight"].data, dtype=np.float32).reshape(want.shape)
    assert np.allclose(got, want, atol=1e-3)


# --- create's safetensors path -----------------------------------------------------------------------


def _upload_folder(store: Store, folder: Path) -> dict[str, str]:
    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            d, _, _ = store.write_blob_file(p)
            files[p.relative_to(folder).as_posix()] = d
    return files


async def test_create_from_safetensors_blobs(tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    store = Store(tmp_path / "models")
    files = _upload_folder(store, make_hf_model(tmp_path / "q", "qwen2"))
    req = {"model": "tiny", "files": files}
    statuses = await collect(create_model(store, req, read_gguf=gguf_py_reader))
    assert statuses[0] == {"status": "converting model"}
    assert statuses[1]["status"].startswith("creating new layer sha256:")
    assert statuses[-2:] == [{"status": "writing manifest"}, {"status": "success"}]
    from pyollama.store import ModelName

    m = store.read_manifest(ModelName.parse("tiny"))
    assert [x.media_type for x in m.layers] == ["application/vnd.ollama.image.model"]
    cfg = json.loads(store.read_blob(m.config.digest))
    assert cfg["model_family"] == "qwen2" and cfg["file_type"] == "F16"
    assert not any(p.name.startswith(".pyollama-tmp") for p in store.root.iterdir())  # temp folder gone


async def test_create_without_numpy_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyollama.convert

    store = Store(tmp_path / "models")
    d, _, _ = store.write_blob_bytes(b"\0" * 16)
    monkeypatch.setattr(pyollama.convert, "numpy_available", lambda: False)
    with pytest.raises(BadRequest, match=r"pip install 'pyollama\[convert\]'") as err:
        await collect(create_model(store, {"model": "x", "files": {"model.safetensors": d}}))
    assert str(err.value.message) == ERR_NO_NUMPY


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"architectures": ["FancyNewForCausalLM"]}, 'unsupported architecture "FancyNewForCausalLM"'),
        ({"architectures": []}, "unknown architecture"),
    ],
)
async def test_unsupported_architectures(tmp_path: Path, edit: dict[str, Any], message: str) -> None:
    pytest.importorskip("tokenizers")
    folder = make_hf_model(tmp_path / "m", "llama3")
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(edit)
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(BadRequest, match=message):
        convert_model(folder, io.BytesIO())


def test_unigram_tokenizer_json_needs_its_model(tmp_path: Path) -> None:
    from pyollama.convert.tokenizer import TokenizerError

    spec = {"model": {"type": "Unigram", "vocab": [["a", -1.0]]}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(spec))
    with pytest.raises(TokenizerError, match="Unigram"):
        parse_tokenizer(tmp_path, ("bos",))
