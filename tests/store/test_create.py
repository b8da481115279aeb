from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyollama.errors import BadRequest, ModelNotFound, PyollamaError
from pyollama.store import ModelName, Store, create_model, load_model, show_model
from pyollama.store.create import collect
from pyollama.store.store import MEDIA_LICENSE, MEDIA_MESSAGES, MEDIA_PARAMS, MEDIA_SYSTEM, MEDIA_TEMPLATE
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
            {"model": "m", "files": {"m.gguf": sha(b"x")}, "draft_files": {"d.gguf": sha(b"y")}},
            "draft models are not supported yet",
        ),
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
