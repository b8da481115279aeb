"""gpt-oss's Harmony format (Ollama's harmony/harmonyparser.go).

PARSER `harmony`. The output is a run of messages `<|start|>HEADER<|message|>TEXT<|end|>`, the
header holding the role, `<|channel|>NAME` and, for a tool call, `to=RECIPIENT` (before or after
the channel; `<|constrain|>json` may follow). Channel `analysis` is thinking, `final` and
`commentary` are content, and a message with a recipient on `analysis` or `commentary` is a tool
call whose text is the JSON arguments; `functions.` is dropped from the recipient's name.

Renderer details:
- The prompt ends with `<|start|>assistant`, so the output opens inside a header; `init` feeds the
  parser that implicit start. A prefilled last assistant message continues its channel instead
  (`final` when it has content, `analysis` when it has only thinking).
- Harmony function names must look like TypeScript identifiers: `init` renames the tools
  (`get-weather` -> `get_weather`, duplicates numbered `_2`, `_3`, ...; the built-ins
  `browser.open`, `browser.search`, `browser.find` and `python` keep their names) and returns the
  renamed list for the renderer; calls are mapped back to the caller's names.
- `<|call|>` ends a tool call and is an end-of-generation token: it is not among the preserved
  tokens, so llama.cpp stops on it and it never reaches the parser (if it did, it would be part of
  the arguments). Likewise `<|return|>`.

A tool call is parsed only on the last piece (`done`): Ollama assumes one call, at the end of the
message. Its arguments are decoded as Go decodes them; invalid JSON ends the stream with Go's
error. Text outside messages, and a partial `<|end|>` left at the end, are dropped as in Ollama.
"""

from __future__ import annotations

import enum
import unicodedata
from typing import Any, NamedTuple

from pyollama.go import json as go_json
from pyollama.go.strings import fields, is_space, trim_space
from pyollama.parsers import Parsed, ParserError, Think
from pyollama.parsers.common import overlap
from pyollama.runner.types import ToolCall

MESSAGE_START = "<|start|>"
MESSAGE_END = "<|end|>"
HEADER_END = "<|message|>"
CHANNEL = "<|channel|>"
CONSTRAIN = "<|constrain|>"

BUILTIN_TOOLS = frozenset({"browser.open", "browser.search", "browser.find", "python"})


class Header(NamedTuple):
    role: str = ""
    channel: str = ""
    recipient: str = ""


class MessageStart(NamedTuple):
    pass


class HeaderComplete(NamedTuple):
    header: Header


class ContentEmitted(NamedTuple):
    content: str


class MessageEnd(NamedTuple):
    pass


Event = MessageStart | HeaderComplete | ContentEmitted | MessageEnd


class _ParserState(enum.Enum):
    LOOKING_FOR_MESSAGE_START = 0
    PARSING_HEADER = 1
    PARSING_CONTENT = 2


class HarmonyParser:
    """Go's `HarmonyParser`: the text into message events."""

    def __init__(self) -> None:
        self.state = _ParserState.LOOKING_FOR_MESSAGE_START
        self._acc = ""

    def add_implicit_start(self) -> None:
        self._acc += MESSAGE_START + "assistant"

    def add_implicit_start_or_prefill(self, last_message: dict[str, Any] | None) -> None:
        """The prompt's end as the parser must see it: an assistant prefill continues its channel."""
        if last_message is not None and last_message.get("role") == "assistant":
            if last_message.get("content"):
                self._acc += MESSAGE_START + "assistant" + CHANNEL + "final" + HEADER_END
                return
            if last_message.get("thinking"):
                self._acc += MESSAGE_START + "assistant" + CHANNEL + "analysis" + HEADER_END
                return
        self.add_implicit_start()

    def add_content(self, content: str) -> list[Event]:
        self._acc += content
        events: list[Event] = []
        keep_going = True
        while keep_going:
            new, keep_going = self._eat()
            events.extend(new)
        return events

    def _eat(self) -> tuple[list[Event], bool]:
        acc = self._acc
        if self.state is _ParserState.LOOKING_FOR_MESSAGE_START:
            _before, found, after = acc.partition(MESSAGE_START)
            if not found:
                return [], False
            self._acc = after  # Go warns about text before the start tag and drops it
            self.state = _ParserState.PARSING_HEADER
            return [MessageStart()], True
        if self.state is _ParserState.PARSING_HEADER:
            header, found, after = acc.partition(HEADER_END)
            if not found:
                return [], False
            self._acc = after
            self.state = _ParserState.PARSING_CONTENT
            return [HeaderComplete(parse_header(header))], True
        content, found, after = acc.partition(MESSAGE_END)
        if found:
            self._acc = after
            self.state = _ParserState.LOOKING_FOR_MESSAGE_START
            events: list[Event] = [ContentEmitted(content)] if content else []
            events.append(MessageEnd())
            return events, True
        n = overlap(acc, MESSAGE_END)
        content, self._acc = acc[: len(acc) - n], acc[len(acc) - n :]
        return ([ContentEmitted(content)] if content else []), False


def parse_header(raw: str) -> Header:
    """`parseHeader`: role, channel and recipient out of the text between start and message tags."""
    if CONSTRAIN in raw:
        # give <|constrain|> a space before it so it is a separate token
        raw = trim_space(raw.replace(CONSTRAIN, " " + CONSTRAIN, 1))
    channel = ""
    i = raw.find(CHANNEL)
    if i != -1:
        before, after = raw[:i], raw[i + len(CHANNEL) :]
        end = next((j for j, c in enumerate(after) if is_space(c)), len(after))
        channel, after = after[:end], after[end:]
        raw = trim_space(before + after)
    tokens = fields(raw)
    if not tokens:
        return Header(channel=channel)  # Go logs "missing role in header"
    role, rest = tokens[0], tokens[1:]
    recipient = ""
    if role.startswith("to="):
        recipient, role = role[3:], "tool"
    if recipient == "" and rest and rest[0].startswith("to="):
        recipient = rest[0][3:]
    return Header(role, channel, recipient)


