"""The Cython engine and C ABI: configuration checks, GGUF reading, hostile files, shutdown."""

from __future__ import annotations

import json
import struct
import threading
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import requires_engine

pytestmark = requires_engine


@pytest.fixture(scope="module")
def engine() -> ModuleType:
    from pyollama import engine

    engine.init(0)
    return engine


def _gguf_string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def absurd_tensor_gguf(path: Path) -> Path:
    """A GGUF whose single tensor claims 2^40 x 2^40 elements."""
    kv = _gguf_string("general.architecture") + struct.pack("<I", 8) + _gguf_string("llama")
    tensor = _gguf_string("token_embd.weight") + struct.pack("<I", 2) + struct.pack("<QQ", 1 << 40, 1 << 40)
    tensor += struct.pack("<I", 0) + struct.pack("<Q", 0)
    header = b"GGUF" + struct.pack("<I", 3) + struct.pack("<QQ", 1, 1)
    path.write_bytes(header + kv + tensor + b"\0" * 64)
    return path


def test_version(engine: ModuleType) -> None:
    assert "0c1e570" in engine.version()


def test_read_gguf_header_only(engine: ModuleType, smollm2_path: Path) -> None:
    info = engine.read_gguf(smollm2_path, 5)
    kv = info["kv"]
    assert kv["general.architecture"] == "llama"
    assert kv["llama.context_length"] == 8192
    assert kv["llama.embedding_length"] == 576
    assert kv["general.file_type"] == 3  # Q4_1
    assert kv["tokenizer.ggml.tokens"] == []  # long arrays elided on request
    assert len(info["tensors"]) == 272
    emb = next(t for t in info["tensors"] if t["name"] == "token_embd.weight")
    assert emb["shape"] == [576, 49152]
    full = engine.read_gguf(smollm2_path)
    assert len(full["kv"]["tokenizer.ggml.tokens"]) == 49152


def test_gguf_info_api(smollm2_path: Path) -> None:
    from pyollama.gguf import read_gguf_info

    info = read_gguf_info(smollm2_path)
    assert info.architecture == "llama"
    assert info.file_type == "Q4_1"
    assert info.context_length == 8192
    assert info.embedding_length == 576
    assert 130_000_000 < info.parameter_count < 140_000_000


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "failed to open GGUF file"),
        ("text", "invalid magic characters"),
        ("truncated", ""),
        ("absurd", ""),
    ],
)
def test_bad_files_raise_and_process_survives(
    engine: ModuleType, kind: str, reason: str, tmp_path: Path, tiny_gguf: Path
) -> None:
    from pyollama.errors import GGUFError, ModelLoadError

    path = tmp_path / "bad.gguf"
    if kind == "text":
        path.write_text("this is not a model\n" * 100)
    elif kind == "truncated":
        path.write_bytes(tiny_gguf.read_bytes()[: tiny_gguf.stat().st_size // 2])
    elif kind == "absurd":
        absurd_tensor_gguf(path)
    if kind != "missing":
        with pytest.raises(GGUFError):
            engine.read_gguf(path)
    server = engine.Server(json.dumps({"model": str(path), "n_ctx": 256}))
    with pytest.raises(ModelLoadError) as err:
        server.load()
    message = str(err.value)
    assert "failed to load model" in message
    assert reason in message  # llama.cpp's own reason, not only "see the log"
    assert "see the log" not in message
    server.close()
    # the process keeps working: a good model loads and answers afterwards
    good = engine.Server(json.dumps({"model": str(tiny_gguf), "n_ctx": 256}))
    good.load()
    good.start()
    stream = good.submit("/tokenize", b'{"content": "hello"}')
    status, _, _, data = stream.next(10_000)
    assert status == 200 and json.loads(data)["tokens"]
    stream.close()
    good.close()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{not json", "invalid configuration JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"n_ctx": 128}', "model is required"),
        ('{"model": "x.gguf", "n_ctx": "big"}', "n_ctx must be an integer"),
        ('{"model": "x.gguf", "n_ctx": -5}', "n_ctx out of range"),
        ('{"model": "x.gguf", "flash_attn": "maybe"}', "invalid flash_attn"),
        ('{"model": "x.gguf", "help": true}', "unknown configuration key: help"),
        ('{"model": "x.gguf", "chat_template": "{% for %}"}', "invalid chat template"),
        ('{"model": "x.gguf", "lora": "a.gguf"}', "lora must be a list of paths"),
        ('{"model": "x.gguf", "lora": [{"path": "a.gguf", "scale": "1"}]}', "lora scale must be a number"),
        ('{"model": "x.gguf", "lora": [{"scale": 1}]}', "lora must be a list of paths"),
        ('{"model": "x.gguf", "lora": ["/no/such.gguf"]}', "LoRA adapter is not a readable GGUF file"),
        ('{"model": "x.gguf", "draft_model": "/no/such.gguf"}', "draft model is not a readable GGUF file"),
        ('{"model": "x.gguf", "draft_n_max": 5000}', "draft_n_max out of range"),
        ('{"model": "x.gguf", "speculative": ["draft-simple"]}', "invalid speculative type: draft-simple"),
        ('{"model": "x.gguf", "speculative": "ngram-mod"}', "speculative must be a list"),
        ('{"model": "x.gguf", "rpc": "h:1"}', "rpc must be a list"),
        ('{"model": "x.gguf", "rpc": [1]}', "rpc must be a list"),
        ('{"model": "x.gguf", "rpc": ["nohost"]}', "invalid RPC server"),
        ('{"model": "x.gguf", "rpc": ["h:0"]}', "invalid RPC server"),
        ('{"model": "x.gguf", "rpc": ["h:1,g:2"]}', "invalid RPC server"),
        ('{"model": "x.gguf", "rpc": ["h:123456"]}', "invalid RPC server"),
    ],
)
def test_bad_configuration(engine: ModuleType, config: str, message: str) -> None:
    from pyollama.errors import EngineConfigError

    with pytest.raises(EngineConfigError) as err:
        engine.Server(config)
    assert message in str(err.value)


