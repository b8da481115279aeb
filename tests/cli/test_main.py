from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable

import pytest

from pyollama.cli.client import ResponseError
from pyollama.cli.main import ERR_PUSH_UNAUTHORIZED, build_parser, main, push_destination
from pyollama.cli.progress import PlainProgress, bar_text, layer_label, layer_row
from tests.cli.conftest import FakeServer

Stdin = Callable[[str], None]  # sets what the command reads from sys.stdin


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Stdin:
    def set_(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    set_("")
    return set_


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_list_ps_show(fake_server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "list")
    assert rc == 0
    assert out.splitlines()[0].split() == ["NAME", "ID", "SIZE", "MODIFIED"]
    assert out.splitlines()[1].startswith("smol2:latest    aaaaaaaaaaaa    101 MB    ")
    rc, out, _ = run(capsys, "ls", "zzz")
    assert out == "NAME    ID    SIZE    MODIFIED\n"
    rc, out, _ = run(capsys, "ls", "SMOL")
    assert out.splitlines()[1].startswith("smol2:latest")
    rc, out, _ = run(capsys, "ps")
    assert out.split() == ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]
    rc, out, _ = run(capsys, "show", "smol2")
    assert "  Model\n    architecture        llama\n" in out
    rc, out, _ = run(capsys, "show", "smol2", "--template")
    assert out == "{{ .Prompt }}"
    rc, out, _ = run(capsys, "show", "smol2", "--parameters")
    assert out.startswith("stop ")
    rc, _, err = run(capsys, "show", "smol2", "--license", "--system")
    assert rc == 1 and err.startswith("Error: only one of '--license'")


def test_cp_rm_stop(fake_server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "cp", "smol2", "other")[1] == "copied 'smol2' to 'other'\n"
    assert "other:latest" in fake_server.state.models
    assert run(capsys, "rm", "other")[1] == "deleted 'other'\n"
    assert "other:latest" not in fake_server.state.models
    unload = fake_server.state.bodies("/api/generate")[-1]
    assert unload == {"model": "other", "prompt": "", "keep_alive": 0, "stream": True}
    assert run(capsys, "stop", "smol2")[0] == 0
    rc, _, err = run(capsys, "stop", "ghost")
    assert rc == 1 and err == 'Error: couldn\'t find model "ghost" to stop\n'
    rc, _, err = run(capsys, "rm", "ghost")
    assert rc == 1 and err == "Error: model 'ghost' not found\n"


