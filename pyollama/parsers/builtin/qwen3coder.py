"""Qwen3-Coder's XML-like tool calls (Ollama's model/parsers/qwen3coder.go).

PARSER `qwen3-coder`: content, and calls written as

    <tool_call>
    <function=get_weather>
    <parameter=city>
    Paris
    </parameter>
    </function>
    </tool_call>

Content streams as it comes, less trailing whitespace (held back: it is dropped before a tool call).
Inside a call nothing streams; the call is parsed when `</tool_call>` arrives. Ollama rewrites it
into XML (`<function name="get_weather">`, the text escaped) and decodes it with Go's
`encoding/xml`; `_decode_xml` follows that decoder on these documents, errors and their wording
included (`XML syntax error on line 5: element <parameter> closed by </function>`), and such an
error ends the stream. Each parameter's text (one leading and one trailing newline dropped) is
converted by the type the tool's JSON schema gives it (`anyOf` types pooled); see
`pyollama.parsers.common.parse_value`.

The last `add` (`done`) is not special, as in Ollama: held-back trailing whitespace is dropped.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from pyollama.go.strings import trim_left_space, trim_right_space
from pyollama.parsers import Parsed, ParserError, Think
from pyollama.parsers.common import find_tool, overlap, parameter_types, parse_value, trailing_whitespace_len
from pyollama.runner.types import ToolCall

TOOL_OPEN = "<tool_call>"
TOOL_CLOSE = "</tool_call>"


class _State(enum.Enum):
    LOOKING_FOR_TOOL_START = 0
    COLLECTING_TOOL_CONTENT = 1


class Qwen3CoderParser:
    """Go's `Qwen3CoderParser`; a new instance per request."""

    has_tool_support = True
    has_thinking_support = False

    def __init__(self) -> None:
        self._state = _State.LOOKING_FOR_TOOL_START
        self._acc = ""
        self._tools: list[dict[str, Any]] = []
        self._call_index = 0

    def preserved_tokens(self) -> list[str]:
        return [TOOL_OPEN, TOOL_CLOSE]

    def init(
        self, tools: list[dict[str, Any]] | None, last_message: dict[str, Any] | None, think: Think
    ) -> list[dict[str, Any]] | None:
        self._tools = list(tools or [])
        self._call_index = 0
        return tools

    def add(self, text: str, done: bool) -> Parsed:
        self._acc += text
        content: list[str] = []
        calls: list[ToolCall] = []
        for is_call, value in self._parse_events():
            if is_call:
                call = parse_tool_call(value, self._tools)  # ParserError: this piece is dropped
                call.index = self._call_index
                self._call_index += 1
                calls.append(call)
            else:
                # Go appends interleaved content events together (its TODO): so do we
                content.append(value)
        return Parsed("".join(content), "", calls)

    def _parse_events(self) -> list[tuple[bool, str]]:
        events: list[tuple[bool, str]] = []
        keep_going = True
        while keep_going:
            new, keep_going = self._eat()
            events.extend(new)
        return events

    def _eat(self) -> tuple[list[tuple[bool, str]], bool]:
        """Go's `eat`: events as (is_call, text), and whether the state changed."""
        acc = self._acc
        if self._state is _State.LOOKING_FOR_TOOL_START:
            before, found, after = acc.partition(TOOL_OPEN)
            if found:
                before = trim_right_space(before)
                self._acc = after
                self._state = _State.COLLECTING_TOOL_CONTENT
                return ([(False, before)] if before else []), True
            # hold back a possible partial tag and the whitespace before it (or the trailing
            # whitespace: it is dropped if a tool call follows)
            before_partial = acc[: len(acc) - overlap(acc, TOOL_OPEN)]
            start = len(before_partial) - trailing_whitespace_len(before_partial)
            unambiguous, self._acc = acc[:start], acc[start:]
            return ([(False, unambiguous)] if unambiguous else []), False
        before, found, after = acc.partition(TOOL_CLOSE)
        if found:
            self._acc = trim_left_space(after)
            self._state = _State.LOOKING_FOR_TOOL_START
            return [(True, before)], True
        return [], False


# --- the call: XML as Go's encoding/xml reads it -------------------------------------------------