class FunctionNameMap:
    """Go's `FunctionNameMap`: the caller's function names <-> Harmony identifiers."""

    def __init__(self) -> None:
        self.user_to_harmony: dict[str, str] = {}
        self.harmony_to_user: dict[str, str] = {}

    def convert_and_add(self, user_name: str) -> str:
        harmony_name = self._derive_name(user_name)
        if user_name in BUILTIN_TOOLS:
            harmony_name = user_name
        self.user_to_harmony[user_name] = harmony_name
        self.harmony_to_user[harmony_name] = user_name
        return harmony_name

    def original_from_converted(self, harmony_name: str) -> str:
        # Go warns when there is no mapping and falls back to the name as written
        return self.harmony_to_user.get(harmony_name, harmony_name)

    @staticmethod
    def convert_to_valid_chars(user_name: str) -> str:
        """Space, `-` and `.` become `_`; letters, digits, `_` and `$` stay; the rest goes."""
        out = []
        for c in user_name:
            if c in " -.":
                out.append("_")
            elif c in "_$" or unicodedata.category(c)[0] == "L" or unicodedata.category(c) == "Nd":
                out.append(c)
        candidate = "".join(out)
        if candidate == "":
            return "unnamed"
        # Go tests the first *byte* with unicode.IsDigit: only an ASCII digit matches
        if candidate[0] in "0123456789":
            candidate = "_" + candidate
        return candidate

    def _derive_name(self, user_name: str) -> str:
        original = self.convert_to_valid_chars(user_name)
        candidate = original
        count = 2  # dupes are named f, f_2, f_3, ...
        while candidate in self.harmony_to_user:
            candidate = f"{original}_{count}"
            count += 1
        return candidate


class _MessageState(enum.Enum):
    NORMAL = 0
    THINKING = 1
    TOOL_CALLING = 2


class HarmonyMessageHandler:
    """Go's `HarmonyMessageHandler`, the `harmony` built-in parser; a new instance per request."""

    has_tool_support = True
    has_thinking_support = True

    def __init__(self) -> None:
        self._state = _MessageState.NORMAL
        self.harmony_parser = HarmonyParser()
        self.function_name_map = FunctionNameMap()
        # Go's HarmonyToolCallAccumulator: the recipient and the text of the tool-call messages
        self._tool_name: str | None = None
        self._tool_acc = ""

    def preserved_tokens(self) -> list[str]:
        # <|call|> ends generation for a tool call: llama.cpp must stop on it, so it is not kept
        return [MESSAGE_START, MESSAGE_END, HEADER_END, CHANNEL, CONSTRAIN]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        """Feed the implicit start (or prefill) and rename the tools; returns the renamed tools."""
        self.harmony_parser.add_implicit_start_or_prefill(last_message)
        self._tool_name, self._tool_acc = None, ""
        if not tools:
            return tools
        processed: list[dict[str, Any]] = []
        for tool in tools:
            fn = tool.get("function")
            name = fn.get("name") if isinstance(fn, dict) else None
            if isinstance(fn, dict) and isinstance(name, str) and name != "":
                tool = {**tool, "function": {**fn, "name": self.function_name_map.convert_and_add(name)}}
            processed.append(tool)
        return processed

    def add_content(self, text: str) -> tuple[str, str, str]:
        """`AddContent`: (content, thinking, tool-call text) from a piece."""
        content: list[str] = []
        thinking: list[str] = []
        tool: list[str] = []
        for event in self.harmony_parser.add_content(text):
            if isinstance(event, HeaderComplete):
                h = event.header
                if h.channel in ("analysis", "commentary"):
                    if h.recipient != "":
                        # a built-in like browser.search, or functions.NAME for the caller's tools
                        self._state = _MessageState.TOOL_CALLING
                        self._tool_name = h.recipient
                    else:
                        is_analysis = h.channel == "analysis"
                        self._state = _MessageState.THINKING if is_analysis else _MessageState.NORMAL
                elif h.channel == "final":
                    self._state = _MessageState.NORMAL
            elif isinstance(event, ContentEmitted):
                if self._state is _MessageState.NORMAL:
                    content.append(event.content)
                elif self._state is _MessageState.THINKING:
                    thinking.append(event.content)
                else:
                    tool.append(event.content)
            elif isinstance(event, MessageEnd):
                self._state = _MessageState.NORMAL
        return "".join(content), "".join(thinking), "".join(tool)

    def add(self, text: str, done: bool) -> Parsed:
        content, thinking, tool_content = self.add_content(text)
        self._tool_acc += tool_content
        calls: list[ToolCall] = []
        if done:
            # tool calls come one at a time, at the end of a message: parse when the stream ends
            tool_name, raw = self._tool_name, self._tool_acc
            self._tool_acc = ""
            if tool_name is not None:
                name = self.function_name_map.original_from_converted(tool_name.removeprefix("functions."))
                try:
                    args = go_json.unmarshal_arguments(raw)
                except go_json.JSONError as e:
                    raise ParserError(f"error parsing tool call: raw='{raw}', err={e}") from None
                calls.append(ToolCall(name=name, arguments=args))
        return Parsed(content, thinking, calls)
