"""Progress for pull/push/create: per-layer bars like Ollama's, or plain lines off a terminal.

Bars are drawn on stderr (as Ollama does, so stdout stays clean for pipes) with prompt_toolkit's
`ProgressBar`, one counter per layer digest and one spinner-like row per status. When stderr is
not a terminal each status and each finished layer is one plain line instead.
"""

from __future__ import annotations

import sys
import time
from abc import ABC, abstractmethod
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
    """The plain-text rendering of one layer's bar (used off-terminal and in tests)."""
    pct = completed / total * 100 if total else 0.0
    filled = int(width * pct / 100)
    bar = "▕" + "█" * filled + " " * (width - filled) + "▏"
    if total and completed >= total:
        return f"{label}: {pct:3.0f}% {bar} {human_bytes(total)}"
    left = (total - completed) / rate if rate > 0 else 0.0
    return (
        f"{label}: {pct:3.0f}% {bar} {human_bytes(completed)}/{human_bytes(total)}"
        f"  {human_bytes(int(rate))}/s  {short_duration(left)}"
    )


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


# --- prompt_toolkit formatters ------------------------------------------------------------------


def _is_status(progress: ProgressBarCounter[object]) -> bool:
    return progress.total is None


class _Label(formatters.Formatter):
    def format(
        self, progress_bar: ProgressBar, progress: ProgressBarCounter[object], width: int
    ) -> AnyFormattedText:
        text = str(progress.label if isinstance(progress.label, str) else "")
        return text if _is_status(progress) else text + ":"

    def get_width(self, progress_bar: ProgressBar) -> AnyDimension:
        widths = [len(str(c.label)) + (0 if _is_status(c) else 1) for c in progress_bar.counters]
        return D.exact(max(widths)) if widths else D.exact(1)


class _Percent(formatters.Formatter):
    def format(
        self, progress_bar: ProgressBar, progress: ProgressBarCounter[object], width: int
    ) -> AnyFormattedText:
        if _is_status(progress):
            return ""
        return f" {progress.percentage:3.0f}% "

    def get_width(self, progress_bar: ProgressBar) -> AnyDimension:
        return D.exact(6)


class _Bar(formatters.Bar):
    def format(
        self, progress_bar: ProgressBar, progress: ProgressBarCounter[object], width: int
    ) -> AnyFormattedText:
        if _is_status(progress):
            return ""
        return super().format(progress_bar, progress, width)


class _Sizes(formatters.Formatter):
    def _text(self, progress: ProgressBarCounter[object]) -> str:
        if _is_status(progress):
            return ""
        total = progress.total or 0
        done = min(progress.items_completed, total)
        if done >= total:
            return f" {human_bytes(total)}"
        elapsed = progress.time_elapsed.total_seconds()
        start = getattr(progress, "_pyollama_initial", 0)
        rate = (done - start) / elapsed if elapsed > 0 else 0.0
        left = short_duration((total - done) / rate) if rate > 0 else ""
        return f" {human_bytes(done)}/{human_bytes(total)}  {human_bytes(int(rate))}/s  {left}"

    def format(
        self, progress_bar: ProgressBar, progress: ProgressBarCounter[object], width: int
    ) -> AnyFormattedText:
        return self._text(progress)

    def get_width(self, progress_bar: ProgressBar) -> AnyDimension:
        widths = [len(self._text(c)) for c in progress_bar.counters]
        return D.exact(max([*widths, 1]) + 1)


class TerminalProgress(Progress):
    """prompt_toolkit bars: a row per status and a bar per layer, kept on screen when done."""

    def __init__(self, out: TextIO) -> None:
        from prompt_toolkit.output import create_output

        self._pb = ProgressBar(
            formatters=[
                _Label(),
                _Percent(),
                _Bar(start="▕", end="▏", sym_a="█", sym_b="█", sym_c=" "),
                _Sizes(),
            ],
            output=create_output(stdout=out),
        )
        self._pb.__enter__()
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
        self._pb.__exit__(None, None, None)


def make_progress(out: TextIO | None = None) -> Progress:
    """Bars on a terminal, plain lines otherwise (or when the terminal can't host them)."""
    out = out or sys.stderr
    if out.isatty():
        try:
            return TerminalProgress(out)
        except Exception:  # no usable terminal after all: degrade rather than fail the command
            pass
    return PlainProgress(out)
