"""Liquid LFM2's output format (PARSERs `lfm2` and `lfm2-thinking`; Ollama's `LFM2Parser`).

    <think>reasoning</think>answer<|tool_call_start|>[get_weather(city="Paris"), ping()]<|tool_call_end|>

Thinking is on only for `lfm2-thinking` with `think` true or a level (unset means off), and then
only if the output opens with `<think>`: the model decides per turn, and an answer without the tag
is content. An assistant prefill with content starts in the answer.

Streaming: reasoning is released less trailing whitespace and a partial `</think>`, with the
whitespace around the think tags dropped (also when it comes in later pieces); content passes
through as it comes (a `<|tool_call_start|>` is a single special token, so it is never held back),
so whitespace around the tool tags goes only when it comes in the tag's own piece. Calls are
released at `<|tool_call_end|>`; a block that does not parse is kept waiting (Ollama logs it) and
what follows is lost. When the stream ends with tools declared and no wrapped call, the final
piece's content is tried as bare calls (`[f(x=1)]`) naming declared tools.

Argument values: quoted strings verbatim (escapes are not undone), numbers, `true`/`True`,
`false`/`False`, `null`/`None`, lists and dicts as JSON or as Python literals; anything else stays
the text.
"""

from __future__ import annotations

import enum
from typing import Any

from pyollama.go import json as go_json
from pyollama.go.strings import trim_left_space, trim_right_space, trim_space
from pyollama.parsers import Parsed, Think
from pyollama.parsers.common import (
    continues_answer,
    overlap,
    parse_number,
    tool_name,
    trailing_whitespace_len,
)
from pyollama.runner.types import ToolCall
from pyollama.think import think_bool

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
TOOL_CALL_START = "<|tool_call_start|>"
TOOL_CALL_END = "<|tool_call_end|>"

# Go tests single bytes with unicode.IsSpace(rune(b)); a multi-byte character's first byte is never
# one of U+0085/U+00A0, so only ASCII whitespace counts there.
_BYTE_SPACE = " \t\n\v\f\r"


class _State(enum.Enum):
    LOOKING_FOR_THINKING = enum.auto()
    COLLECTING_THINKING = enum.auto()
    COLLECTING_CONTENT = enum.auto()
    COLLECTING_TOOL_CALLS = enum.auto()