_TAG_RE = re.compile(r"<([0-9A-Za-z_]+)=([^>]+)>")  # Go's \w is ASCII
_XML_TAG_RE = re.compile(r'<(/?)(function|parameter)(?:([\t\n\f\r ]+)name="([^"]*)")?>')  # Go's \s
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}
_XML_ESC = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\t": "&#x9;"}
_XML_ESC |= {"\n": "&#xA;", "\r": "&#xD;"}
_TEXT_ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_NAME_BYTES = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-")


def _in_char_range(c: str) -> bool:
    """encoding/xml's `isInCharacterRange`: the characters XML allows."""
    r = ord(c)
    return r in (0x09, 0x0A, 0x0D) or 0x20 <= r <= 0xD7FF or 0xE000 <= r <= 0xFFFD or 0x10000 <= r <= 0x10FFFF


def _xml_escape_text(s: str) -> str:
    """`xml.EscapeText`: quotes, angle brackets, ampersand, tab and newlines as references; a
    character XML forbids becomes U+FFFD."""
    return "".join(_XML_ESC.get(c) or (c if _in_char_range(c) else "\ufffd") for c in s)


def transform_to_xml(raw: str) -> str:
    """`transformToXML`: `<tag=value>` into `<tag name="value">`, and the text between the
    function/parameter tags escaped (so `&`, `<` and `>` in values are plain text)."""
    transformed = _TAG_RE.sub(lambda m: f'<{m[1]} name="{_xml_escape_text(m[2])}">', raw)
    out: list[str] = []
    last = 0
    for m in _XML_TAG_RE.finditer(transformed):
        if m.start() > last:
            out.append(_escape_text_node(transformed[last : m.start()]))
        out.append(m[0])
        last = m.end()
    if last < len(transformed):
        out.append(_escape_text_node(transformed[last:]))
    return "".join(out)


def _escape_text_node(s: str) -> str:
    return "".join(_TEXT_ESC.get(c, c) for c in s)


class _Tok(NamedTuple):
    kind: str  # "start", "end" or "text"
    name: str  # element name, or the text
    attr: str | None  # the start tag's name="..." value
    end: int  # where the token ends in the document (Go's line counter is read there)


class _XMLDoc:
    """The transformed document as Go's Decoder reads it: tokens are made lazily, since Go stops
    reading at the end of the root element and never sees errors after it."""

    def __init__(self, doc: str) -> None:
        self.doc = doc

    def line_at(self, pos: int) -> int:
        return 1 + self.doc.count("\n", 0, pos)

    def error(self, msg: str, pos: int) -> ParserError:
        return ParserError(f"XML syntax error on line {self.line_at(pos)}: {msg}")

    def tokens(self) -> Iterator[_Tok]:
        doc = self.doc
        last = 0
        for m in _XML_TAG_RE.finditer(doc):
            if m.start() > last:
                yield self._text(last, m.start())
            yield self._tag(m)
            last = m.end()
        if last < len(doc):
            yield self._text(last, len(doc))

    def _text(self, start: int, end: int) -> _Tok:
        # the text was escaped by transform_to_xml, so only &amp; &lt; &gt; occur; Go rewrites a raw
        # \r\n or \r to \n and refuses characters XML forbids
        s = self.doc[start:end].replace("\r\n", "\n").replace("\r", "\n")
        s = s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        self._check_chars(s, end)
        return _Tok("text", s, None, end)

    def _check_chars(self, s: str, pos: int) -> None:
        for c in s:
            if not _in_char_range(c):
                raise self.error(f"illegal character code U+{ord(c):04X}", pos)

    def _tag(self, m: re.Match[str]) -> _Tok:
        name = m[2]
        ws = m[3]
        if m[1]:  # </name>
            if ws is not None:  # Go reads no attributes in an end tag
                pos = m.start(3) + len(ws) - len(ws.lstrip(" \r\n\t"))
                raise self.error(f"invalid characters between </{name} and >", pos + 1)
            return _Tok("end", name, None, m.end())
        attr = None
        if ws is not None:
            stripped = ws.lstrip(" \r\n\t")
            if stripped:  # \f: Go's space() does not skip it, and it starts no attribute name
                raise self.error("expected attribute name in element", m.end(3) - len(stripped))
            attr = self._attr_value(m[4], m.start(4))
        return _Tok("start", name, attr, m.end())

    def _attr_value(self, raw: str, start: int) -> str:
        """Go's `text(quote)` over an attribute value: references decoded, strictly."""
        out: list[str] = []
        i, n = 0, len(raw)
        after_cr = False
        while i < n:
            c = raw[i]
            if c == "<":
                raise self.error("unescaped < inside quoted string", start + i + 1)
            if c == "&":
                text, i = self._entity(raw, i, start)
                out.append(text)
                after_cr = False
                continue
            if c == "\r":
                out.append("\n")
            elif not (c == "\n" and after_cr):
                out.append(c)
            after_cr = c == "\r"
            i += 1
        value = "".join(out)
        self._check_chars(value, start + n + 1)
        return value

    def _entity(self, raw: str, i: int, start: int) -> tuple[str, int]:
        """A reference at raw[i] ('&'): its text and the index after it, or Go's error."""
        j = i + 1
        n = len(raw)
        if j < n and raw[j] == "#":
            j += 1
            base = 10
            if j < n and raw[j] == "x":
                base, j = 16, j + 1
            digits = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
            k = j
            while k < n and raw[k] in digits:
                k += 1
            if k < n and raw[k] == ";":
                if k > j and int(raw[j:k], base) <= 0x10FFFF:
                    r = int(raw[j:k], base)
                    return ("\ufffd" if 0xD800 <= r <= 0xDFFF else chr(r)), k + 1
                raise self.error(f"invalid character entity {raw[i : k + 1]}", start + k + 1)
            raise self.error(f"invalid character entity {raw[i:k]} (no semicolon)", start + k)
        k = j
        while k < n and (raw[k] >= "\x80" or raw[k] in _NAME_BYTES):
            k += 1
        if k < n and raw[k] == ";":
            text = _ENTITIES.get(raw[j:k])
            if text is not None:
                return text, k + 1
            raise self.error(f"invalid character entity {raw[i : k + 1]}", start + k + 1)
        raise self.error(f"invalid character entity {raw[i:k]} (no semicolon)", start + k)


