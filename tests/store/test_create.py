from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import pytest

from pyollama.errors import BadRequest, ModelNotFound, PyollamaError
from pyollama.store import ModelName, Store, create_model, load_model, show_model
from pyollama.store.create import collect
from pyollama.store.store import (
    MEDIA_DRAFT,
    MEDIA_LICENSE,
    MEDIA_MESSAGES,
    MEDIA_MODEL,
    MEDIA_PARAMS,
    MEDIA_SYSTEM,
    MEDIA_TEMPLATE,
)
from tests.store.conftest import gguf_py_reader, make_gguf, sha

GEMMA_TEMPLATE = (
    '{{- range $i, $_ := .Messages }}<start_of_turn>{{ if eq .Role "user" }}user{{ else }}model'
    "{{ end }}\n{{ .Content }}<end_of_turn>\n{{ end }}<start_of_turn>model\n"
)


async def create(store: Store, **req: Any) -> list[dict[str, Any]]:
    return await collect(create_model(store, req, read_gguf=gguf_py_reader))


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def test_create_from_files(store: Store, fake_gguf: Path, upload: Callable[[Path], str]) -> None:
    d = upload(fake_gguf)
    statuses = await create(
        store,
        model="mine",
        files={"model.gguf": d},
        template=GEMMA_TEMPLATE,
        system="Be nice.",
        parameters={"temperature": 0.7, "stop": ["<end_of_turn>"]},
        license=["MIT", "Apache"],
        messages=[{"role": "user", "content": "hi"}],
    )
    texts = [s["status"] for s in statuses]
    assert texts[0] == "parsing GGUF"
    assert texts[1] == f"using existing layer {d}"
    assert all(t.startswith("creating new layer sha256:") for t in texts[2:-2])
    assert texts[-2:] == ["writing manifest", "success"]
    lm = load_model(store, ModelName.parse("mine"))
    media = [x.media_type.rsplit(".", 1)[-1] for x in lm.manifest.layers]
    assert media == ["model", "template", "system", "license", "license", "params", "messages"]
    assert lm.manifest.layers[0].from_ == str(store.blob_path(d))  # as Ollama records it
    assert lm.template == GEMMA_TEMPLATE and lm.system == "Be nice." and lm.license == ("MIT", "Apache")
    params = store.read_blob(lm.manifest.layers[5].digest)
    assert params == b'{"stop":["\\u003cend_of_turn\\u003e"],"temperature":0.7}\n'
    assert store.read_blob(lm.manifest.layers[6].digest) == b'[{"role":"user","content":"hi"}]\n'
    cfg = lm.config
    assert list(cfg) == [
        "model_format",
        "model_family",
        "model_families",
        "model_type",
        "file_type",
        "capabilities",
        "context_length",
        "embedding_length",
        "architecture",
        "os",
        "rootfs",
    ]
    assert cfg["model_format"] == "gguf" and cfg["model_family"] == "llama"
    assert cfg["model_type"] == "64" and cfg["file_type"] == "F16" and cfg["context_length"] == 2048
    assert cfg["rootfs"] == {"type": "layers", "diff_ids": [x.digest for x in lm.manifest.layers]}


async def test_create_again_is_idempotent_and_prunes_old_layers(
    store: Store, fake_gguf: Path, upload: Callable[[Path], str]
) -> None:
    d = upload(fake_gguf)
    await create(store, model="m", files={"m.gguf": d}, system="first")
    first = load_model(store, ModelName.parse("m")).manifest.layer(MEDIA_SYSTEM)
    assert first is not None
    statuses = await create(store, model="M", files={"m.gguf": d}, system="second")
    assert any(s["status"].startswith("creating new layer") for s in statuses)
    assert not store.has_blob(first.digest)  # the old system layer nobody uses any more
    assert [p.name for p in (store.manifests_dir / "registry.ollama.ai/library").iterdir()] == ["m"]
    again = await create(store, model="m", files={"m.gguf": d}, system="second")
    assert all(not s["status"].startswith("creating new layer") for s in again)


