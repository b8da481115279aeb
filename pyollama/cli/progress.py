"""Progress for pull/push/create: per-layer bars like Ollama's, or plain lines off a terminal.

Bars are drawn on stderr (as Ollama does, so stdout stays clean for pipes) with prompt_toolkit's
`ProgressBar`, one counter per layer digest and one spinner-like row per status. When stderr is
not a terminal each status and each finished layer is one plain line instead.
"""

from __future__ import annotations

import sys
import time
from abc import ABC, abstractmethod
from contextlib import ExitStack
from typing import Any, TextIO

from prompt_toolkit.formatted_text import AnyFormattedText
from prompt_toolkit.layout.dimension import AnyDimension, D
from prompt_toolkit.shortcuts.progress_bar import formatters
from prompt_toolkit.shortcuts.progress_bar.base import ProgressBar, ProgressBarCounter

from pyollama.cli.format import human_bytes


def layer_label(verb: str, digest: str) -> str:
    """`pulling 74701a8c35f6` from a `sha256:...` digest (Ollama shows 12 hex)."""
    hexpart = digest.split(":", 1)[-1].split("-", 1)[-1]
    return f"{verb} {hexpart[:12]}"


def short_duration(seconds: float) -> str:
    """Time left as Ollama's bar shows it (`29s`, `1m30s`, `2h5m`)."""
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{h}h{m}m"
    if m:
        return f"{m}m{sec}s"
    return f"{sec}s"


def bar_text(label: str, completed: int, total: int, rate: float, width: int = 20) -> str:
    """One layer's row with a bar `width` cells wide inside its ends."""
    fixed = len(label) + 1 + len(" 100% ") + len(_sizes_text(completed, total, rate))
    return layer_row(label, completed, total, rate, fixed + width + 2)


