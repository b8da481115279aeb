"""Feeding a parser its output in pieces: whole, one character at a time, and awkward splits."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from pyollama.parsers import BuiltinParser, Parsed, Think, parser_for_name
from pyollama.runner.types import ToolCall


def splits(text: str, tags: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """The ways a test feeds `text`: whole, per character, in runs of 2, 3 and 7, and cut one
    character into / before the end of every occurrence of each tag (a tag split across pieces)."""
    yield [text]
    yield list(text) or [""]
    for n in (2, 3, 7):
        yield [text[i : i + n] for i in range(0, len(text), n)] or [""]
    cuts: set[int] = set()
    for tag in tags:
        start = text.find(tag)
        while start != -1:
            cuts.update({start + 1, start + len(tag) - 1})
            start = text.find(tag, start + 1)
    if cuts:
        points = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
        yield [text[a:b] for a, b in itertools.pairwise(points)]


def calls_as_dicts(calls: list[ToolCall]) -> list[dict[str, Any]]:
    """Calls as comparable dicts, argument key order included (list of items)."""
    return [{"name": c.name, "index": c.index, "args": list(c.arguments.items())} for c in calls]


def feed(parser: BuiltinParser, pieces: list[str]) -> Parsed:
    """Every piece through `add` (the last with done=True); the outputs joined."""
    content: list[str] = []
    thinking: list[str] = []
    calls: list[ToolCall] = []
    for i, piece in enumerate(pieces):
        out = parser.add(piece, i == len(pieces) - 1)
        content.append(out.content)
        thinking.append(out.thinking)
        calls.extend(out.calls)
    return Parsed("".join(content), "".join(thinking), calls)


def run(
    name: str,
    pieces: list[str],
    *,
    tools: list[dict[str, Any]] | None = None,
    last_message: dict[str, Any] | None = None,
    think: Think = None,
) -> Parsed:
    """A fresh built-in parser by name, initialised, fed `pieces`."""
    parser = parser_for_name(name)
    assert parser is not None
    parser.init(tools, last_message, think)
    return feed(parser, pieces)


def tool(name: str, **props: Any) -> dict[str, Any]:
    """An Ollama wire tool whose parameters have the given JSON-schema properties."""
    return {
        "type": "function",
        "function": {"name": name, "parameters": {"type": "object", "properties": props}},
    }