async def test_create_from_model_merges(store: Store, fake_gguf: Path, upload: Callable[[Path], str]) -> None:
    d = upload(fake_gguf)
    await create(
        store,
        model="base",
        files={"m.gguf": d},
        template="{{ .Prompt }}",
        system="base sys",
        parameters={"temperature": 0.5, "top_k": 10, "stop": ["a"]},
        license="L1",
        messages=[{"role": "user", "content": "base"}],
    )
    statuses = await create(
        store,
        model="child",
        **{"from": "base"},
        system="child sys",
        parameters={"temperature": 0.9, "stop": ["b"]},
        license="L2",
        messages=[],
    )
    assert statuses[0]["status"] == f"using existing layer {d}"
    lm = load_model(store, ModelName.parse("child"))
    assert lm.template == "{{ .Prompt }}"  # inherited
    assert lm.system == "child sys"  # replaced
    assert lm.options == {"stop": ["b"], "temperature": 0.9, "top_k": 10}  # override + inherit
    assert lm.license == ("L1", "L2")  # appended
    assert lm.messages == ({"role": "user", "content": "base"},)  # empty list keeps the base's
    assert lm.manifest.layers[0].from_ == "base:latest" and lm.parent_model == "base:latest"
    await create(store, model="child2", **{"from": "child"}, messages=[{"role": "user", "content": "new"}])
    assert load_model(store, ModelName.parse("child2")).messages == ({"role": "user", "content": "new"},)


async def test_capabilities_from_template(
    store: Store, tmp_path: Path, upload: Callable[[Path], str]
) -> None:
    d = upload(make_gguf(tmp_path / "e.gguf"))
    tmpl = (
        "{{ if .Tools }}{{ .Tools }}{{ end }}"
        "{{ if .Suffix }}<PRE>{{ .Prompt }}<SUF>{{ .Suffix }}{{ end }}"
        # Ollama's InferTags reads the tags off the list that holds .Thinking: first and last text
        "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}"
        "{{ .Content }}{{ end }}"
    )
    await create(store, model="caps", files={"e.gguf": d}, template=tmpl)
    shown = show_model(store, "caps", read_gguf=gguf_py_reader)
    assert shown.capabilities == ("completion", "tools", "insert", "thinking")
    emb = upload(make_gguf(tmp_path / "emb.gguf", arch="bert", extra={"bert.pooling_type": 1}))
    await create(store, model="emb", files={"x.gguf": emb})
    assert show_model(store, "emb", read_gguf=gguf_py_reader).capabilities == ("embedding",)


async def test_adapter_and_projector(store: Store, tmp_path: Path, upload: Callable[[Path], str]) -> None:
    base = upload(make_gguf(tmp_path / "b.gguf"))
    lora = upload(make_gguf(tmp_path / "l.gguf", general_type="adapter", n_params=8))
    proj = upload(make_gguf(tmp_path / "p.gguf", arch="clip", general_type="projector", n_params=4))
    await create(store, model="vis", files={"b.gguf": base, "p.gguf": proj}, adapters={"l.gguf": lora})
    lm = load_model(store, ModelName.parse("vis"))
    assert [x.media_type.rsplit(".", 1)[-1] for x in lm.manifest.layers] == ["model", "projector", "adapter"]
    assert lm.config["model_families"] == ["llama"]  # only model layers fill the config
    shown = show_model(store, "vis", read_gguf=gguf_py_reader)
    assert "vision" in shown.capabilities and shown.projector is not None
    assert "ADAPTER " in shown.modelfile
    with pytest.raises(BadRequest, match=r"^only one adapter is currently supported$"):
        await create(store, model="x", files={"b.gguf": base}, adapters={"a.gguf": lora, "b.gguf": lora})


async def test_create_reuses_the_stored_namespace_spelling(
    store: Store, fake_gguf: Path, upload: Callable[[Path], str]
) -> None:
    d = upload(fake_gguf)
    await create(store, model="alice/x", files={"m.gguf": d})
    await create(store, model="Alice/new", files={"m.gguf": d})
    assert [p.name for p in (store.manifests_dir / "registry.ollama.ai").iterdir()] == ["alice"]
    assert load_model(store, ModelName.parse("alice/new")).name == ModelName.parse("alice/new")