class Progress(ABC):
    """A progress display; `update` routes one streamed status to a layer bar or a status line."""

    def update(self, resp: dict[str, Any], verb: str = "pulling") -> None:
        digest = str(resp.get("digest") or "")
        if digest and resp.get("total"):
            label = layer_label(verb, digest) if not resp.get("status") else str(resp["status"])
            self.layer(digest, label, int(resp.get("total") or 0), int(resp.get("completed") or 0))
        else:
            self.status(str(resp.get("status") or ""))

    @abstractmethod
    def status(self, text: str) -> None: ...

    @abstractmethod
    def layer(self, key: str, label: str, total: int, completed: int) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class PlainProgress(Progress):
    """One line per status change and per finished layer."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._last_status = ""
        self._seen: dict[str, bool] = {}

    def status(self, text: str) -> None:
        if text and text != self._last_status:
            self._last_status = text
            print(text, file=self.out, flush=True)

    def layer(self, key: str, label: str, total: int, completed: int) -> None:
        done = total > 0 and completed >= total
        if key not in self._seen:
            self._seen[key] = done
            if done:
                print(f"{label}: 100% {human_bytes(total)}", file=self.out, flush=True)
            else:
                print(f"{label}: {human_bytes(total)}", file=self.out, flush=True)
        elif done and not self._seen[key]:
            self._seen[key] = True
            print(f"{label}: 100% {human_bytes(total)}", file=self.out, flush=True)
        self._last_status = ""

    def close(self) -> None:
        pass


# --- prompt_toolkit formatter --------------------------------------------------------------------


def _sizes_text(completed: int, total: int, rate: float) -> str:
    if total and completed >= total:
        return f" {human_bytes(total)}"
    left = short_duration((total - completed) / rate) if rate > 0 else ""
    return f" {human_bytes(completed)}/{human_bytes(total)}  {human_bytes(int(rate))}/s  {left}"


def layer_row(label: str, completed: int, total: int, rate: float, columns: int, label_width: int = 0) -> str:
    """One layer's row in at most `columns` cells, laid out as Ollama's `Bar.String` does.

    The bar takes what is left; when nothing is, the sizes go, then the label is cut, so the
    percentage stays visible on any width (prompt_toolkit refuses to draw a row that overflows).
    """
    head = f"{label}:".ljust(label_width)
    pct = completed / total * 100 if total else 0.0
    percent = f" {pct:3.0f}% "
    sizes = _sizes_text(completed, total, rate)
    room = columns - len(head) - len(percent) - len(sizes)
    if room >= 3:
        inner = room - 2
        filled = min(int(inner * pct / 100), inner)
        return head + percent + "▕" + "█" * filled + " " * (inner - filled) + "▏" + sizes
    if len(head) + len(percent) + len(sizes) > columns:
        sizes = ""
    head = head[: max(columns - len(percent) - len(sizes), 0)]
    return (head + percent + sizes)[:columns]


def _is_status(progress: ProgressBarCounter[object]) -> bool:
    return progress.total is None


class _Row(formatters.Formatter):
    """The whole row as one formatter: statuses span the line, layers fit it (`layer_row`)."""

    def format(
        self, progress_bar: ProgressBar, progress: ProgressBarCounter[object], width: int
    ) -> AnyFormattedText:
        label = str(progress.label if isinstance(progress.label, str) else "")
        if _is_status(progress):
            return label[:width]
        total = progress.total or 0
        done = min(progress.items_completed, total)
        elapsed = progress.time_elapsed.total_seconds()
        start = getattr(progress, "_pyollama_initial", 0)
        rate = (done - start) / elapsed if elapsed > 0 else 0.0
        label_width = max(
            (len(str(c.label)) + 1 for c in progress_bar.counters if not _is_status(c)), default=0
        )
        return layer_row(label, done, total, rate, width, min(label_width, width))

    def get_width(self, progress_bar: ProgressBar) -> AnyDimension:
        return D()


class TerminalProgress(Progress):
    """prompt_toolkit bars: a row per status and a bar per layer, kept on screen when done."""

    def __init__(self, out: TextIO) -> None:
        from prompt_toolkit.input import create_pipe_input
        from prompt_toolkit.output import create_output

        self._resources = ExitStack()
        # the bar only reads keys from a terminal; a piped or closed stdin would end its app at once
        keys = None if _is_tty(sys.stdin) else self._resources.enter_context(create_pipe_input())
        self._pb = ProgressBar(formatters=[_Row()], output=create_output(stdout=out), input=keys)
        try:
            self._pb.__enter__()
        except BaseException:
            self._resources.close()
            raise
        self._layers: dict[str, ProgressBarCounter[object]] = {}
        self._status: ProgressBarCounter[object] | None = None
        self._status_text = ""

    def status(self, text: str) -> None:
        if not text or text == self._status_text:
            return
        if self._status is not None:
            self._status.done = True
        self._status_text = text
        self._status = self._pb(label=text, total=None)
        self._pb.invalidate()

    def layer(self, key: str, label: str, total: int, completed: int) -> None:
        counter = self._layers.get(key)
        if counter is None:
            if self._status is not None:
                self._status.done = True
                self._status = None
                self._status_text = ""
            counter = self._pb(label=label, total=max(total, 1))
            counter._pyollama_initial = completed  # type: ignore[attr-defined]
            self._layers[key] = counter
        counter.items_completed = min(completed, total)
        if total and completed >= total and not counter.done:
            counter.done = True
        self._pb.invalidate()

    def close(self) -> None:
        if self._status is not None:
            self._status.done = True
        self._pb.invalidate()
        time.sleep(0.05)  # let the UI thread draw the final state before it stops
        try:
            self._pb.__exit__(None, None, None)
        finally:
            self._resources.close()


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def make_progress(out: TextIO | None = None) -> Progress:
    """Bars on a terminal, plain lines otherwise (or when the terminal can't host them)."""
    out = out or sys.stderr
    if _is_tty(out):
        try:
            return TerminalProgress(out)
        except Exception:  # no usable terminal after all: degrade rather than fail the command
            pass
    return PlainProgress(out)
