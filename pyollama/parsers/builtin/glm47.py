"""GLM-4.7's output format (PARSER `glm-4.7`; Ollama's `GLM47Parser` over `GLM46Parser`).

    <think>reasoning</think>answer<tool_call>name<arg_key>k</arg_key><arg_value>v</arg_value></tool_call>

Renderer dependency: with thinking on (`think` unset or true) Ollama's glm-4.7 renderer ends the
prompt with `<think>`, so the model's output starts inside the reasoning and the parser starts
there; with thinking off the prompt ends with `</think>` and the parser looks for an optional
`<think>` first.

Streaming: thinking and content are released as they come, less trailing whitespace (it may precede
a closing tag) and less a partial tag, which Ollama never flushes at the end. Whitespace after
`<think>`, `</think>` and `<tool_call>` is dropped even when it comes in later pieces; after
`</tool_call>` only when it comes in the tag's own piece (Ollama has no state that eats it later). A
tool call is released whole at `</tool_call>`; one still open when the stream ends is accepted only
if its XML is complete, its tool is declared and its required arguments are present (Go's
`finalizeToolCall`). Argument values are typed by the tool's schema."""

from __future__ import annotations

import enum
import re
from typing import Any

from pyollama.go.strconv import quote as go_quote
from pyollama.go.strings import is_space, trim_left_space, trim_right_space, trim_space
from pyollama.parsers import Parsed, ParserError, Think
from pyollama.parsers.common import (
    find_tool,
    overlap,
    parameter_types,
    parse_value,
    split_at_tag,
    tool_required,
    trailing_whitespace_len,
)
from pyollama.runner.types import ToolCall
from pyollama.think import think_bool

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
TOOL_OPEN = "<tool_call>"
TOOL_CLOSE = "</tool_call>"
KEY_OPEN = "<arg_key>"
KEY_CLOSE = "</arg_key>"
VALUE_OPEN = "<arg_value>"
VALUE_CLOSE = "</arg_value>"

# The only markup inside a tool call: Go escapes every other `<`, `>` and `&` before XML decoding.
_TAG_CYCLE = (KEY_OPEN, KEY_CLOSE, VALUE_OPEN, VALUE_CLOSE)
_TAG_RE = re.compile("(" + "|".join(re.escape(t) for t in _TAG_CYCLE) + ")")
# Characters outside XML's Char production (Go's `isInCharacterRange`): the decoder rejects them.
_ILLEGAL_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _State(enum.Enum):
    LOOKING_FOR_THINKING_OPEN = enum.auto()
    THINKING_STARTED_EATING_WHITESPACE = enum.auto()
    COLLECTING_THINKING = enum.auto()
    THINKING_DONE_EATING_WHITESPACE = enum.auto()
    COLLECTING_CONTENT = enum.auto()
    TOOL_STARTED_EATING_WHITESPACE = enum.auto()
    COLLECTING_TOOL_CONTENT = enum.auto()