def test_calls_in_wrong_state(engine: ModuleType, tiny_gguf: Path) -> None:
    from pyollama.errors import EngineConfigError, EngineStateError

    server = engine.Server(json.dumps({"model": str(tiny_gguf), "n_ctx": 256}))
    with pytest.raises(EngineStateError):
        server.submit("/completion", b"{}")
    with pytest.raises(EngineStateError):
        server.metadata()
    server.load()
    with pytest.raises(EngineStateError):
        server.load()
    server.start()
    with pytest.raises(EngineConfigError):
        server.submit("/no/such/route", b"{}")
    # malformed request bodies are the handler's 4xx/5xx, never a crash
    stream = server.submit("/completion", b"{broken")
    status, _, last, data = stream.next(10_000)
    assert status >= 400 and last and b"error" in data
    stream.close()
    server.close()
    server.close()  # idempotent
    with pytest.raises(EngineStateError):
        server.submit("/completion", b"{}")


def test_stop_ends_live_streams_promptly(engine: ModuleType, tiny_gguf: Path) -> None:
    server = engine.Server(json.dumps({"model": str(tiny_gguf), "n_ctx": 4096, "n_parallel": 1}))
    server.load()
    server.start()
    body = json.dumps({"prompt": "once", "n_predict": 100000, "ignore_eos": True, "stream": True}).encode()
    running = server.submit("/completion", body)
    queued = server.submit("/completion", body)  # waits for the only slot
    assert running.next(30_000) is not None
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "stop() must return while streams are live"
    for stream in (running, queued):
        chunks = []
        while True:
            try:
                item = stream.next(1000)
            except EOFError:
                break
            if item is not None:
                chunks.append(item)
        stream.close()
    server.close()


def test_cancel_frees_the_slot(engine: ModuleType, tiny_gguf: Path) -> None:
    """With one slot, cancelling an endless stream lets the queued request run."""
    # context shift on: the endless stream never runs out of context, so only a cancel ends it
    config = {"model": str(tiny_gguf), "n_ctx": 256, "n_parallel": 1, "context_shift": True}
    server = engine.Server(json.dumps(config))
    server.load()
    server.start()
    endless = json.dumps({"prompt": "a", "n_predict": -1, "ignore_eos": True, "stream": True}).encode()
    short = json.dumps({"prompt": "b", "n_predict": 4, "stream": False}).encode()
    a = server.submit("/completion", endless)
    assert a.next(30_000) is not None
    b = server.submit("/completion", short)
    assert b.next(200) is None  # still queued behind the endless stream
    a.cancel()
    item = b.next(60_000)  # without the cancel this would wait forever
    assert item is not None and item[0] == 200
    assert json.loads(item[3])["tokens_predicted"] == 4
    a.close()
    b.close()
    server.close()


def test_a_server_dropped_unclosed_warns_and_does_not_block(tiny_gguf: Path) -> None:
    """The garbage collector's thread never waits for a model to stop: an unclosed server frees
    itself on a thread of its own, with a ResourceWarning (close() is the way)."""
    import gc
    import time
    import warnings

    from pyollama import engine

    engine.init(0)
    srv = engine.Server(json.dumps({"model": str(tiny_gguf), "n_ctx": 256, "n_parallel": 1, "warmup": False}))
    srv.load()
    srv.start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.monotonic()
        del srv
        gc.collect()
        assert time.monotonic() - t0 < 5
    assert any(issubclass(w.category, ResourceWarning) for w in caught)


def test_lora_tensors_the_cpu_cannot_multiply_are_refused(
    engine: ModuleType, tmp_path: Path, tiny_gguf: Path
) -> None:
    """llama.cpp loads an F64 adapter and then calls a null function (SIGSEGV) at the first
    product; the engine refuses it by its header."""
    import gguf
    import numpy as np

    from pyollama.errors import EngineConfigError

    path = tmp_path / "f64-lora.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_type("adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", 4.0)
    w.add_tensor("blk.0.attn_q.weight.lora_a", np.zeros((4, 64), dtype=np.float64))
    w.add_tensor("blk.0.attn_q.weight.lora_b", np.zeros((64, 4), dtype=np.float64))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(EngineConfigError) as err:
        engine.Server(json.dumps({"model": str(tiny_gguf), "lora": [str(path)]}))
    assert "'blk.0.attn_q.weight.lora_a' has type f64, which llama.cpp cannot apply" in str(err.value)


def test_draft_and_ngram_configuration_load(engine: ModuleType, tiny_gguf: Path) -> None:
    """A model as its own draft (same vocabulary) and the n-gram speculators all load and answer."""
    for extra in (
        {"draft_model": str(tiny_gguf), "draft_n_max": 3},
        {"speculative": ["ngram-simple", "ngram-mod"]},
    ):
        cfg = {"model": str(tiny_gguf), "n_ctx": 256, "n_parallel": 1, "warmup": False, **extra}
        server = engine.Server(json.dumps(cfg))
        server.load()
        server.start()
        stream = server.submit(
            "/completion", json.dumps({"prompt": "a b a b a b", "n_predict": 8, "top_k": 1}).encode()
        )
        item = None
        while item is None:
            item = stream.next(30_000)
        assert item[0] == 200 and json.loads(item[3])["tokens_predicted"] == 8
        stream.close()
        server.close()