async def test_projector_sorted_first_does_not_describe_the_model(
    store: Store, tmp_path: Path, upload: Callable[[Path], str]
) -> None:
    # a llama.cpp mmproj: arch clip, general.type "mmproj", no clip.block_count, F16
    proj = make_gguf(
        tmp_path / "p.gguf",
        arch="clip",
        general_type="mmproj",
        block_count=None,
        file_type=1,
        n_params=1000,
        extra={"clip.has_vision_encoder": True, "clip.vision.block_count": 2},
    )
    model = make_gguf(tmp_path / "m.gguf", file_type=15, n_params=64, context_length=4096)
    files = {"mmproj.gguf": upload(proj), "model.gguf": upload(model)}
    await create(store, model="vis", files=files)
    lm = load_model(store, ModelName.parse("vis"))
    assert [x.media_type.rsplit(".", 1)[-1] for x in lm.manifest.layers] == ["projector", "model"]
    cfg = lm.config
    assert cfg["model_format"] == "gguf"
    assert cfg["model_family"] == "llama"
    assert cfg["model_families"] == ["llama"]
    assert cfg["model_type"] == "64"
    assert cfg["file_type"] == "Q4_K_M"
    assert cfg["context_length"] == 4096
    assert "vision" in cfg["capabilities"]
    details = show_model(store, "vis", read_gguf=gguf_py_reader).details
    assert (details.family, details.families) == ("llama", ["llama"])
    assert (details.parameter_size, details.quantization_level) == ("64", "Q4_K_M")


@pytest.mark.parametrize(
    ("req", "msg"),
    [
        ({"model": "m"}, "neither 'from' or 'files' was specified"),
        ({"model": "../m", "files": {}}, "invalid model name"),
        ({"model": "", "files": {}}, "invalid model name"),
        ({"model": "m", "from": "../../etc"}, "invalid model name"),
        ({"model": "m", "files": {"/etc/passwd": sha(b"x")}}, "file path must be relative"),
        ({"model": "m", "files": {"../up.gguf": sha(b"x")}}, "file path must be relative"),
        ({"model": "m", "files": {"a/./b.gguf": sha(b"x")}}, "file path must be relative"),
        ({"model": "m", "files": {"a\\b.gguf": sha(b"x")}}, "file path must be relative"),
        ({"model": "m", "files": {"m.gguf": "/root/.ollama/models/blobs/x"}}, "invalid digest format"),
        ({"model": "m", "files": {"m.gguf": "sha256:../../x"}}, "invalid digest format"),
        ({"model": "m", "adapters": {"../a": sha(b"x")}, "from": "x"}, "file path must be relative"),
        ({"model": "m", "files": {}}, "unknown type"),
        (
            {"model": "m", "files": {"m.gguf": sha(b"x")}, "draft_quantize": "q8_0"},
            "--draft-quantize requires a DRAFT",
        ),
        ({"model": "m", "from": "x", "draft_files": {"../d.gguf": sha(b"y")}}, "file path must be relative"),
    ],
)
async def test_create_rejects(store: Store, req: dict[str, Any], msg: str) -> None:
    with pytest.raises(BadRequest) as e:
        await collect(create_model(store, req, read_gguf=gguf_py_reader))
    assert str(e.value).startswith(msg)
    assert e.value.status == 400
    assert not store.manifests_dir.exists()


async def test_create_errors_on_content(
    store: Store, tmp_path: Path, fake_gguf: Path, upload: Callable[[Path], str]
) -> None:
    not_gguf = tmp_path / "x.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 not a gguf")
    bad = upload(not_gguf)
    with pytest.raises(BadRequest, match=r"^supplied file was not in GGUF format$"):
        await create(store, model="m", files={"x.gguf": bad})
    with pytest.raises(PyollamaError, match="not found"):
        await create(store, model="m", files={"x.gguf": sha(b"never uploaded")})
    with pytest.raises(PyollamaError, match="not found"):  # converted, but its blob is missing
        await create(store, model="m", files={"m.safetensors": sha(b"never uploaded")})
    with pytest.raises(ModelNotFound):
        await create(store, model="m", **{"from": "missing"})
    d = upload(fake_gguf)
    with pytest.raises(BadRequest, match=r"^template error"):
        await create(store, model="m", files={"m.gguf": d}, template="{{ .Prompt ")
    with pytest.raises(BadRequest, match=r"^unknown parameter 'bogus'$"):
        await create(store, model="m", files={"m.gguf": d}, parameters={"bogus": 1})
    with pytest.raises(BadRequest, match=r"^quantization is only supported for F16, BF16 and F32 models$"):
        q = upload(make_gguf(tmp_path / "q.gguf", file_type=15))
        await create(store, model="m", files={"q.gguf": q}, quantize="q4_K_M")
    assert not store.manifests_dir.exists()  # nothing half-created


