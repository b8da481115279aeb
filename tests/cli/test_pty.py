"""The prompt_toolkit chat in a real pseudo-terminal (pexpect), against the fake server."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import FakeServer

pexpect = pytest.importorskip("pexpect")
ROOT = Path(__file__).resolve().parents[2]


def spawn(
    url: str, *args: str, home: Path, columns: int = 100, cwd: Path | None = None, **extra: str
) -> Any:  # a pexpect.spawn (pexpect has no type hints)
    env = {
        **os.environ,
        **extra,
        "PYOLLAMA_HOST": url,
        "PYTHONPATH": str(ROOT),
        "TERM": "xterm-256color",
        "XDG_STATE_HOME": str(home),
        "HOME": str(home),
    }
    env.pop("PYOLLAMA_NOHISTORY", None)
    env.pop("OLLAMA_NOHISTORY", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "pyollama.cli.main", *args],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, columns),
        cwd=str(cwd) if cwd else None,
    )


def test_chat_in_a_pty(fake_server: FakeServer, tmp_path: Path) -> None:
    child = spawn(fake_server.url, "run", "smol2", home=tmp_path)
    child.expect_exact(">>> ")
    child.sendline("hello")
    child.expect_exact("Hello there, friend.")
    child.expect_exact(">>> ")
    child.sendline('"""first')
    child.expect_exact("... ")
    child.sendline('second"""')
    child.expect_exact("Hello there, friend.")
    child.expect_exact(">>> ")
    # Ctrl+C during a long answer returns to the prompt without leaving
    fake_server.state.slow_reply = True
    child.sendline("tell me a long story")
    child.expect_exact("Hello there")
    child.sendintr()
    child.expect_exact(">>> ")
    fake_server.state.slow_reply = False
    child.sendline("/bye")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    chats = fake_server.state.bodies("/api/chat")
    assert chats[2]["messages"][-1]["content"] == "first\nsecond"
    history = tmp_path / "pyollama" / "history"
    assert history.exists() and "hello" in history.read_text()


def test_ctrl_c_on_empty_line_and_ctrl_d(fake_server: FakeServer, tmp_path: Path) -> None:
    child = spawn(fake_server.url, "run", "smol2", home=tmp_path)
    child.expect_exact(">>> ")
    child.sendintr()
    child.expect_exact("Use Ctrl + d or /bye to exit.")
    child.expect_exact(">>> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_pull_progress_bars_on_a_terminal(fake_server: FakeServer, tmp_path: Path) -> None:
    child = spawn(fake_server.url, "pull", "smol", home=tmp_path)
    child.expect_exact("pulling bbbbbbbbbbbb")
    child.expect_exact("100%")
    child.expect_exact("success")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("columns", [80, 100])
def test_create_progress_fits_the_terminal(fake_server: FakeServer, tmp_path: Path, columns: int) -> None:
    """`copying file sha256:<64 hex>` is wider than 80 columns: the row is cut, not refused."""
    (tmp_path / "tiny.gguf").write_bytes(b"GGUF" + b"\0" * 100)
    (tmp_path / "Modelfile").write_text("FROM ./tiny.gguf\n")
    child = spawn(fake_server.url, "create", "mine", home=tmp_path, columns=columns, cwd=tmp_path)
    child.expect_exact("copying file sha256:")
    child.expect_exact("100%")
    child.expect_exact("success")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Window too small" not in (child.before or "")


def test_pull_progress_fits_40_columns(fake_server: FakeServer, tmp_path: Path) -> None:
    child = spawn(fake_server.url, "pull", "smol", home=tmp_path, columns=40)
    output = ""
    for _ in ("pulling bbbbbbbbbbbb", "100%", "success"):
        child.expect_exact(_)
        output += (child.before or "") + str(child.after)
    child.expect(pexpect.EOF)
    output += child.before or ""
    child.close()
    assert child.exitstatus == 0
    assert "Window too small" not in output


@pytest.mark.parametrize("argv", [["pull", "smol"], ["run", "smol", "hi"]])
def test_progress_with_stdin_not_a_terminal(fake_server: FakeServer, tmp_path: Path, argv: list[str]) -> None:
    """Bars on a terminal stderr must not read stdin (`pull m </dev/null`, `echo q | run m`)."""
    env = {**os.environ, "PYOLLAMA_HOST": fake_server.url, "PYTHONPATH": str(ROOT), "TERM": "xterm"}
    cmd = " ".join([sys.executable, "-m", "pyollama.cli.main", *argv])
    child = pexpect.spawn("/bin/sh", ["-c", f"exec {cmd} </dev/null"], env=env, encoding="utf-8", timeout=20)
    child.expect(pexpect.EOF)
    output = child.before or ""
    child.close()
    assert child.exitstatus == 0, output
    assert "success" in output
    assert "not a terminal" not in output and "Traceback" not in output


def test_ctrl_g_composes_the_prompt_in_an_editor(fake_server: FakeServer, tmp_path: Path) -> None:
    editor = tmp_path / "ed"
    editor.write_text('#!/bin/sh\nprintf "from the editor\\n" > "$1"\n')
    editor.chmod(0o755)
    child = spawn(fake_server.url, "run", "smol2", home=tmp_path, PYOLLAMA_EDITOR=str(editor))
    child.expect_exact(">>> ")
    child.send("\x07")  # Ctrl+g
    child.expect_exact("from the editor")
    child.send("\r")
    child.expect_exact("Hello there, friend.")
    child.expect_exact(">>> ")
    child.sendline("/bye")
    child.expect(pexpect.EOF)
    child.close()
    assert fake_server.state.bodies("/api/chat")[-1]["messages"][-1]["content"] == "from the editor"
