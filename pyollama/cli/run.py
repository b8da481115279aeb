"""`pyollama run` plumbing shared by the one-shot path and the chat: options, streaming display."""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import signal
import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

from pyollama.cli.client import Client
from pyollama.cli.format import metrics_summary
from pyollama.think import LEVELS

T = TypeVar("T")


def parse_think(value: str) -> bool | str:
    """A `--think[=value]` value, exactly the ones Ollama's flag takes (bare `--think` is "")."""
    if value in ("", "true"):
        return True
    if value == "false":
        return False
    if value in LEVELS:
        return value
    raise ValueError(
        f"invalid value for --think: {json.dumps(value, ensure_ascii=False)} "
        "(must be true, false, high, medium, low, or max)"
    )


@dataclass
class RunOptions:
    """What one run/chat session sends with each request (mirrors Ollama's `runOptions`)."""

    model: str
    parent_model: str = ""
    prompt: str = ""
    system: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    format: str = ""
    think: bool | str | None = None
    hide_thinking: bool = False
    keep_alive: float | None = None
    verbose: bool = False
    wordwrap: bool = True
    insecure: bool = False

    def copy(self) -> RunOptions:
        return copy.deepcopy(self)

    def common(self) -> dict[str, Any]:
        """Request fields shared by /api/generate and /api/chat."""
        body: dict[str, Any] = {"model": self.model, "stream": True}
        if self.format:
            body["format"] = self.format
        if self.options:
            body["options"] = dict(self.options)
        if self.think is not None:
            body["think"] = self.think
        if self.keep_alive is not None:
            ka = self.keep_alive
            body["keep_alive"] = int(ka) if ka == int(ka) else ka
        return body


class WordWrapper:
    """Breaks streamed text at spaces before the terminal's edge (Ollama's `displayResponse`).

    A word is held back until it is complete, so it can go to the next line whole.
    """

    def __init__(self, width: int | None) -> None:
        self.width = width if width and width >= 10 else None
        self.col = 0
        self.word = ""
        self.spaces = 0  # held until the next word shows whether the line breaks there

    def _flush_word(self) -> str:
        w, self.word = self.word, ""
        if not w:
            return ""
        assert self.width is not None
        gap, self.spaces = self.spaces, 0
        if self.col and self.col + gap + len(w) > self.width:
            self.col = len(w)
            return "\n" + w
        self.col += gap + len(w)
        return " " * gap + w

    def feed(self, text: str) -> str:
        if self.width is None:
            return text
        out: list[str] = []
        for ch in text:
            if ch == "\n":
                out.append(self._flush_word())
                out.append("\n")
                self.col = 0
                self.spaces = 0
            elif ch == " ":
                out.append(self._flush_word())
                self.spaces += 1
            else:
                self.word += ch
        return "".join(out)

    def flush(self) -> str:
        if self.width is None:
            return ""
        out = self._flush_word() + " " * self.spaces
        self.col += self.spaces
        self.spaces = 0
        return out


def wrap_width(opts: RunOptions, out: TextIO) -> int | None:
    if not opts.wordwrap or not out.isatty():
        return None
    return shutil.get_terminal_size().columns - 5


class ResponseWriter:
    """Prints content (and thinking, unless hidden) as it streams in."""

    def __init__(self, out: TextIO, width: int | None, hide_thinking: bool) -> None:
        self.out = out
        self.wrap = WordWrapper(width)
        self.hide_thinking = hide_thinking
        self.thinking = False
        self.any_thinking = False
        self.content_parts: list[str] = []
        self.thinking_parts: list[str] = []

    def _write(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.out.flush()

    def add_thinking(self, text: str) -> None:
        if not text:
            return
        self.thinking_parts.append(text)
        if self.hide_thinking:
            return
        if not self.thinking:
            self.thinking = True
            self.any_thinking = True
            self._write("Thinking...\n")
        self._write(self.wrap.feed(text))

    def add_content(self, text: str) -> None:
        if not text:
            return
        if self.thinking:
            self.thinking = False
            self._write(self.wrap.flush() + "\n...done thinking.\n\n")
            self.wrap = WordWrapper(self.wrap.width)
        self.content_parts.append(text)
        self._write(self.wrap.feed(text))

    def finish(self) -> None:
        self._write(self.wrap.flush())

    @property
    def content(self) -> str:
        return "".join(self.content_parts)


async def cancellable(aw: Awaitable[T]) -> tuple[bool, T | None]:
    """Run `aw` so that Ctrl+C cancels just it: `(False, result)` or `(True, None)` if interrupted."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(aw)
    installed = False
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):
        pass
    try:
        await asyncio.wait({task})
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
    if task.cancelled():
        return True, None
    return False, task.result()


async def stream_generate(
    client: Client, opts: RunOptions, out: TextIO | None = None, err: TextIO | None = None
) -> dict[str, Any]:
    """One-shot `/api/generate`, printed as it streams; returns the last (metrics) object."""
    out = out or sys.stdout
    err = err or sys.stderr
    body = opts.common()
    body["prompt"] = opts.prompt
    if opts.system:
        body["system"] = opts.system
    writer = ResponseWriter(out, wrap_width(opts, out), opts.hide_thinking)
    last: dict[str, Any] = {}
    async for resp in client.generate(body):
        writer.add_thinking(str(resp.get("thinking") or ""))
        writer.add_content(str(resp.get("response") or ""))
        last = resp
    writer.finish()
    if opts.prompt:
        out.write("\n\n")
        out.flush()
    if opts.verbose:
        err.write(metrics_summary(last))
        err.flush()
    return last


async def stream_chat(
    client: Client, opts: RunOptions, out: TextIO | None = None, err: TextIO | None = None
) -> dict[str, Any]:
    """One `/api/chat` turn over `opts.messages`; returns the assistant message to keep."""
    out = out or sys.stdout
    err = err or sys.stderr
    body = opts.common()
    body["messages"] = opts.messages
    writer = ResponseWriter(out, wrap_width(opts, out), opts.hide_thinking)
    last: dict[str, Any] = {}
    role = "assistant"
    try:
        async for resp in client.chat(body):
            msg = resp.get("message") or {}
            role = str(msg.get("role") or role)
            writer.add_thinking(str(msg.get("thinking") or ""))
            writer.add_content(str(msg.get("content") or ""))
            last = resp
    finally:
        writer.finish()
    if opts.messages:
        out.write("\n\n")
        out.flush()
    if opts.verbose:
        err.write(metrics_summary(last))
        err.flush()
    message: dict[str, Any] = {"role": role, "content": writer.content}
    if writer.thinking_parts:
        message["thinking"] = "".join(writer.thinking_parts)
    return message


async def load_model(client: Client, opts: RunOptions) -> None:
    """Preload (or, with keep_alive 0, unload) the model with an empty chat, as Ollama does."""
    body = opts.common()
    body["messages"] = []
    async for _ in client.chat(body):
        pass