async def test_pull_hook_for_missing_from(
    store: Store, fake_gguf: Path, upload: Callable[[Path], str]
) -> None:
    d = upload(fake_gguf)
    await create(store, model="remote-src", files={"m.gguf": d})

    async def pull(name: ModelName) -> Any:
        yield {"status": "pulling manifest"}
        store.copy(ModelName.parse("remote-src"), name)

    out = await collect(
        create_model(store, {"model": "m", "from": "ns/pulled"}, read_gguf=gguf_py_reader, pull=pull)
    )
    assert out[0] == {"status": "pulling manifest"} and out[-1] == {"status": "success"}


async def test_template_detector_hook(store: Store, tmp_path: Path, upload: Callable[[Path], str]) -> None:
    d = upload(make_gguf(tmp_path / "t.gguf", chat_template="{% for m in messages %}{% endfor %}"))

    def detect(jinja: str) -> tuple[str, str, dict[str, Any] | None]:
        return "chatml", "{{ .Prompt }}", {"stop": ["<|im_end|>"]}

    out = await collect(
        create_model(
            store, {"model": "m", "files": {"t.gguf": d}}, read_gguf=gguf_py_reader, template_detector=detect
        )
    )
    assert {"status": "using autodetected template chatml"} in out
    lm = load_model(store, ModelName.parse("m"))
    assert lm.template == "{{ .Prompt }}" and lm.options == {"stop": ["<|im_end|>"]}
    assert json.loads(store.read_blob(lm.manifest.config.digest))["model_family"] == "llama"
    assert {MEDIA_TEMPLATE, MEDIA_PARAMS} <= {x.media_type for x in lm.manifest.layers}
    assert MEDIA_LICENSE not in {x.media_type for x in lm.manifest.layers}
    assert MEDIA_MESSAGES not in {x.media_type for x in lm.manifest.layers}


# --- template detection (pyollama.store.templates) -------------------------------------------------


async def test_create_detects_the_template_as_ollama_does(store: Store, tmp_path: Path) -> None:
    from pyollama.store.templates import detect
    from pyollama.store.templates.families import CHATML

    jinja = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )
    g = make_gguf(tmp_path / "c.gguf", chat_template=jinja)
    digest, _, _ = store.write_blob_file(g)
    req = {"model": "chat", "files": {"c.gguf": digest}}
    statuses = await collect(create_model(store, req, read_gguf=gguf_py_reader, template_detector=detect))
    assert {"status": "using autodetected template chatml"} in statuses
    m = store.read_manifest(ModelName.parse("chat"))
    tmpl = m.layer("application/vnd.ollama.image.template")
    params = m.layer("application/vnd.ollama.image.params")
    assert tmpl is not None and params is not None
    assert store.read_blob(tmpl.digest).decode() == CHATML.template
    assert (
        store.read_blob(params.digest) == b'{"stop":["\\u003c|im_start|\\u003e","\\u003c|im_end|\\u003e"]}\n'
    )


async def test_create_keeps_jinja_for_tool_templates(store: Store, tmp_path: Path) -> None:
    from pyollama.store.templates import detect

    jinja = "{% if tools %}{{ tools }}{% endif %}"
    jinja += "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}"
    digest, _, _ = store.write_blob_file(make_gguf(tmp_path / "t.gguf", chat_template=jinja))
    req = {"model": "tools", "files": {"t.gguf": digest}}
    statuses = await collect(create_model(store, req, read_gguf=gguf_py_reader, template_detector=detect))
    assert not any("autodetected" in s["status"] for s in statuses)
    m = store.read_manifest(ModelName.parse("tools"))
    assert [x.media_type for x in m.layers] == ["application/vnd.ollama.image.model"]


# --- quantize and draft (the quantizer is a fake here; tests/server/test_e2e_models.py runs the real one)


