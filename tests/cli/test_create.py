from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pyollama.cli.create import ModelfileError, model_files, parse, plan_create, read_modelfile
from pyollama.cli.main import main
from pyollama.errors import BadRequest
from tests.cli.conftest import FakeServer

MODELFILE = '''# a comment
FROM ./weights/tiny.gguf
ADAPTER lora.gguf
PARAMETER temperature 0.2
PARAMETER num_ctx 2048
PARAMETER stop "<|im_end|>"
PARAMETER stop <end>
TEMPLATE """{{ .System }}
{{ .Prompt }}"""
SYSTEM You are terse.
MESSAGE user Hi
MESSAGE assistant Hello!
LICENSE MIT
'''


def _setup(tmp_path: Path) -> Path:
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "tiny.gguf").write_bytes(b"GGUF" + b"\0" * 100)
    (tmp_path / "lora.gguf").write_bytes(b"GGUF" + b"\1" * 50)
    mf = tmp_path / "Modelfile"
    mf.write_text(MODELFILE)
    return mf


def test_modelfile_to_create_request(tmp_path: Path) -> None:
    mf = _setup(tmp_path)
    text, base = read_modelfile(mf)
    plan = plan_create("mine", parse(text), base)
    assert plan.files == {"tiny.gguf": tmp_path / "weights" / "tiny.gguf"}
    assert plan.adapters == {"lora.gguf": tmp_path / "lora.gguf"}
    req = plan.request
    assert req["model"] == "mine"
    assert "from" not in req
    assert req["parameters"] == {"temperature": 0.2, "num_ctx": 2048, "stop": ["<|im_end|>", "<end>"]}
    assert req["template"] == "{{ .System }}\n{{ .Prompt }}"
    assert req["system"] == "You are terse."
    assert req["messages"] == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    assert req["license"] == ["MIT"]


