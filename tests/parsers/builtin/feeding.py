"""Feeding a built-in parser the way the server does: streamed pieces, `done` on the last one."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from pyollama.parsers import BuiltinParser, Think, parser_for_name


class Result(NamedTuple):
    content: str
    thinking: str
    calls: list[tuple[str, str, int]]  # (name, arguments as JSON in their order, index)


def make(
    name: str,
    tools: list[dict[str, Any]] | None = None,
    last: dict[str, Any] | None = None,
    think: Think = None,
) -> BuiltinParser:
    parser = parser_for_name(name)
    assert parser is not None, name
    parser.init(tools, last, think)
    return parser


def feed(parser: BuiltinParser, pieces: Sequence[str], final: str | None = "") -> Result:
    """Add each piece with done=False, then `final` with done=True (None: the last piece is done)."""
    content: list[str] = []
    thinking: list[str] = []
    calls: list[tuple[str, str, int]] = []
    steps = (
        [(p, False) for p in pieces]
        if final is not None
        else [(p, i == len(pieces) - 1) for i, p in enumerate(pieces)]
    )
    if final is not None:
        steps.append((final, True))
    for piece, done in steps:
        out = parser.add(piece, done)
        content.append(out.content)
        thinking.append(out.thinking)
        calls += [(c.name, json.dumps(c.arguments, ensure_ascii=False), c.index) for c in out.calls]
    return Result("".join(content), "".join(thinking), calls)


def run(
    name: str,
    text: str | Sequence[str],
    tools: list[dict[str, Any]] | None = None,
    last: dict[str, Any] | None = None,
    think: Think = None,
    final: str | None = "",
) -> Result:
    pieces = [text] if isinstance(text, str) else list(text)
    return feed(make(name, tools, last, think), pieces, final)


def call(name: str, arguments: dict[str, Any], index: int = 0) -> tuple[str, str, int]:
    return (name, json.dumps(arguments, ensure_ascii=False), index)


def tool(name: str, props: dict[str, Any] | None = None, required: list[str] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"type": "object", "properties": props or {}}
    if required is not None:
        params["required"] = required
    return {"type": "function", "function": {"name": name, "parameters": params}}


def splits(text: str, atoms: Sequence[str] = ()) -> Iterator[list[str]]:
    """Ways to stream `text`: one character at a time, three at a time, and every cut in two.
    Cuts inside any of `atoms` (tags that arrive as one special token) are left out."""
    inside: set[int] = set()
    for atom in atoms:
        start = text.find(atom)
        while start != -1:
            inside.update(range(start + 1, start + len(atom)))
            start = text.find(atom, start + 1)
    cuts = [i for i in range(1, len(text)) if i not in inside]
    yield _cut(text, cuts)
    yield _cut(text, [c for c in cuts if c % 3 == 0])
    for c in cuts:
        yield [text[:c], text[c:]]


def _cut(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]