class FakeQuantizer:
    """Writes a GGUF of the asked file type instead of quantizing; records its calls."""

    FTYPES = {"Q4_K_M": 15, "Q4_K_S": 14, "Q8_0": 7, "F16": 1, "F32": 0, "BF16": 32}

    def __init__(self, *, stop_after: int | None = None) -> None:
        self.calls: list[tuple[Path, Path, str, str]] = []
        self.stop_after = stop_after
        self.closed = False

    async def __call__(self, src: Path, dst: Path, file_type: str, arch: str) -> AsyncGenerator[float]:
        self.calls.append((src, dst, file_type, arch))
        try:
            for i, share in enumerate((0.25, 0.5, 1.0)):
                if self.stop_after is not None and i == self.stop_after:
                    raise RuntimeError("quantizer failed")
                yield share
            make_gguf(dst, file_type=self.FTYPES[file_type], n_params=32)
        finally:
            self.closed = True


async def qcreate(store: Store, quantizer: FakeQuantizer, **req: Any) -> list[dict[str, Any]]:
    return await collect(create_model(store, req, read_gguf=gguf_py_reader, quantize=quantizer))


async def test_quantize_statuses_and_layer(
    store: Store, fake_gguf: Path, upload: Callable[[Path], str]
) -> None:
    d = upload(fake_gguf)  # F16
    size = store.blob_size(d)
    q = FakeQuantizer()
    out = await qcreate(store, q, model="q", files={"m.gguf": d}, quantize="q4_K_M")
    ((src, dst, ftype, arch),) = q.calls
    assert (src, ftype, arch) == (store.blob_path(d), "Q4_K_M", "llama")
    assert dst.parent == store.blobs_dir and not dst.exists()  # the temp file became the blob
    bars = [s for s in out if s["status"] == "quantizing F16 model to Q4_K_M"]
    # Ollama's rewriteLayerWithLlamaQuantize: a bar of its own (all-zero digest), the layer's size
    assert [b["completed"] for b in bars] == [int(size * x) for x in (0.25, 0.5, 1.0)]
    assert all(b["digest"] == "0000000000000000000" and b["total"] == size for b in bars)
    assert list(bars[0]) == ["status", "digest", "total", "completed"]
    texts = [s["status"] for s in out]
    lm = load_model(store, ModelName.parse("q"))
    model = lm.manifest.layer(MEDIA_MODEL)
    assert model is not None and model.digest != d and model.from_ == ""  # a new layer, as NewLayer
    assert texts == [
        "parsing GGUF",
        *["quantizing F16 model to Q4_K_M"] * 3,
        "verifying conversion",
        f"creating new layer {model.digest}",
        "writing manifest",
        "success",
    ]
    assert lm.config["file_type"] == "Q4_K_M"  # from the quantized file
    # the same again: the quantized blob exists already
    out = await qcreate(store, FakeQuantizer(), model="q2", files={"m.gguf": d}, quantize="Q4_K")
    assert f"using existing layer {model.digest}" in [s["status"] for s in out]
    assert "quantizing F16 model to Q4_K" in [s["status"] for s in out]  # the asked name, upper-cased
    assert not [p for p in store.blobs_dir.iterdir() if p.name.startswith(".pyollama-tmp-")]


async def test_quantize_to_the_type_it_has_is_a_no_op(
    store: Store, fake_gguf: Path, upload: Callable[[Path], str]
) -> None:
    q = FakeQuantizer()
    out = await qcreate(store, q, model="q", files={"m.gguf": upload(fake_gguf)}, quantize="f16")
    assert not q.calls and out[-1] == {"status": "success"}


@pytest.mark.parametrize(
    ("file_type", "quantize", "message"),
    [
        (
            1,
            "q3_k_s",
            "unsupported quantization type Q3_K_S - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0",
        ),
        (
            1,
            "q4_0",
            "unsupported quantization type Q4_0 - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0",
        ),
        (2, "q4_K_M", "quantization is only supported for F16, BF16 and F32 models"),
        (7, "f16", "quantization is only supported for F16, BF16 and F32 models"),
    ],
)
async def test_quantize_errors(
    store: Store, tmp_path: Path, upload: Callable[[Path], str], file_type: int, quantize: str, message: str
) -> None:
    d = upload(make_gguf(tmp_path / "m.gguf", file_type=file_type))
    q = FakeQuantizer()
    with pytest.raises(BadRequest) as e:
        await qcreate(store, q, model="q", files={"m.gguf": d}, quantize=quantize)
    assert str(e.value) == message and not q.calls
    assert not store.manifests_dir.exists()