class GLM47Parser:
    """One request's GLM-4.7 parser state."""

    has_tool_support: bool = True
    has_thinking_support: bool = True

    def __init__(self) -> None:
        self._state = _State.LOOKING_FOR_THINKING_OPEN
        self._buf = ""
        self._tools: list[dict[str, Any]] | None = None
        self._call_index = 0

    def preserved_tokens(self) -> list[str]:
        return [THINK_OPEN, THINK_CLOSE, TOOL_OPEN, TOOL_CLOSE, KEY_OPEN, KEY_CLOSE, VALUE_OPEN, VALUE_CLOSE]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        # GLM47Parser.Init: the renderer opened <think> unless thinking was turned off.
        self._tools = tools
        self._call_index = 0
        if think is None or think_bool(think):
            self._state = _State.COLLECTING_THINKING
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._buf += text
        content: list[str] = []
        thinking: list[str] = []
        raw_calls: list[str] = []
        while self._eat(content, thinking, raw_calls):
            pass
        if done and self._state in (_State.TOOL_STARTED_EATING_WHITESPACE, _State.COLLECTING_TOOL_CONTENT):
            try:
                raw_calls.append(self._finalize_tool_call())
            except _XMLError as e:
                raise ParserError(f"incomplete GLM tool call: {e}") from None
        calls: list[ToolCall] = []
        for raw in raw_calls:
            call = parse_tool_call(raw, self._tools)
            call.index = self._call_index
            self._call_index += 1
            calls.append(call)
        return Parsed("".join(content), "".join(thinking), calls)

    def _finalize_tool_call(self) -> str:
        """Go's `finalizeToolCall`: the call the stream ended inside, strictly checked (only the
        outer closing tag may be missing: repairing a truncated argument could turn partial output
        into a mutating call)."""
        raw = self._buf
        n = overlap(raw, TOOL_CLOSE)
        if n > 0:
            raw = trim_right_space(raw[:-n])
        name, keys, values = _decode_tool_xml(raw)
        _validate_final(name, keys, values, self._tools)
        self._buf = ""
        self._state = _State.COLLECTING_CONTENT
        return raw

    def _hold_back(self, acc: str, partial: int) -> str:
        """Keep a partial tag (`partial` characters) and the whitespace before it in the buffer;
        return what is safe to release."""
        before = acc[: len(acc) - partial]
        start = len(before) - trailing_whitespace_len(before)
        self._buf = acc[start:]
        return acc[:start]

    def _eat_leading_whitespace(self, next_state: _State) -> bool:
        trimmed = trim_left_space(self._buf)
        self._buf = trimmed
        if trimmed == "":
            return False
        self._state = next_state
        return True

    def _eat(self, content: list[str], thinking: list[str], raw_calls: list[str]) -> bool:
        """Go's `eat`: consume what the buffer decides in the current state; True to go again."""
        acc = self._buf
        state = self._state
        if state is _State.LOOKING_FOR_THINKING_OPEN:
            trimmed = trim_left_space(acc)
            if trimmed.startswith(THINK_OPEN):
                after = trim_left_space(trimmed[len(THINK_OPEN) :])
                self._buf = after
                self._state = (
                    _State.THINKING_STARTED_EATING_WHITESPACE if after == "" else _State.COLLECTING_THINKING
                )
                return True
            if THINK_OPEN.startswith(trimmed):
                return False  # a partial <think>, or only whitespace so far
            self._state = _State.COLLECTING_CONTENT  # no thinking; the leading whitespace stays
            return True
        if state is _State.THINKING_STARTED_EATING_WHITESPACE:
            return self._eat_leading_whitespace(_State.COLLECTING_THINKING)
        if state is _State.COLLECTING_THINKING:
            if THINK_CLOSE in acc:
                before, after = split_at_tag(acc, THINK_CLOSE, True)
                self._buf = after
                if before:
                    thinking.append(before)
                self._state = (
                    _State.THINKING_DONE_EATING_WHITESPACE if after == "" else _State.COLLECTING_CONTENT
                )
                return True
            released = self._hold_back(acc, overlap(acc, THINK_CLOSE))
            if released:
                thinking.append(released)
            return False
        if state is _State.THINKING_DONE_EATING_WHITESPACE:
            return self._eat_leading_whitespace(_State.COLLECTING_CONTENT)
        if state is _State.COLLECTING_CONTENT:
            if TOOL_OPEN in acc:
                before, after = split_at_tag(acc, TOOL_OPEN, True)
                self._buf = after
                if before:
                    content.append(before)
                self._state = (
                    _State.TOOL_STARTED_EATING_WHITESPACE if after == "" else _State.COLLECTING_TOOL_CONTENT
                )
                return True
            released = self._hold_back(acc, overlap(acc, TOOL_OPEN))
            if released:
                content.append(released)
            return False
        if state is _State.TOOL_STARTED_EATING_WHITESPACE:
            return self._eat_leading_whitespace(_State.COLLECTING_TOOL_CONTENT)
        # COLLECTING_TOOL_CONTENT: tool calls are not streamed; wait for the closing tag.
        if TOOL_CLOSE in acc:
            before, self._buf = split_at_tag(acc, TOOL_CLOSE, True)
            raw_calls.append(before)
            self._state = _State.COLLECTING_CONTENT
            return True
        return False


# --- the tool call's XML -------------------------------------------------------------------------


class _XMLError(Exception):
    """What Go's `xml.Unmarshal` reports for a tool call that is not well-formed."""


def _decode_tool_xml(raw: str) -> tuple[str, list[str], list[str]]:
    """Go's `escapeGLM46Content` + `xml.Unmarshal` into `GLMToolCallXML`: the root's own text (the
    function name), and the direct text of each top-level `<arg_key>` and `<arg_value>`.

    Escaping every `<`, `>` and `&` outside the four tags makes the decoder hand their text back
    verbatim, so this tokenises the raw text on the tags and keeps the decoder's own rules: tags
    must nest, an element nested in a key or value is skipped, `\\r\\n` and `\\r` read as `\\n`,
    and characters XML forbids are an error."""
    bad = _ILLEGAL_XML_CHAR.search(raw)
    if bad is not None:
        raise _XMLError(f"{_xml_line(raw, bad.start())}: illegal character code U+{ord(bad.group()):04X}")
    open_tags: list[str] = []  # elements open below the root
    name: list[str] = []
    keys: list[str] = []
    values: list[str] = []
    text: list[str] = []  # direct text of the open top-level element
    pos = 0
    for i, piece in enumerate(_TAG_RE.split(raw)):
        if i % 2 == 0:
            piece_text = piece.replace("\r\n", "\n").replace("\r", "\n")
            if not open_tags:
                name.append(piece_text)
            elif len(open_tags) == 1:
                text.append(piece_text)
        elif piece.startswith("</"):
            tag = piece[2:-1]
            top = open_tags[-1] if open_tags else "tool_call"
            if tag != top:
                raise _XMLError(f"{_xml_line(raw, pos)}: element <{top}> closed by </{tag}>")
            open_tags.pop()
            if not open_tags:
                (keys if tag == "arg_key" else values).append("".join(text))
        else:
            if not open_tags:
                text = []
            open_tags.append(piece[1:-1])
        pos += len(piece)
    if open_tags:
        raise _XMLError(f"{_xml_line(raw, len(raw))}: element <{open_tags[-1]}> closed by </tool_call>")
    return "".join(name), keys, values


