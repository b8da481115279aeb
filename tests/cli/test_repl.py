from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyollama.cli.client import Client
from pyollama.cli.repl import (
    USAGE,
    USAGE_SET,
    USAGE_SHORTCUTS,
    USAGE_SHOW,
    Action,
    Chat,
    EditorError,
    edit_in_editor,
    env_bool,
)
from pyollama.cli.run import RunOptions, WordWrapper
from tests.cli.conftest import FakeServer


class Harness:
    def __init__(self, client: Client, model: str = "smol2") -> None:
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.chat = Chat(client, RunOptions(model=model, wordwrap=False), self.out, self.err)

    async def line(self, text: str) -> str:
        self.out.seek(0)
        self.out.truncate()
        self.err.seek(0)
        self.err.truncate()
        await self.chat.handle_line(text)
        return self.out.getvalue()


@pytest.fixture
async def h(fake_server: FakeServer) -> AsyncIterator[Harness]:
    async with Client(fake_server.url) as c:
        yield Harness(c)


async def test_two_turns_keep_history(h: Harness, fake_server: FakeServer) -> None:
    assert await h.line("hi") == "Hello there, friend.\n\n"
    await h.line("again")
    last = fake_server.state.bodies("/api/chat")[-1]
    assert [m["role"] for m in last["messages"]] == ["user", "assistant", "user"]
    assert last["messages"][1]["content"] == "Hello there, friend."


async def test_triple_quote_block(h: Harness, fake_server: FakeServer) -> None:
    assert await h.line('"""first line') == ""
    assert h.chat.prompt == "... "
    await h.line("second line")
    await h.line('third"""')
    assert h.chat.prompt == ">>> "
    msgs = fake_server.state.bodies("/api/chat")[-1]["messages"]
    assert msgs[-1] == {"role": "user", "content": "first line\nsecond line\nthird"}
    await h.line('"""one-liner"""')
    assert fake_server.state.bodies("/api/chat")[-1]["messages"][-1]["content"] == "one-liner"


async def test_set_parameter_and_errors(h: Harness, fake_server: FakeServer) -> None:
    assert await h.line("/set parameter temperature 0") == "Set parameter 'temperature' to '0'\n"
    assert await h.line("/set parameter stop a b") == "Set parameter 'stop' to 'a, b'\n"
    assert await h.line("/set parameter top_k x") == 'Couldn\'t set parameter: "invalid int value [x]"\n'
    assert await h.line("/set parameter nope 1") == "Couldn't set parameter: \"unknown parameter 'nope'\"\n"
    await h.line("/set parameter seed")
    assert h.err.getvalue().startswith("Available Parameters:")
    await h.line("hello")
    assert fake_server.state.bodies("/api/chat")[-1]["options"] == {"temperature": 0.0, "stop": ["a", "b"]}


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("/set parameter temperature 1_0", '"invalid float value [1_0]"'),
        ("/set parameter num_ctx \u0663", '"invalid int value [\u0663]"'),
        ("/set parameter Top_K 5", "\"unknown parameter 'Top_K'\""),
        ("/set parameter mirostat 1", "\"unknown parameter 'mirostat'\""),
    ],
)
async def test_set_parameter_types_values_as_ollama(h: Harness, line: str, said: str) -> None:
    """`/set parameter` shares `pyollama.options` with the server: Go's parsing, Go's messages."""
    assert await h.line(line) == f"Couldn't set parameter: {said}\n"
    assert h.chat.opts.options == {}


async def test_set_parameter_float_is_float32(h: Harness) -> None:
    await h.line("/set parameter temperature 0.123456789")
    assert h.chat.opts.options == {"temperature": 0.12345679}


async def test_set_system_single_and_multiline(h: Harness, fake_server: FakeServer) -> None:
    assert await h.line("/set system You are a pirate.") == "Set system message.\n"
    assert h.chat.opts.messages == [{"role": "system", "content": "You are a pirate."}]
    assert await h.line('/set system """Be') == ""
    assert await h.line('brief."""') == "Set system message.\n"
    assert h.chat.opts.messages == [{"role": "system", "content": "Be\nbrief."}]
    out = await h.line("/show system")
    assert out == "Be\nbrief.\n\n"


async def test_toggles_texts(h: Harness) -> None:
    assert await h.line("/set verbose") == "Set 'verbose' mode.\n"
    assert await h.line("/set quiet") == "Set 'quiet' mode.\n"
    assert await h.line("/set wordwrap") == "Set 'wordwrap' mode.\n"
    assert await h.line("/set nowordwrap") == "Set 'nowordwrap' mode.\n"
    assert await h.line("/set format json") == "Set format to 'json' mode.\n"
    assert (
        await h.line("/set format xml")
        == "Invalid or missing format. For 'json' mode use '/set format json'\n"
    )
    assert await h.line("/set noformat") == "Disabled format.\n"
    assert await h.line("/set think") == "Set 'think' mode.\n"
    assert await h.line("/set think high") == "Set 'think' mode to 'high'.\n"
    assert h.chat.opts.think == "high"
    assert await h.line("/set nothink") == "Set 'nothink' mode.\n"
    assert await h.line("/set nohistory") == "" and not h.chat.history_enabled
    assert await h.line("/set history") == "" and h.chat.history_enabled
    assert await h.line("/set bogus") == "Unknown command '/set bogus'. Type /? for help\n"