def test_from_model_name_is_not_a_path(tmp_path: Path) -> None:
    plan = plan_create("mine", parse("FROM llama3.2\nSYSTEM x\n"), tmp_path)
    assert plan.request["from"] == "llama3.2" and not plan.files


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("FROM x\nBOGUS y\n", "(line 2): command must be one of"),
        ("SYSTEM hi\n", "no FROM line"),
    ],
)
def test_bad_modelfile(text: str, msg: str) -> None:
    with pytest.raises(BadRequest, match=msg.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


@pytest.mark.parametrize(
    ("line", "msg"),
    [
        ("PARAMETER nope 1", "unknown parameter 'nope'"),
        ("PARAMETER Top_K 5", "unknown parameter 'Top_K'"),
        ("PARAMETER temperature 1_0", "invalid float value [1_0]"),
        ("PARAMETER num_ctx \u0663", "invalid int value [\u0663]"),
        ("REQUIRES 0.x", "requires must be a valid semver (e.g. 0.14.0)"),
    ],
)
def test_bad_parameter(tmp_path: Path, line: str, msg: str) -> None:
    with pytest.raises(BadRequest) as ei:
        plan_create("m", parse(f"FROM x\n{line}\n"), tmp_path)
    assert ei.value.message == msg


def test_parameters_typed_as_ollama(tmp_path: Path) -> None:
    """Last scalar wins, stops accumulate, floats are float32, REQUIRES loses its `v`."""
    text = (
        "FROM x\nPARAMETER temperature 0.5\nPARAMETER temperature 0.123456789\n"
        "PARAMETER stop a\nPARAMETER stop b\nPARAMETER mirostat 1\nREQUIRES v0.14.0\n"
    )
    plan = plan_create("m", parse(text), tmp_path)
    assert plan.request["parameters"] == {"temperature": 0.12345679, "stop": ["a", "b"]}
    assert plan.request["requires"] == "0.14.0"
    assert plan.warnings == ["warning: parameter mirostat is deprecated"]


def test_deprecated_parameter_warns_on_stdout(
    fake_server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mf = tmp_path / "Modelfile"
    mf.write_text("FROM smol2\nPARAMETER penalize_newline true\n")
    assert main(["create", "m", "-f", str(mf)]) == 0
    assert capsys.readouterr().out == "warning: parameter penalize_newline is deprecated\n"
    (body,) = fake_server.state.bodies("/api/create")
    assert "parameters" not in body


def test_adapter_and_draft_paths(tmp_path: Path) -> None:
    _setup(tmp_path)
    with pytest.raises(ModelfileError) as ei:
        plan_create("m", parse("FROM x\nADAPTER ./missing.gguf\n"), tmp_path)
    assert ei.value.message == f"stat {tmp_path / 'missing.gguf'}: no such file or directory"
    with pytest.raises(ModelfileError) as ei:
        plan_create("m", parse("FROM weights/tiny.gguf\nDRAFT ./weights/../weights/tiny.gguf\n"), tmp_path)
    assert ei.value.message == (
        f"DRAFT must not reference the same local path as FROM: {tmp_path / 'weights' / 'tiny.gguf'}"
    )
    plan = plan_create("m", parse("FROM x\nDRAFT lora.gguf\nADAPTER weights\nADAPTER lora.gguf\n"), tmp_path)
    assert plan.drafts == {"lora.gguf": tmp_path / "lora.gguf"}
    assert plan.adapters == {"lora.gguf": tmp_path / "lora.gguf"}  # the last ADAPTER wins


def test_create_uploads_missing_blobs_once(
    fake_server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mf = _setup(tmp_path)
    tiny = "sha256:" + hashlib.sha256((tmp_path / "weights" / "tiny.gguf").read_bytes()).hexdigest()
    lora = "sha256:" + hashlib.sha256((tmp_path / "lora.gguf").read_bytes()).hexdigest()
    fake_server.state.blobs[lora] = b"already there"
    assert main(["create", "mine", "-f", str(mf)]) == 0
    st = fake_server.state
    posts = [p for (m, p, _) in st.requests if m == "POST" and p.startswith("/api/blobs/")]
    heads = [p for (m, p, _) in st.requests if m == "HEAD" and p.startswith("/api/blobs/")]
    assert posts == [f"/api/blobs/{tiny}"]
    assert sorted(heads) == sorted([f"/api/blobs/{tiny}", f"/api/blobs/{lora}"])
    (body,) = st.bodies("/api/create")
    assert body["files"] == {"tiny.gguf": tiny}
    assert body["adapters"] == {"lora.gguf": lora}
    assert body["stream"] is True
    err = capsys.readouterr().err
    assert "gathering model components" in err and "success" in err


def test_create_quantize_flags_reach_the_request(
    fake_server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mf = _setup(tmp_path)
    assert main(["create", "mine", "-f", str(mf), "-q", "q4_K_M"]) == 0, capsys.readouterr().err
    (body,) = fake_server.state.bodies("/api/create")
    assert body["quantize"] == "q4_K_M" and "draft_quantize" not in body
    capsys.readouterr()
    # --draft-quantize needs a DRAFT, and says so before anything is uploaded
    assert main(["create", "other", "-f", str(mf), "--draft-quantize", "q8_0"]) == 1
    assert capsys.readouterr().err == "Error: --draft-quantize requires a DRAFT model\n"
    (tmp_path / "Modelfile").write_text("FROM ./weights/tiny.gguf\nDRAFT lora.gguf\n")
    assert main(["create", "third", "-f", str(mf), "--draft-quantize", "q8_0"]) == 0
    assert fake_server.state.bodies("/api/create")[-1]["draft_quantize"] == "q8_0"


CAPS = {
    "quantize": ["F32", "F16", "Q8_0", "Q4_K_S", "Q4_K_M", "Q4_K", "BF16"],
    "safetensors": False,
    "draft": True,
}


@pytest.mark.parametrize(
    ("modelfile", "args", "error"),
    [
        (
            "FROM ./weights/tiny.gguf\n",
            ["-q", "q3_K_S"],
            "unsupported quantization type Q3_K_S - this server",
        ),
        ("FROM ./st\n", [], "this server cannot import safetensors models; convert the model to GGUF first"),
        ("FROM ./weights/tiny.gguf\nADAPTER ./st\n", [], "this server cannot import safetensors models"),
    ],
)
def test_create_asks_the_server_before_uploading(
    fake_server: FakeServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    modelfile: str,
    args: list[str],
    error: str,
) -> None:
    """A server that says what its create takes is asked first: nothing is hashed or uploaded
    for a request it would refuse (a server without the probe, like Ollama, takes everything)."""
    mf = _setup(tmp_path)
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / "model.safetensors").write_bytes(b"x" * 64)
    mf.write_text(modelfile)
    fake_server.state.create_capabilities = CAPS
    assert main(["create", "m", "-f", str(mf), *args]) == 1
    assert "\nError: " + error in capsys.readouterr().err
    st = fake_server.state
    assert ("GET", "/api/pyollama/capabilities", None) in st.requests
    assert not [p for (m, p, _) in st.requests if p.startswith("/api/blobs/")]
    assert not st.bodies("/api/create")
    # the same request goes through to a server without the probe
    fake_server.state.create_capabilities = None
    assert main(["create", "m", "-f", str(mf), *args]) == 0
    assert st.bodies("/api/create")


def test_create_bad_modelfile_one_line(
    fake_server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mf = tmp_path / "Modelfile"
    mf.write_text("FROM x\nWHAT now\n")
    assert main(["create", "m", "-f", str(mf)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: (line 2): command must be one of") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("data", "system"),
    [
        (b"FROM smol2\nSYSTEM caf\xe9 ok\n", "caf\ufffd ok"),
        ("FROM smol2\nSYSTEM café\n".encode("utf-16"), "café"),
        (b"\xef\xbb\xbfFROM smol2\nSYSTEM caf\xc3\xa9\n", "café"),
    ],
)
def test_modelfile_encodings_as_ollama_reads_them(
    fake_server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, system: str
) -> None:
    """Bad UTF-8 bytes become U+FFFD and a UTF-16 BOM switches encoding, as Go's BOMOverride does."""
    mf = tmp_path / "Modelfile"
    mf.write_bytes(data)
    assert main(["create", "m", "-f", str(mf)]) == 0, capsys.readouterr().err
    (body,) = fake_server.state.bodies("/api/create")
    assert body["from"] == "smol2" and body["system"] == system


def _tree(root: Path, names: list[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")


@pytest.mark.parametrize(
    ("names", "picked"),
    [
        # safetensors win over everything, a nested shard folder and nested JSON come along
        (
            [
                "model-1.safetensors",
                "model-2.safetensors",
                "x.gguf",
                "config.json",
                "tokenizer.model",
                "chat_template.jinja",
                "pooling/config.json",
                "deep/er/config.json",
                "README.md",
            ],
            [
                "model-1.safetensors",
                "model-2.safetensors",
                "config.json",
                "pooling/config.json",
                "chat_template.jinja",
                "tokenizer.model",
            ],
        ),
        (["pytorch_model.bin", "other.bin", "consolidated.pth"], ["pytorch_model.bin"]),
        (["a.gguf", "b.bin", "sub/c.gguf"], ["a.gguf"]),
        (["weights.bin", "sub/tokenizer.model"], ["weights.bin", "sub/tokenizer.model"]),
    ],
)
def test_from_dir_picks_files_as_ollama(tmp_path: Path, names: list[str], picked: list[str]) -> None:
    _tree(tmp_path, names)
    assert list(model_files(tmp_path)) == picked


@pytest.mark.parametrize("names", [[], ["sub/model.gguf", "sub/model.safetensors"], ["config.json"]])
def test_from_dir_without_weights_at_the_top(tmp_path: Path, names: list[str]) -> None:
    _tree(tmp_path, names)
    with pytest.raises(ModelfileError, match=r"^no Modelfile or safetensors files found$"):
        model_files(tmp_path)


def test_implicit_from_dot_needs_weights(
    fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _tree(tmp_path, ["deep/nested/model.gguf", "notes.json"])
    monkeypatch.chdir(tmp_path)
    assert main(["create", "m"]) == 1
    assert capsys.readouterr().err == "Error: no Modelfile or safetensors files found\n"
    assert not fake_server.state.bodies("/api/create")


def test_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / "abc").write_bytes(b"x")
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "model.gguf").symlink_to(tmp_path / "blobs" / "abc")
    with pytest.raises(ModelfileError, match=r"^insecure path: model\.gguf$"):
        model_files(tmp_path / "snap")


def test_missing_modelfile(
    fake_server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create", "m", "-f", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err == "Error: specified Modelfile wasn't found\n"


@pytest.mark.parametrize("name", ["bad name", "/abs", "a/b/c/d", "m:", "x" * 81])
def test_invalid_name_before_any_upload(
    fake_server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    mf = _setup(tmp_path)
    assert main(["create", name, "-f", str(mf)]) == 1
    assert capsys.readouterr().err == f"Error: invalid model name: {name}\n"
    assert not fake_server.state.requests