async def test_quantize_failure_or_disconnect_leaves_nothing(
    store: Store, fake_gguf: Path, upload: Callable[[Path], str]
) -> None:
    d = upload(fake_gguf)
    q = FakeQuantizer(stop_after=1)
    with pytest.raises(RuntimeError):
        await qcreate(store, q, model="q", files={"m.gguf": d}, quantize="q8_0")
    assert q.closed and not store.manifests_dir.exists()
    # a client that goes away: the route closes the generator at the first quantize status
    q = FakeQuantizer()
    gen = create_model(
        store,
        {"model": "q", "files": {"m.gguf": d}, "quantize": "q8_0"},
        read_gguf=gguf_py_reader,
        quantize=q,
    )
    async for status in gen:
        if status["status"].startswith("quantizing"):
            break
    await gen.aclose()  # type: ignore[attr-defined]
    assert q.closed and not store.manifests_dir.exists()
    assert not [p for p in store.blobs_dir.iterdir() if p.name.startswith(".pyollama-tmp-")]


async def test_draft_layer_config_and_quantize(
    store: Store, tmp_path: Path, upload: Callable[[Path], str]
) -> None:
    base = upload(make_gguf(tmp_path / "b.gguf", file_type=15))
    draft = upload(make_gguf(tmp_path / "d.gguf", arch="qwen3", file_type=1, chat_template="{{ x }}"))
    lora = upload(make_gguf(tmp_path / "l.gguf", general_type="adapter", n_params=8))
    out = await create(
        store, model="spec", files={"b.gguf": base}, draft_files={"d.gguf": draft}, adapters={"l.gguf": lora}
    )
    assert [s["status"] for s in out][:3] == ["parsing GGUF"] * 3
    lm = load_model(store, ModelName.parse("spec"))
    # Ollama's order: base layers, adapters, then the draft; no template detected from the draft
    assert [x.media_type.rsplit(".", 1)[-1] for x in lm.manifest.layers] == ["model", "adapter", "draft"]
    assert lm.draft_path == store.blob_path(draft)
    assert (
        f"DRAFT {store.blob_path(draft)}\n" in show_model(store, "spec", read_gguf=gguf_py_reader).modelfile
    )
    cfg = lm.config
    assert cfg["draft"] == {"model_format": "gguf", "architecture": "qwen3"}
    assert list(cfg)[-4:] == ["draft", "architecture", "os", "rootfs"]  # ConfigV2's field order
    assert cfg["model_family"] == "llama" and cfg["file_type"] == "Q4_K_M"  # the draft describes nothing
    # draft_quantize re-writes the draft only (the base is Q4_K_M: quantize would refuse it)
    q = FakeQuantizer()
    out = await qcreate(
        store, q, model="spec8", files={"b.gguf": base}, draft_files={"d.gguf": draft}, draft_quantize="q8_0"
    )
    assert [c[2:] for c in q.calls] == [("Q8_0", "qwen3")]
    assert "quantizing F16 model to Q8_0" in [s["status"] for s in out]
    layer = load_model(store, ModelName.parse("spec8")).manifest.layer(MEDIA_DRAFT)
    assert layer is not None and layer.digest != draft
    d8 = upload(store.blob_path(layer.digest))
    with pytest.raises(
        BadRequest, match=r"^draft quantization requires an unquantized draft model, got Q8_0$"
    ):
        await qcreate(
            store,
            FakeQuantizer(),
            model="x",
            files={"b.gguf": base},
            draft_files={"d.gguf": d8},
            draft_quantize="q4_K_M",
        )
    # a model made from one with a draft keeps it
    await create(store, model="child", **{"from": "spec"}, system="hi")
    assert load_model(store, ModelName.parse("child")).draft_path == store.blob_path(draft)
    assert load_model(store, ModelName.parse("child")).config["draft"]["architecture"] == "qwen3"