class LFM2Parser:
    """One request's LFM2 parser state; `thinking` is the model's capability (`lfm2-thinking`)."""

    has_tool_support: bool = True
    has_thinking_support: bool

    def __init__(self, thinking: bool = False) -> None:
        self.has_thinking_support = thinking
        self._state = _State.LOOKING_FOR_THINKING
        self._buf = ""
        self._call_index = 0
        self._trim_thinking_start = False  # whitespace after <think> may span pieces
        self._trim_content_start = False  # likewise after </think>
        self._tool_names: set[str] = set()
        self._has_tools = False

    def preserved_tokens(self) -> list[str]:
        return [THINK_OPEN, THINK_CLOSE, TOOL_CALL_START, TOOL_CALL_END]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        self._tool_names = {tool_name(t) for t in tools or () if tool_name(t)}
        self._call_index = 0
        self._has_tools = bool(tools)
        if self.has_thinking_support and think_bool(think) and not continues_answer(last_message):
            # The model decides per turn whether to reason: wait for a leading <think>.
            self._state = _State.LOOKING_FOR_THINKING
        else:
            self._state = _State.COLLECTING_CONTENT
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buf += text
        if done and self._state is _State.LOOKING_FOR_THINKING:
            # A partial "<think>" can no longer complete: what is buffered is the answer.
            trimmed = trim_left_space(self._buf)
            if not trimmed.startswith(THINK_OPEN):
                self._buf = trimmed
                self._state = _State.COLLECTING_CONTENT
        content: list[str] = []
        thinking: list[str] = []
        calls: list[ToolCall] = []
        while self._eat(content, thinking, calls):
            pass
        out = "".join(content)
        if done and not calls and self._has_tools:
            # Bare calls without the <|tool_call_*|> wrapper (only this last piece's content).
            try:
                bare = parse_tool_calls(trim_space(out))
            except ValueError:
                bare = []
            if bare and (not self._tool_names or all(c.name in self._tool_names for c in bare)):
                out = ""
                calls = bare
        for call in calls:
            call.index = self._call_index
            self._call_index += 1
        return Parsed(out, "".join(thinking), calls)

    def _eat(self, content: list[str], thinking: list[str], calls: list[ToolCall]) -> bool:
        acc = self._buf
        if acc == "":
            return False
        state = self._state
        if state is _State.LOOKING_FOR_THINKING:
            trimmed = trim_left_space(acc)
            if trimmed.startswith(THINK_OPEN):
                self._buf = trimmed[len(THINK_OPEN) :]
                self._state = _State.COLLECTING_THINKING
                self._trim_thinking_start = True
                return True
            if THINK_OPEN.startswith(trimmed):
                return False  # only whitespace, or a partial "<think>", so far
            self._buf = trimmed  # a direct answer
            self._state = _State.COLLECTING_CONTENT
            return True
        if state is _State.COLLECTING_THINKING:
            return self._eat_thinking(acc, thinking)
        if state is _State.COLLECTING_CONTENT:
            if self._trim_content_start:
                acc = self._buf = trim_left_space(acc)
                if acc:
                    self._trim_content_start = False
            before, found, after = acc.partition(TOOL_CALL_START)
            if found:
                self._buf = after
                self._state = _State.COLLECTING_TOOL_CALLS
                if trim_right_space(before):
                    content.append(trim_right_space(before))
                return True
            self._buf = ""
            if acc:
                content.append(acc)
            return False
        # COLLECTING_TOOL_CALLS
        block, found, rest = acc.partition(TOOL_CALL_END)
        if not found:
            return False
        try:
            parsed = parse_tool_calls(block)
        except ValueError:
            return False  # Ollama logs it and waits; the block never completes
        if rest.startswith(TOOL_CALL_START):
            rest = rest[len(TOOL_CALL_START) :]
        else:
            rest = trim_left_space(rest)
            self._state = _State.COLLECTING_CONTENT
        self._buf = rest
        calls.extend(parsed)
        return True

    def _eat_thinking(self, acc: str, thinking: list[str]) -> bool:
        if acc.startswith(THINK_OPEN):  # a repeated opening tag
            acc = self._buf = acc[len(THINK_OPEN) :]
            self._trim_thinking_start = True
        if self._trim_thinking_start:
            acc = self._buf = trim_left_space(acc)
            if acc:
                self._trim_thinking_start = False
        before, found, after = acc.partition(THINK_CLOSE)
        if found:
            after = trim_left_space(after)
            self._buf = after
            self._state = _State.COLLECTING_CONTENT
            self._trim_thinking_start = False
            self._trim_content_start = after == ""
            if trim_right_space(before):
                thinking.append(trim_right_space(before))
            return True
        head = acc[: len(acc) - overlap(acc, THINK_CLOSE)]
        start = len(head) - trailing_whitespace_len(head)
        self._buf = acc[start:]
        if start:
            thinking.append(acc[:start])
        return False


def parse_tool_calls(content: str) -> list[ToolCall]:
    """Go's `parseToolCallsContent`: `[f(a=1), g()]` or `f(a=1)`, tolerating stray wrapper tags;
    ValueError if nothing parses."""
    content = trim_space(content)
    content = trim_space(content.removeprefix(TOOL_CALL_START))
    content = trim_space(content.removesuffix(TOOL_CALL_END))
    if content.startswith("[") and content.endswith("]"):
        content = content[1:-1]
    calls: list[ToolCall] = []
    while content:
        content = trim_space(content)
        if content == "":
            break
        if content.startswith(","):
            content = trim_space(content[1:])
            if content == "":
                break
        paren = content.find("(")
        if paren == -1:
            raise ValueError("invalid tool call: no opening parenthesis")
        name = trim_space(content[:paren])
        if name == "":
            raise ValueError("invalid tool call: empty function name")
        close = _matching_paren(content, paren)
        if close == -1:
            raise ValueError("invalid tool call: no matching closing parenthesis")
        args_str = content[paren + 1 : close]
        calls.append(ToolCall(name=name, arguments=_parse_args(args_str) if args_str else {}))
        content = content[close + 1 :]
    if not calls:
        raise ValueError("no tool calls found")
    return calls