async def test_help_texts(h: Harness) -> None:
    for cmd, text in (
        ("/?", USAGE),
        ("/help", USAGE),
        ("/? set", USAGE_SET),
        ("/? show", USAGE_SHOW),
        ("/? shortcuts", USAGE_SHORTCUTS),
        ("/set", USAGE_SET),
        ("/show", USAGE_SHOW),
    ):
        await h.line(cmd)
        assert h.err.getvalue() == text, cmd
    assert USAGE.startswith("Available Commands:\n  /set            Set session variables\n")


async def test_unknown_and_bye(h: Harness) -> None:
    assert await h.line("/foo bar") == "Unknown command '/foo'. Type /? for help\n"
    assert await h.chat.handle_line("/bye") is Action.EXIT
    assert await h.chat.handle_line("/exit") is Action.EXIT


async def test_show_commands(h: Harness) -> None:
    assert (await h.line("/show modelfile")).startswith('# Modelfile generated by "ollama show"')
    assert await h.line("/show license") == "No license was specified for this model.\n"
    assert await h.line("/show template") == "{{ .Prompt }}\n"
    await h.line("/set parameter temperature 0")
    out = await h.line("/show parameters")
    assert out.startswith("Model defined parameters:\n  stop ")
    assert "User defined parameters:\n  temperature                    0\n" in out
    await h.line("/show info")
    assert "architecture" in h.err.getvalue()
    assert await h.line("/show nope") == "Unknown command '/show nope'. Type /? for help\n"


async def test_clear_save_load(h: Harness, fake_server: FakeServer) -> None:
    await h.line("/set system Be nice.")
    await h.line("hi")
    assert await h.line("/save mine") == "Created new model 'mine'\n"
    (req,) = fake_server.state.bodies("/api/create")
    assert req["model"] == "mine" and req["from"] == "smol2" and req["system"] == "Be nice."
    assert [m["role"] for m in req["messages"]] == ["system", "user", "assistant"]
    assert await h.line("/save") == "Usage:\n  /save <modelname>\n"
    assert await h.line("/clear") == "Cleared session context\n"
    assert h.chat.opts.messages == [{"role": "system", "content": "Be nice."}]
    assert await h.line("/load mine") == "Loading model 'mine'\n"
    assert h.chat.opts.model == "mine" and h.chat.opts.messages == []
    assert await h.line("/load ghost") == "Loading model 'ghost'\nCouldn't find model 'ghost'\n"
    assert h.chat.opts.model == "mine"
    assert await h.line("/load") == "Usage:\n  /load <modelname>\n"


async def test_interrupt_resets_block(h: Harness) -> None:
    await h.line('"""abc')
    h.chat.interrupt("x")
    assert h.chat.prompt == ">>> " and h.chat.sb == []
    h.chat.interrupt("")
    assert h.out.getvalue().endswith("\nUse Ctrl + d or /bye to exit.\n")


def test_word_wrapper() -> None:
    w = WordWrapper(20)
    text = "the quick brown fox jumps over the lazy dog again and again"
    out = "".join(w.feed(ch) for ch in text) + w.flush()
    assert out.replace("\n", " ") == text
    assert all(len(line) <= 20 for line in out.split("\n"))
    assert WordWrapper(None).feed("x y") == "x y"


def test_env_bool() -> None:
    assert not env_bool(None) and not env_bool("") and not env_bool("false") and not env_bool("0")
    assert env_bool("1") and env_bool("true") and env_bool("garbage")


async def test_think_on_a_model_without_thinking_warns(h: Harness, fake_server: FakeServer) -> None:
    """Ollama's ensureThinkingSupport: a warning on stderr, the setting still taken."""
    warning = 'warning: model "smol2" does not support thinking output\n'
    assert await h.line("/set think") == "Set 'think' mode.\n"
    assert h.err.getvalue() == warning
    assert await h.line("/set nothink") == "Set 'nothink' mode.\n"
    assert h.err.getvalue() == warning
    fake_server.state.models["smol2:latest"]["capabilities"] = ["completion", "thinking"]
    assert await h.line("/set think low") == "Set 'think' mode to 'low'.\n"
    assert h.err.getvalue() == ""


def test_shortcuts_list_ctrl_g() -> None:
    assert "  Ctrl + g            Open default editor to compose a prompt\n" in USAGE_SHORTCUTS


def test_edit_in_editor(tmp_path: Path) -> None:
    editor = tmp_path / "ed"
    editor.write_text('#!/bin/sh\nprintf "[$(cat "$1")] edited\\n\\n" > "$1"\n')
    editor.chmod(0o755)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "OLLAMA_EDITOR": "/nonexistent",
        "PYOLLAMA_EDITOR": str(editor),
    }
    assert edit_in_editor("draft", env) == "[draft] edited"
    with pytest.raises(EditorError) as ei:
        edit_in_editor("x", {"PATH": "", "OLLAMA_EDITOR": "nope-editor --wait"})
    assert ei.value.message == (
        'editor "nope-editor" not found, set OLLAMA_EDITOR to the path of your preferred editor'
    )