def _decode_xml(doc: str) -> tuple[str, list[tuple[str, str]]]:
    """`xml.Unmarshal(doc, &XMLFunctionCall)`: the function's name and its (name, text) parameters.

    The root must be <function>; text outside <parameter> and elements nested in a parameter are
    skipped; each parameter's text is what sits directly inside it."""
    reader = _XMLDoc(doc)
    toks = reader.tokens()
    stack: list[str] = []

    def token() -> _Tok:
        # Go's Decoder.Token in strict mode: an end tag must close the innermost open element
        tok = next(toks, None)
        if tok is None:
            if stack:
                raise reader.error("unexpected EOF", len(doc))
            raise ParserError("EOF")
        if tok.kind == "start":
            stack.append(tok.name)
        elif tok.kind == "end":
            if not stack:
                raise reader.error(f"unexpected end element </{tok.name}>", tok.end)
            top = stack.pop()
            if top != tok.name:
                raise reader.error(f"element <{top}> closed by </{tok.name}>", tok.end)
        return tok

    def skip() -> None:
        depth = 0
        while True:
            tok = token()
            if tok.kind == "start":
                depth += 1
            elif tok.kind == "end":
                if depth == 0:
                    return
                depth -= 1

    root = token()
    while root.kind != "start":
        root = token()
    if root.name != "function":
        raise ParserError(f"expected element type <function> but have <{root.name}>")
    params: list[tuple[str, str]] = []
    while True:
        tok = token()
        if tok.kind == "end":
            break
        if tok.kind != "start":
            continue
        if tok.name != "parameter":
            skip()
            continue
        chunks: list[str] = []
        while True:
            inner = token()
            if inner.kind == "end":
                break
            if inner.kind == "start":
                skip()
            else:
                chunks.append(inner.name)
        params.append((tok.attr or "", "".join(chunks)))
    return root.attr or "", params


def parse_tool_call(raw: str, tools: list[dict[str, Any]]) -> ToolCall:
    """`parseToolCall`: one call's raw text (between the tool-call tags) into a ToolCall."""
    name, params = _decode_xml(transform_to_xml(raw))
    tool = find_tool(tools, name)
    args: dict[str, Any] = {}
    for pname, value in params:
        args[pname] = parse_value(value, parameter_types(tool, pname))
    return ToolCall(name=name, arguments=args)