def _matching_paren(s: str, open_idx: int) -> int:
    """Go's `findMatchingParen`: the `)` closing the `(` at `open_idx`, skipping quoted strings."""
    depth = 1
    i = open_idx + 1
    n = len(s)
    while i < n and depth > 0:
        c = s[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        elif c in "'\"":
            i += 1
            while i < n and s[i] != c:
                if s[i] == "\\" and i + 1 < n:
                    i += 1
                i += 1
        i += 1
    return -1


def _parse_args(s: str) -> dict[str, Any]:
    """Go's `parsePythonArgs`: `key=value` keyword arguments."""
    args: dict[str, Any] = {}
    i, n = 0, len(s)
    while i < n:
        while i < n and (s[i] == "," or s[i] in _BYTE_SPACE):
            i += 1
        if i >= n:
            break
        key_start = i
        while i < n and s[i] not in "=,":
            i += 1
        if i >= n or s[i] != "=":
            raise ValueError("invalid argument: expected '='")
        key = trim_space(s[key_start:i])
        if key == "":
            raise ValueError("invalid argument: empty key")
        i += 1
        while i < n and s[i] in _BYTE_SPACE:
            i += 1
        if i >= n:
            raise ValueError("invalid argument: missing value")
        args[key], i = _parse_arg_value(s, i)
        if i < n and s[i] == ",":
            i += 1
    return args


def _parse_arg_value(s: str, i: int) -> tuple[Any, int]:
    """Go's `parsePythonArgValue`: a quoted string (kept verbatim), or a literal up to the next
    top-level comma."""
    n = len(s)
    if s[i] in "'\"":
        quote = s[i]
        i += 1
        start = i
        while i < n:
            if s[i] == "\\" and i + 1 < n:
                i += 2
                continue
            if s[i] == quote:
                return s[start:i], i + 1
            i += 1
        raise ValueError("invalid argument: unterminated string")
    start = i
    paren = square = curly = 0
    quote = ""
    escaped = False
    while i < n:
        c = s[i]
        if quote:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            paren += 1
        elif c == ")":
            paren = max(paren - 1, 0)
        elif c == "[":
            square += 1
        elif c == "]":
            square = max(square - 1, 0)
        elif c == "{":
            curly += 1
        elif c == "}":
            curly = max(curly - 1, 0)
        elif c == "," and paren == square == curly == 0:
            return _parse_literal(trim_space(s[start:i])), i
        i += 1
    return _parse_literal(trim_space(s[start:i])), i


def _parse_literal(token: str) -> Any:
    """Go's `parsePythonLiteral`."""
    if token == "":
        return ""
    if token in ("true", "True"):
        return True
    if token in ("false", "False"):
        return False
    if token in ("null", "None"):
        return None
    n = parse_number(token)
    if n is not None:
        return n
    if token.startswith(("[", "{")):
        try:
            return go_json.unmarshal(token)
        except ValueError:
            pass
        converted = _python_literal_to_json(token)
        if converted is not None:
            try:
                return go_json.unmarshal(converted)
            except ValueError:
                pass
    return token


def _python_literal_to_json(s: str) -> str | None:
    """Go's `pythonLiteralToJSON`: single-quoted strings to double-quoted, True/False/None to JSON;
    None for an unterminated string."""
    out: list[str] = []
    quote = ""
    escaped = False
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if quote:
            if escaped:
                out.append(c)
                escaped = False
            elif c == "\\":
                out.append(c)
                escaped = True
            elif c == quote:
                out.append('"')
                quote = ""
            elif quote == "'" and c == '"':
                out.append('\\"')
            else:
                out.append(c)
        elif c in "'\"":
            quote = c
            escaped = False
            out.append('"')
        elif c.isascii() and (c.isalpha() or c == "_"):
            j = i + 1
            while j < n and s[j].isascii() and (s[j].isalnum() or s[j] == "_"):
                j += 1
            ident = s[i:j]
            out.append({"True": "true", "False": "false", "None": "null"}.get(ident, ident))
            i = j
            continue
        else:
            out.append(c)
        i += 1
    return None if quote else "".join(out)