def test_run_one_shot_with_prompt(
    fake_server: FakeServer, stdin: Stdin, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run(
        capsys, "run", "smol2", "Say", "hi", "--verbose", "--keepalive", "10m", "--format", "json"
    )
    assert rc == 0
    assert out == "Hello there, friend.\n\n"
    assert "total duration:       1.5s\n" in err and "eval rate:            20.00 tokens/s\n" in err
    body = fake_server.state.bodies("/api/generate")[-1]
    assert body["prompt"] == "Say hi" and body["keep_alive"] == 600 and body["format"] == "json"
    assert "think" not in body


def test_run_stdin_prepended(
    fake_server: FakeServer, stdin: Stdin, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin("some text\n")
    assert run(capsys, "run", "smol2", "summarize", "--think")[0] == 0
    body = fake_server.state.bodies("/api/generate")[-1]
    assert body["prompt"] == "some text\n summarize"
    assert body["think"] is True
    stdin("only stdin")
    run(capsys, "run", "smol2", "--think=high")
    body = fake_server.state.bodies("/api/generate")[-1]
    assert body["prompt"] == "only stdin" and body["think"] == "high"


def test_run_pulls_missing_model(
    fake_server: FakeServer, stdin: Stdin, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run(capsys, "run", "smol", "hi")
    assert rc == 0 and out == "Hello there, friend.\n\n"
    assert fake_server.state.bodies("/api/pull") == [{"model": "smol", "insecure": False, "stream": True}]
    assert "pulling manifest\n" in err and "pulling bbbbbbbbbbbb: 100% 100 B\n" in err and "success\n" in err


def test_run_unknown_model_one_line(
    fake_server: FakeServer, stdin: Stdin, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _out, err = run(capsys, "run", "ghost", "hi")
    assert rc == 1
    assert err.endswith("Error: pull model manifest: file does not exist\n")


def test_bad_flags(fake_server: FakeServer, stdin: Stdin, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "run", "smol2", "hi", "--keepalive", "5")
    assert rc == 1 and err == 'Error: time: missing unit in duration "5"\n'
    rc, _, err = run(capsys, "run", "smol2", "hi", "--think=maybe")
    assert rc == 1 and err == (
        'Error: invalid value for --think: "maybe" (must be true, false, high, medium, low, or max)\n'
    )
    assert run(capsys, "run", "smol2", "hi", "--think=1")[0] == 1  # only Ollama's words count


def test_unreachable_server(
    dead_url: str, monkeypatch: pytest.MonkeyPatch, stdin: Stdin, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYOLLAMA_HOST", dead_url)
    for argv in (["list"], ["run", "smol2", "hi"], ["ps"], ["pull", "x"]):
        rc, out, err = run(capsys, *argv)
        assert rc == 1
        assert (
            err
            == f"Error: could not connect to pyollama server at {dead_url}; start it with `pyollama serve`\n"
        )
    rc, out, _ = run(capsys, "--version")
    assert (
        out == "Warning: could not connect to a running pyollama instance\nWarning: client version is 0.1.0\n"
    )


def test_version(fake_server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "-v")[1] == "pyollama version is 0.1.0\n"
    fake_server.state.version = "9.9.9"
    assert run(capsys, "--version")[1] == "pyollama version is 9.9.9\nWarning: client version is 0.1.0\n"


def test_push(fake_server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "push", "me/smol2", "--insecure")
    assert rc == 0 and "pushing cccccccccccc: 100% 10 B" in err and "success" in err
    assert out == "\nYou can find your model at:\n\n\thttps://ollama.com/me/smol2\n"
    assert fake_server.state.bodies("/api/push") == [{"model": "me/smol2", "insecure": True, "stream": True}]


@pytest.mark.parametrize(
    ("model", "where"),
    [
        ("me/m:v1", "https://ollama.com/me/m:v1"),
        ("registry.ollama.ai/me/m", "https://ollama.com/me/m"),
        ("localhost:5000/me/m", "localhost:5000/me/m:latest"),
        ("http://h.example/me/m:t", "h.example/me/m:t"),
    ],
)
def test_push_destination(model: str, where: str) -> None:
    assert push_destination(model) == where


@pytest.mark.parametrize("reply", ["access denied", "401 Unauthorized"])
def test_push_unauthorized(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], reply: str
) -> None:
    async def denied(self: object, path: str, body: object) -> AsyncIterator[dict[str, object]]:
        raise ResponseError(reply, status=401)
        yield {}

    monkeypatch.setattr("pyollama.cli.client.Client.stream", denied)
    rc, out, err = run(capsys, "push", "me/smol2")
    assert rc == 1 and out == ""
    assert err.endswith(f"Error: {ERR_PUSH_UNAUTHORIZED}\n")
    assert ERR_PUSH_UNAUTHORIZED == (
        "you are not authorized to push to this namespace, create the model under a namespace you own"
    )


@pytest.mark.parametrize(
    "cmd", ["serve", "create", "show", "run", "stop", "pull", "push", "list", "ps", "cp", "rm"]
)
def test_help_for_each_command(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        build_parser().parse_args([cmd, "--help"])
    assert ei.value.code == 0
    assert "usage: pyollama " + cmd in capsys.readouterr().out


def test_show_help_lists_ollama_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["show", "--help"])
    out = capsys.readouterr().out
    for flag in ("--license", "--modelfile", "--parameters", "--system", "--template", "-v, --verbose"):
        assert flag in out


def test_plain_progress_lines() -> None:
    buf = io.StringIO()
    p = PlainProgress(buf)
    digest = "sha256:" + "d" * 64
    for resp in (
        {"status": "pulling manifest"},
        {"status": "pulling manifest"},
        {"status": f"pulling {'d' * 12}", "digest": digest, "total": 2_000_000_000, "completed": 0},
        {"status": f"pulling {'d' * 12}", "digest": digest, "total": 2_000_000_000, "completed": 10},
        {
            "status": f"pulling {'d' * 12}",
            "digest": digest,
            "total": 2_000_000_000,
            "completed": 2_000_000_000,
        },
        {"status": "success"},
    ):
        p.update(resp)
    assert buf.getvalue() == (
        "pulling manifest\npulling dddddddddddd: 2 GB\npulling dddddddddddd: 100% 2 GB\nsuccess\n"
    )


def test_bar_text() -> None:
    assert layer_label("pulling", "sha256:" + "e" * 64) == "pulling eeeeeeeeeeee"
    assert bar_text("pulling x", 500, 1000, 100.0, width=10) == (
        "pulling x:  50% ▕█████     ▏ 500 B/1 KB  100 B/s  5s"
    )
    assert bar_text("pulling x", 1000, 1000, 0, width=4) == "pulling x: 100% ▕████▏ 1 KB"


@pytest.mark.parametrize(
    ("argv", "prompt", "fields"),
    [
        (["smol2", "--verbose", "hi"], "hi", {}),
        (["smol2", "--format", "json", "list three colours"], "list three colours", {"format": "json"}),
        (["smol2", "--keepalive", "5m", "hi", "there"], "hi there", {"keep_alive": 300}),
        (["smol2", "--think", "q"], "q", {"think": True}),
        (["--hidethinking", "smol2", "a", "--nowordwrap", "b"], "a b", {}),
        (["smol2", "hi", "--", "--verbose", "-x"], "hi --verbose -x", {}),
        (["smol2", "--think", "a", "--", "--think"], "a --think", {"think": True}),
    ],
)
def test_run_flags_between_model_and_prompt(
    fake_server: FakeServer,
    stdin: Stdin,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    prompt: str,
    fields: dict[str, object],
) -> None:
    """cobra takes flags anywhere: `run MODEL --verbose PROMPT` is not an argument error."""
    rc, out, _ = run(capsys, "run", *argv)
    assert rc == 0 and out == "Hello there, friend.\n\n"
    body = fake_server.state.bodies("/api/generate")[-1]
    assert body["prompt"] == prompt
    assert {k: body[k] for k in fields} == fields


@pytest.mark.parametrize("columns", [120, 100, 80, 40, 20])
def test_layer_row_fits_any_width(columns: int) -> None:
    label = "copying file sha256:" + "f" * 64
    row = layer_row(label, 500_000, 2_000_000, 1e5, columns, len(label) + 1)
    assert len(row) <= columns and " 25% " in row
    row = layer_row("pulling ffffffffffff", 5, 10, 1.0, columns, 21)
    assert len(row) <= columns and row.startswith("pulling ffff") and " 50% " in row
    assert ("▕" in row) == (columns >= 60)


def test_bad_host_is_one_line(
    monkeypatch: pytest.MonkeyPatch, stdin: Stdin, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYOLLAMA_HOST", "http://[bad")
    rc, _, err = run(capsys, "list")
    assert rc == 1 and err.startswith('Error: invalid server address "http://[bad') and err.count("\n") == 1


def test_timeouts_and_os_errors_are_one_line(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def timeout(self: object) -> None:
        raise TimeoutError

    monkeypatch.setattr("pyollama.cli.client.Client.list", timeout)
    assert run(capsys, "list")[1:] == ("", "Error: timed out\n")

    async def gone(self: object) -> None:
        raise FileNotFoundError(2, "No such file or directory", "w.gguf")

    monkeypatch.setattr("pyollama.cli.client.Client.list", gone)
    assert run(capsys, "list")[1:] == ("", "Error: w.gguf: no such file or directory\n")


class _TtyStdin(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_run_with_stdout_redirected_is_not_interactive(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run MODEL > file` from a terminal: Ollama turns the chat off when stdout is no terminal."""
    monkeypatch.setattr("sys.stdin", _TtyStdin())
    rc, out, _ = run(capsys, "run", "smol2")
    assert rc == 0 and out == ""
    assert fake_server.state.bodies("/api/generate")[-1]["prompt"] == ""
    assert not fake_server.state.bodies("/api/chat")