def _xml_line(raw: str, pos: int) -> str:
    # Go's decoder counts lines from the `<tool_call>` the parser wraps the text in (no newline).
    return f"XML syntax error on line {1 + raw.count(chr(10), 0, pos)}"


def _validate_final(
    name_text: str, keys: list[str], values: list[str], tools: list[dict[str, Any]] | None
) -> None:
    """Go's `validateFinalGLM46ToolCall`: a call cut off by the end of the stream must name a
    declared tool, pair every key with a value and carry the tool's required arguments."""
    name = trim_space(name_text)
    if name == "":
        raise _XMLError("empty function name")
    if len(keys) != len(values):
        raise _XMLError(f"mismatched arg_key and arg_value counts: {len(keys)} keys, {len(values)} values")
    tool = find_tool(tools, name)
    if tool is None:
        raise _XMLError(f"tool {go_quote(name)} is not declared")
    seen = set()
    for raw_key in keys:
        key = trim_space(raw_key)
        if key == "":
            raise _XMLError("empty argument name")
        seen.add(key)
    for required in tool_required(tool):
        if required not in seen:
            raise _XMLError(f"required argument {go_quote(required)} is missing for tool {go_quote(name)}")


def repair_xml(s: str) -> str:
    """Go's `repairGLM46XML`: rebuild `name<arg_key>k</arg_key><arg_value>v</arg_value>...` when
    the model dropped or mismatched tags, by walking the expected tag cycle and inserting what is
    missing. Text outside the tags is kept as it is."""

    def next_tag(s: str) -> tuple[int, str]:
        best, best_tag = -1, ""
        for tag in _TAG_CYCLE:
            idx = s.find(tag)
            if idx != -1 and (best == -1 or idx < best):
                best, best_tag = idx, tag
        return best, best_tag

    out: list[str] = []
    idx, first = next_tag(s)
    if idx == -1:
        return s
    prefix, s = s[:idx], s[idx:]
    # Text before a first tag other than <arg_key> may hold the name and a key ("weather city</arg_key>");
    # a function name has no spaces, so split at the first one.
    phase = 0
    space_at = next((i for i, ch in enumerate(prefix) if is_space(ch)), -1)
    if first != KEY_OPEN and space_at != -1:
        out += [prefix[:space_at], KEY_OPEN, trim_left_space(prefix[space_at:])]
        phase = 1
    else:
        out.append(prefix)

    while s:
        idx, found = next_tag(s)
        expected = _TAG_CYCLE[phase]
        is_open = phase % 2 == 0
        if idx == -1:
            if not is_open:  # expecting a closing tag: emit the text, then close
                out += [s, expected]
                phase = (phase + 1) % 4
            break
        if found == expected:
            out += [s[:idx], expected]
            s = s[idx + len(expected) :]
            phase = (phase + 1) % 4
            continue
        found_phase = _TAG_CYCLE.index(found)
        if is_open and idx > 0:
            # Text where an opening tag belongs: the tag was omitted; emit it before the text.
            out += [expected, s[:idx]]
            phase = (phase + 1) % 4
            s = s[idx:]
            continue
        while phase != found_phase:  # emit the missing tags up to the one found
            tag = _TAG_CYCLE[phase]
            if phase % 2 == 1 and (phase + 1) % 4 == found_phase and idx > 0:
                out.append(s[:idx])
                s = s[idx:]
                idx = 0
            out.append(tag)
            phase = (phase + 1) % 4

    # Stopped in the middle of a pair: close it.
    if phase == 1:
        out += [KEY_CLOSE, VALUE_OPEN, VALUE_CLOSE]
    elif phase == 2:
        out += [VALUE_OPEN, VALUE_CLOSE]
    elif phase == 3:
        out.append(VALUE_CLOSE)
    return "".join(out)


def parse_tool_call(raw: str, tools: list[dict[str, Any]] | None) -> ToolCall:
    """Go's `parseGLM46ToolCall`: decode the call (once more after `repair_xml` if it is not
    well-formed), then type each value by the declared parameter's schema."""
    try:
        name_text, keys, values = _decode_tool_xml(raw)
    except _XMLError as e:
        try:
            name_text, keys, values = _decode_tool_xml(repair_xml(raw))
        except _XMLError:
            raise ParserError(f"failed to parse XML: {e}") from None
    name = trim_space(name_text)
    if name == "":
        raise ParserError("empty function name")
    if len(keys) != len(values):
        raise ParserError(f"mismatched arg_key and arg_value counts: {len(keys)} keys, {len(values)} values")
    tool = find_tool(tools, name)
    arguments: dict[str, Any] = {}
    for raw_key, value in zip(keys, values, strict=True):
        key = trim_space(raw_key)
        arguments[key] = parse_value(value, parameter_types(tool, key))  # qwen3coder.go's parseValue
    return ToolCall(name=name, arguments=arguments)
