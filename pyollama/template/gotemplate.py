"""A Go `text/template` subset: lexer, parser to an AST, executor.

Ollama models carry Go templates (Modelfile TEMPLATE) and pyollama must render them itself, byte for
byte as Go does, so this follows `text/template/parse` (lex.go, parse.go, node.go) and
`text/template/exec.go`/`funcs.go` closely, including error messages (`template: :1: ...`) and the
quirk of `missingkey=zero` on `map[string]any`: a missing key is a nil interface, which reads false in
`if`, compares unequal in `eq`, and prints as `<no value>` (exactly what Ollama emits).

Supported: text and actions with `{{-`/`-}}` trimming, comments, pipelines, fields/chains, variables
(`:=`, `=`, two-variable `range`), `if`/`else if`/`else`, `range` (slices, maps, ints, `else`,
`break`, `continue`), `with`/`else with`, `define`/`template`/`block`, all literals, parenthesised
pipelines, Go's builtin functions plus Ollama's `json`, `currentDate`, `yesterdayDate`,
`toTypeScriptType`. Not supported: method calls on values, `call`, complex numbers.
"""

from __future__ import annotations

import copy
import datetime as _dt
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pyollama.errors import BadRequest
from pyollama.template.govalues import (
    GoStruct,
    OrderedMap,
    go_json,
    go_sprint,
    go_sprint_value,
    go_sprintf,
    go_sprintln,
    go_type_name,
    sorted_keys,
)

__all__ = [
    "FUNCS",
    "Template",
    "TemplateError",
    "parse",
]


class TemplateError(BadRequest):
    """A template that does not parse or does not execute; the message reads like Go's."""


# === lexer =======================================================================================

T_ERROR = "error"
T_EOF = "EOF"
T_TEXT = "text"
T_LEFT = "leftDelim"
T_RIGHT = "rightDelim"
T_SPACE = "space"
T_FIELD = "field"
T_VARIABLE = "variable"
T_IDENT = "identifier"
T_DOT = "dot"
T_STRING = "string"
T_RAW = "rawString"
T_CHAR = "charConstant"
T_NUMBER = "number"
T_BOOL = "bool"
T_NIL = "nil"
T_PIPE = "pipe"
T_LPAREN = "leftParen"
T_RPAREN = "rightParen"
T_DECLARE = "declare"
T_ASSIGN = "assign"
T_COMMA = "char"
T_COMMENT = "comment"

KEYWORDS = {
    "block",
    "break",
    "continue",
    "define",
    "else",
    "end",
    "if",
    "range",
    "nil",
    "template",
    "with",
}
_KEYWORD_TYPES = KEYWORDS - {"nil"}

_SPACE = " \t\r\n"


@dataclass(slots=True)
class Item:
    typ: str
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        """Go's item.String(), used in `unexpected X in Y` messages."""
        if self.typ == T_EOF:
            return "EOF"
        if self.typ == T_ERROR:
            return self.val
        if self.typ in _KEYWORD_TYPES:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return _go_q(self.val[:10]) + "..."
        return _go_q(self.val)


def _go_q(s: str) -> str:
    from pyollama.template.govalues import go_quote

    return go_quote(s)


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalnum()


class _Lexer:
    """Go's lex.go as a straight loop: text, then tokens inside each action."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.items: list[Item] = []
        self.line = 1

    def emit(self, typ: str, start: int, end: int, val: str | None = None) -> None:
        text = self.src[start:end]
        self.items.append(Item(typ, text if val is None else val, start, self.line))
        self.line += text.count("\n")

    def error(self, msg: str, pos: int) -> list[Item]:
        self.items.append(Item(T_ERROR, msg, pos, self.line))
        return self.items

    def run(self) -> list[Item]:
        src = self.src
        pos = 0
        n = len(src)
        trim_next = False
        while True:
            if trim_next:
                while pos < n and src[pos] in _SPACE:
                    if src[pos] == "\n":
                        self.line += 1
                    pos += 1
                trim_next = False
            x = src.find("{{", pos)
            if x < 0:
                if pos < n:
                    self.emit(T_TEXT, pos, n)
                self.items.append(Item(T_EOF, "", n, self.line))
                return self.items
            left_trim = src.startswith("-", x + 2) and x + 3 < n and src[x + 3] in _SPACE
            text_end = x
            if left_trim:
                text_end = len(src[pos:x].rstrip(_SPACE)) + pos
            if text_end > pos:
                self.emit(T_TEXT, pos, text_end)
            self.line += src[text_end:x].count("\n")
            # left delimiter
            after = x + 2 + (2 if left_trim else 0)
            if src.startswith("/*", after):
                end = src.find("*/", after + 2)
                if end < 0:
                    return self.error("unclosed comment", x)
                self.line += src[x:end].count("\n")
                p = end + 2
                if src.startswith("}}", p):
                    pos = p + 2
                elif p + 1 < n and src[p] in _SPACE and src.startswith("-}}", p + 1):
                    pos = p + 4
                    trim_next = True
                else:
                    return self.error("comment ends before closing delimiter", x)
                continue
            self.items.append(Item(T_LEFT, "{{", x, self.line))
            pos = x + 2 + (1 if left_trim else 0)
            res = self._inside(pos)
            if res is None:
                return self.items
            pos, trim_next = res

    def _inside(self, pos: int) -> tuple[int, bool] | None:
        """Tokens of one action; returns the position after `}}` and whether to trim after it."""
        src = self.src
        n = len(src)
        depth = 0
        while True:
            trim = pos < n and src[pos] in _SPACE and src.startswith("-}}", pos + 1)
            if trim or src.startswith("}}", pos):
                if depth > 0:
                    self.error("unclosed left paren", pos)
                    return None
                if trim:
                    self.line += src[pos] == "\n"
                    pos += 2
                self.items.append(Item(T_RIGHT, "}}", pos, self.line))
                return pos + 2, trim
            if pos >= n:
                self.error("unclosed action", pos)
                return None
            c = src[pos]
            if c in _SPACE:
                start = pos
                while pos < n and src[pos] in _SPACE and not src.startswith("-}}", pos + 1):
                    pos += 1
                self.emit(T_SPACE, start, pos)
                continue
            if c == "=":
                self.emit(T_ASSIGN, pos, pos + 1)
                pos += 1
            elif c == ":":
                if not src.startswith(":=", pos):
                    self.error("expected :=", pos)
                    return None
                self.emit(T_DECLARE, pos, pos + 2)
                pos += 2
            elif c == "|":
                self.emit(T_PIPE, pos, pos + 1)
                pos += 1
            elif c == '"':
                p = pos + 1
                while True:
                    if p >= n or src[p] == "\n":
                        self.error("unterminated quoted string", pos)
                        return None
                    if src[p] == "\\":
                        p += 2
                        continue
                    if src[p] == '"':
                        break
                    p += 1
                self.emit(T_STRING, pos, p + 1)
                pos = p + 1
            elif c == "`":
                p = src.find("`", pos + 1)
                if p < 0:
                    self.error("unterminated raw quoted string", pos)
                    return None
                self.emit(T_RAW, pos, p + 1)
                pos = p + 1
            elif c == "'":
                p = pos + 1
                while True:
                    if p >= n or src[p] == "\n":
                        self.error("unterminated character constant", pos)
                        return None
                    if src[p] == "\\":
                        p += 2
                        continue
                    if src[p] == "'":
                        break
                    p += 1
                self.emit(T_CHAR, pos, p + 1)
                pos = p + 1
            elif c == "$":
                p = pos + 1
                while p < n and _is_alnum(src[p]):
                    p += 1
                if not self._at_terminator(p):
                    self.error(f"bad character {_unicode_name(src[p])}", p)
                    return None
                self.emit(T_VARIABLE, pos, p)
                pos = p
            elif c == "." and not (pos + 1 < n and src[pos + 1].isdigit()):
                p = pos + 1
                if p < n and _is_alnum(src[p]):
                    while p < n and _is_alnum(src[p]):
                        p += 1
                    if not self._at_terminator(p):
                        self.error(f"bad character {_unicode_name(src[p])}", p)
                        return None
                    self.emit(T_FIELD, pos, p)
                else:
                    self.emit(T_DOT, pos, p)
                pos = p
            elif c in "+-." or c.isdigit():
                end = self._scan_number(pos)
                if end is None:
                    return None
                self.emit(T_NUMBER, pos, end)
                pos = end
            elif _is_alnum(c):
                p = pos
                while p < n and _is_alnum(src[p]):
                    p += 1
                if not self._at_terminator(p):
                    self.error(f"bad character {_unicode_name(src[p])}", p)
                    return None
                word = src[pos:p]
                if word in KEYWORDS:
                    self.emit(word, pos, p)
                elif word in ("true", "false"):
                    self.emit(T_BOOL, pos, p)
                else:
                    self.emit(T_IDENT, pos, p)
                pos = p
            elif c == "(":
                depth += 1
                self.emit(T_LPAREN, pos, pos + 1)
                pos += 1
            elif c == ")":
                depth -= 1
                if depth < 0:
                    self.error("unexpected right paren", pos)
                    return None
                self.emit(T_RPAREN, pos, pos + 1)
                pos += 1
            elif c == ",":
                self.emit(T_COMMA, pos, pos + 1)
                pos += 1
            else:
                self.error(f"unrecognized character in action: {_unicode_name(c)}", pos)
                return None

    def _at_terminator(self, p: int) -> bool:
        if p >= len(self.src):
            return True
        c = self.src[p]
        if c in _SPACE or c in ".,|:()":
            return True
        return self.src.startswith("}}", p)

    def _scan_number(self, pos: int) -> int | None:
        src = self.src
        n = len(src)
        p = pos
        if p < n and src[p] in "+-":
            p += 1
        digits = "0123456789_"
        if src.startswith(("0x", "0X"), p):
            p += 2
            digits = "0123456789abcdefABCDEF_"
        elif src.startswith(("0o", "0O"), p):
            p += 2
            digits = "01234567_"
        elif src.startswith(("0b", "0B"), p):
            p += 2
            digits = "01_"
        while p < n and src[p] in digits:
            p += 1
        if p < n and src[p] == ".":
            p += 1
            while p < n and src[p] in digits:
                p += 1
        exp_chars = "eE" if len(digits) == 11 else "pP" if len(digits) == 23 else ""
        if p < n and exp_chars and src[p] in exp_chars:
            p += 1
            if p < n and src[p] in "+-":
                p += 1
            while p < n and src[p] in "0123456789_":
                p += 1
        if p < n and src[p] == "i":
            p += 1
        if p < n and _is_alnum(src[p]):
            self.error(f"bad number syntax: {_go_q(src[pos : p + 1])}", pos)
            return None
        return p


def _unicode_name(c: str) -> str:
    """Go's %#U: U+0023 '#'."""
    return f"U+{ord(c):04X} '{c}'"


# === AST =========================================================================================


@dataclass
class Node:
    pos: int
    line: int


@dataclass
class TextNode(Node):
    text: str


@dataclass
class FieldNode(Node):
    ident: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass
class VariableNode(Node):
    ident: list[str]

    def __str__(self) -> str:
        return self.ident[0] + "".join("." + i for i in self.ident[1:])


@dataclass
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass
class NilNode(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass
class BoolNode(Node):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass
class NumberNode(Node):
    value: int | float
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class StringNode(Node):
    value: str
    quoted: str

    def __str__(self) -> str:
        return self.quoted


@dataclass
class IdentifierNode(Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class ChainNode(Node):
    node: Node
    field: list[str]

    def __str__(self) -> str:
        inner = str(self.node)
        if isinstance(self.node, PipeNode):
            inner = "(" + inner + ")"
        return inner + "".join("." + f for f in self.field)


@dataclass
class CommandNode(Node):
    args: list[Node]

    def __str__(self) -> str:
        parts = []
        for a in self.args:
            parts.append("(" + str(a) + ")" if isinstance(a, PipeNode) else str(a))
        return " ".join(parts)


@dataclass
class PipeNode(Node):
    is_assign: bool
    decl: list[VariableNode]
    cmds: list[CommandNode]

    def __str__(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


@dataclass
class ActionNode(Node):
    pipe: PipeNode

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)


@dataclass
class BranchNode(Node):
    pipe: PipeNode
    list: ListNode
    else_list: ListNode | None


@dataclass
class IfNode(BranchNode):
    pass


@dataclass
class RangeNode(BranchNode):
    pass


@dataclass
class WithNode(BranchNode):
    pass


@dataclass
class TemplateNode(Node):
    name: str
    pipe: PipeNode | None


@dataclass
class BreakNode(Node):
    pass


@dataclass
class ContinueNode(Node):
    pass


@dataclass
class _EndNode(Node):
    pass


@dataclass
class _ElseNode(Node):
    pass


# === parser ======================================================================================


class _ParseError(Exception):
    pass


def _unquote(tok: Item) -> str:
    """strconv.Unquote for Go "..." and `...` literals."""
    s = tok.val
    if s.startswith("`"):
        return s[1:-1].replace("\r", "")
    body = s[1:-1]
    out: list[str] = []
    i = 0
    pending = bytearray()

    def flush() -> None:
        if pending:
            out.append(pending.decode("utf-8", errors="replace"))
            pending.clear()

    simple = {
        "a": "\a",
        "b": "\b",
        "f": "\f",
        "n": "\n",
        "r": "\r",
        "t": "\t",
        "v": "\v",
        "\\": "\\",
        '"': '"',
    }
    while i < len(body):
        c = body[i]
        if c != "\\":
            flush()
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("bad escape")
        e = body[i + 1]
        if e in simple:
            flush()
            out.append(simple[e])
            i += 2
        elif e == "x":
            pending.append(int(body[i + 2 : i + 4], 16))
            i += 4
        elif e in "01234567":
            pending.append(int(body[i + 1 : i + 4], 8))
            i += 4
        elif e == "u":
            flush()
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif e == "U":
            flush()
            out.append(chr(int(body[i + 2 : i + 10], 16)))
            i += 10
        else:
            raise ValueError("bad escape")
    flush()
    return "".join(out)


def _parse_number(tok: Item) -> NumberNode:
    text = tok.val
    t = text.replace("_", "")
    if tok.typ == T_CHAR:
        inner = _unquote(Item(T_STRING, '"' + text[1:-1].replace('"', '\\"') + '"', 0, 0))
        if len(inner) != 1:
            raise _ParseError(f"malformed character constant: {text}")
        return NumberNode(tok.pos, tok.line, ord(inner), text)
    if t.endswith("i"):
        raise _ParseError(f"complex numbers are not supported: {text}")
    try:
        low = t.lower().lstrip("+-")
        is_float = (("." in low or "e" in low) and not low.startswith("0x")) or "p" in low
        if not is_float:
            return NumberNode(tok.pos, tok.line, int(t, 0) if not _legacy_octal(t) else int(t, 8), text)
        if low.startswith("0x"):
            return NumberNode(tok.pos, tok.line, float.fromhex(t), text)
        return NumberNode(tok.pos, tok.line, float(t), text)
    except ValueError:
        raise _ParseError(f"illegal number syntax: {_go_q(text)}") from None


def _legacy_octal(t: str) -> bool:
    d = t.lstrip("+-")
    return len(d) > 1 and d[0] == "0" and d[1].isdigit()


class _Parser:
    """Go's parse.go: recursive descent over the item list with Go's error messages."""

    def __init__(self, name: str, src: str, funcs: dict[str, Any]) -> None:
        self.name = name
        self.items = _Lexer(src).run()
        self.i = 0
        self.funcs = funcs
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.defines: dict[str, ListNode] = {}
        self.action_line = 0
        self.cur_line = 1

    # -- token helpers
    def next(self) -> Item:
        it = self.items[min(self.i, len(self.items) - 1)]
        self.i += 1
        self.cur_line = it.line
        return it

    def backup(self, k: int = 1) -> None:
        self.i -= k

    def peek(self) -> Item:
        return self.items[min(self.i, len(self.items) - 1)]

    def next_non_space(self) -> Item:
        while True:
            it = self.next()
            if it.typ != T_SPACE:
                return it

    def peek_non_space(self) -> Item:
        it = self.next_non_space()
        self.i -= 1
        # step back over the consumed item only (spaces stay consumed, as in Go)
        return it

    def errorf(self, msg: str, line: int | None = None) -> _ParseError:
        return _ParseError(f"template: {self.name}:{line if line is not None else self.cur_line}: {msg}")

    def unexpected(self, it: Item, context: str) -> _ParseError:
        if it.typ == T_ERROR:
            extra = ""
            if self.action_line and self.action_line != it.line:
                extra = f" in action started at {self.name}:{self.action_line}"
            return self.errorf(f"{it}{extra}", it.line)
        return self.errorf(f"unexpected {it} in {context}", it.line)

    def expect(self, typ: str, context: str) -> Item:
        it = self.next_non_space()
        if it.typ != typ:
            raise self.unexpected(it, context)
        return it

    # -- top level
    def parse(self) -> ListNode:
        root = ListNode(0, 1)
        while self.peek().typ != T_EOF:
            if self.peek().typ == T_LEFT:
                save = self.i
                self.next()
                if self.next_non_space().typ == "define":
                    self.parse_definition()
                    continue
                self.i = save
            n = self.text_or_action()
            if isinstance(n, _EndNode | _ElseNode):
                raise self.errorf(f"unexpected {self._node_name(n)}", n.line)
            root.nodes.append(n)
        return root

    @staticmethod
    def _node_name(n: Node) -> str:
        return "{{end}}" if isinstance(n, _EndNode) else "{{else}}"

    def parse_definition(self) -> None:
        tok = self.next_non_space()
        if tok.typ not in (T_STRING, T_RAW):
            raise self.unexpected(tok, "define clause")
        name = _unquote(tok)
        self.expect(T_RIGHT, "define clause")
        saved = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved
        if not isinstance(end, _EndNode):
            raise self.errorf(f"unexpected {self._node_name(end)} in define clause", end.line)
        self.defines[name] = body

    def item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek().pos, self.peek().line)
        while self.peek_non_space().typ != T_EOF:
            n = self.text_or_action()
            if isinstance(n, _EndNode | _ElseNode):
                return lst, n
            lst.nodes.append(n)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> Node:
        tok = self.next_non_space()
        if tok.typ == T_TEXT:
            return TextNode(tok.pos, tok.line, tok.val)
        if tok.typ == T_LEFT:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        raise self.unexpected(tok, "input")

    def action(self) -> Node:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == "block":
            return self.block_control(tok)
        if typ == "break":
            return self.break_control(tok, "break")
        if typ == "continue":
            return self.break_control(tok, "continue")
        if typ == "else":
            return self.else_control(tok)
        if typ == "end":
            self.expect(T_RIGHT, "end")
            return _EndNode(tok.pos, tok.line)
        if typ == "if":
            return self.parse_control(IfNode, "if", tok)
        if typ == "range":
            return self.parse_control(RangeNode, "range", tok)
        if typ == "template":
            return self.template_control(tok)
        if typ == "with":
            return self.parse_control(WithNode, "with", tok)
        self.backup()
        tok = self.peek()
        return ActionNode(tok.pos, tok.line, self.pipeline("command", T_RIGHT))

    def break_control(self, tok: Item, word: str) -> Node:
        nxt = self.next_non_space()
        if nxt.typ != T_RIGHT:
            raise self.unexpected(nxt, "{{" + word + "}}")
        if self.range_depth == 0:
            raise self.errorf("{{" + word + "}} outside {{range}}", tok.line)
        return BreakNode(tok.pos, tok.line) if word == "break" else ContinueNode(tok.pos, tok.line)

    def else_control(self, tok: Item) -> Node:
        peek = self.peek_non_space()
        if peek.typ in ("if", "with"):
            return _ElseNode(peek.pos, peek.line)
        self.expect(T_RIGHT, "else")
        return _ElseNode(tok.pos, tok.line)

    def parse_control(self, cls: type[BranchNode], context: str, tok: Item) -> BranchNode:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, T_RIGHT)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(nxt, _ElseNode):
                if context == "if" and self.peek().typ == "if":
                    t2 = self.next()
                    else_list = ListNode(nxt.pos, nxt.line, [self.parse_control(IfNode, "if", t2)])
                elif context == "with" and self.peek().typ == "with":
                    t2 = self.next()
                    else_list = ListNode(nxt.pos, nxt.line, [self.parse_control(WithNode, "with", t2)])
                else:
                    else_list, nxt2 = self.item_list()
                    if not isinstance(nxt2, _EndNode):
                        raise self.errorf(f"expected end; found {self._node_name(nxt2)}", nxt2.line)
            return cls(tok.pos, tok.line, pipe, lst, else_list)
        finally:
            del self.vars[mark:]

    def template_control(self, tok: Item) -> Node:
        context = "template clause"
        tname = self.next_non_space()
        if tname.typ not in (T_STRING, T_RAW):
            raise self.unexpected(tname, context)
        name = _unquote(tname)
        pipe: PipeNode | None = None
        if self.next_non_space().typ != T_RIGHT:
            self.backup()
            pipe = self.pipeline(context, T_RIGHT)
        return TemplateNode(tok.pos, tok.line, name, pipe)

    def block_control(self, tok: Item) -> Node:
        context = "block clause"
        tname = self.next_non_space()
        if tname.typ not in (T_STRING, T_RAW):
            raise self.unexpected(tname, context)
        name = _unquote(tname)
        pipe = self.pipeline(context, T_RIGHT)
        saved = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved
        if not isinstance(end, _EndNode):
            raise self.errorf(f"unexpected {self._node_name(end)} in {context}", end.line)
        self.defines[name] = body
        return TemplateNode(tok.pos, tok.line, name, pipe)

    def pipeline(self, context: str, end: str) -> PipeNode:
        tok = self.peek_non_space()
        pipe = PipeNode(tok.pos, tok.line, False, [], [])
        # declarations
        while True:
            v = self.peek_non_space()
            if v.typ != T_VARIABLE:
                break
            save = self.i
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.typ in (T_ASSIGN, T_DECLARE):
                pipe.is_assign = nxt.typ == T_ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.line, [v.val]))
                self.vars.append(v.val)
                break
            if nxt.typ == T_COMMA and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.line, [v.val]))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T_VARIABLE, T_RIGHT, T_RPAREN):
                        continue
                    raise self.errorf("range can only initialize variables", v.line)
                raise self.errorf(f"too many declarations in {context}", v.line)
            self.i = save  # not a declaration: rewind to the variable
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (
                T_BOOL,
                T_CHAR,
                T_DOT,
                T_FIELD,
                T_IDENT,
                T_NUMBER,
                T_NIL,
                T_RAW,
                T_STRING,
                T_VARIABLE,
                T_LPAREN,
            ):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(tok, context)

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.errorf(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], BoolNode | DotNode | NilNode | NumberNode | StringNode):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> CommandNode:
        tok = self.peek_non_space()
        cmd = CommandNode(tok.pos, tok.line, [])
        while True:
            self.peek_non_space()
            op = self.operand()
            if op is not None:
                cmd.args.append(op)
            tok = self.next()
            if tok.typ == T_SPACE:
                continue
            if tok.typ in (T_RIGHT, T_RPAREN):
                self.backup()
            elif tok.typ == T_PIPE:
                pass
            else:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T_FIELD:
            fields: list[str] = []
            while self.peek().typ == T_FIELD:
                fields.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                return FieldNode(node.pos, node.line, node.ident + fields)
            if isinstance(node, VariableNode):
                return VariableNode(node.pos, node.line, node.ident + fields)
            if isinstance(node, BoolNode | StringNode | NumberNode | NilNode | DotNode):
                raise self.errorf(f"unexpected . after term {_go_q(str(node))}")
            return ChainNode(node.pos, node.line, node, fields)
        return node

    def term(self) -> Node | None:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T_IDENT:
            if tok.val not in self.funcs:
                raise self.errorf(f"function {_go_q(tok.val)} not defined", tok.line)
            return IdentifierNode(tok.pos, tok.line, tok.val)
        if typ == T_DOT:
            return DotNode(tok.pos, tok.line)
        if typ == T_NIL:
            return NilNode(tok.pos, tok.line)
        if typ == T_VARIABLE:
            if tok.val not in self.vars:
                raise self.errorf(f"undefined variable {_go_q(tok.val)}", tok.line)
            return VariableNode(tok.pos, tok.line, [tok.val])
        if typ == T_FIELD:
            return FieldNode(tok.pos, tok.line, [tok.val[1:]])
        if typ == T_BOOL:
            return BoolNode(tok.pos, tok.line, tok.val == "true")
        if typ in (T_CHAR, T_NUMBER):
            try:
                return _parse_number(tok)
            except _ParseError as e:
                raise self.errorf(str(e), tok.line) from None
        if typ == T_LPAREN:
            return self.pipeline("parenthesized pipeline", T_RPAREN)
        if typ in (T_STRING, T_RAW):
            try:
                return StringNode(tok.pos, tok.line, _unquote(tok), tok.val)
            except ValueError:
                raise self.errorf(f"invalid syntax: {tok.val}", tok.line) from None
        self.backup()
        return None


# === executor ====================================================================================


class _Missing:
    """No value at all (Go's invalid reflect.Value), as opposed to nil."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _ExecError(Exception):
    pass


def _truth(v: Any) -> bool:
    """Go's `truth`: zero values are false; structs are always true."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, GoStruct):
        return True
    if isinstance(v, str | bytes | list | tuple | dict):
        return len(v) > 0
    return True


def _kind(v: Any) -> str:
    if v is None or v is MISSING:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "other"


def _fn_eq(arg1: Any, *arg2: Any) -> bool:
    if not arg2:
        raise _ExecError("missing argument for comparison")
    k1 = _kind(arg1)
    for arg in arg2:
        k2 = _kind(arg)
        if k1 != k2:
            if k1 != "invalid" and k2 != "invalid":
                raise _ExecError("incompatible types for comparison")
            continue
        if k1 == "invalid":
            return True
        if k1 == "other":
            if isinstance(arg1, dict | list) or isinstance(arg, dict | list):
                raise _ExecError(
                    f"non-comparable types {go_sprint_value(arg1)}: {go_type_name(arg1)}, "
                    f"{go_type_name(arg)}: {go_sprint_value(arg)}"
                )
            if arg1 is arg or arg1 == arg:
                return True
            continue
        if arg1 == arg:
            return True
    return False


def _fn_ne(a: Any, b: Any) -> bool:
    return not _fn_eq(a, b)


def _fn_lt(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka in ("invalid", "other", "bool") or kb in ("invalid", "other", "bool"):
        raise _ExecError("invalid type for comparison")
    if ka != kb:
        raise _ExecError("incompatible types for comparison")
    return bool(a < b)


def _fn_le(a: Any, b: Any) -> bool:
    return _fn_lt(a, b) or _fn_eq(a, b)


def _fn_gt(a: Any, b: Any) -> bool:
    return not _fn_le(a, b)


def _fn_ge(a: Any, b: Any) -> bool:
    return not _fn_lt(a, b)


def _fn_not(a: Any) -> bool:
    return not _truth(a)


def _fn_len(item: Any) -> int:
    if item is None or item is MISSING:
        raise _ExecError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode("utf-8"))
    if isinstance(item, bytes | list | tuple) or (isinstance(item, dict) and not isinstance(item, GoStruct)):
        return len(item)
    raise _ExecError(f"len of type {go_type_name(item)}")


def _int_index(v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if v is None:
        raise _ExecError("cannot index slice/array with nil")
    raise _ExecError(f"cannot index slice/array with type {go_type_name(v)}")


def _fn_index(item: Any, *indexes: Any) -> Any:
    if item is None or item is MISSING:
        raise _ExecError("index of untyped nil")
    for ix in indexes:
        if item is None:
            raise _ExecError("index of nil pointer")
        if isinstance(item, str | bytes):
            i = _int_index(ix)
            b = item.encode("utf-8") if isinstance(item, str) else item
            if i < 0 or i >= len(b):
                raise _ExecError(f"index out of range: {i}")
            item = b[i]
        elif isinstance(item, list | tuple):
            i = _int_index(ix)
            if i < 0 or i >= len(item):
                raise _ExecError(f"index out of range: {i}")
            item = item[i]
        elif isinstance(item, dict) and not isinstance(item, GoStruct):
            if ix is None:
                raise _ExecError("value is nil; should be of type string")
            item = item.get(ix)
        else:
            raise _ExecError(f"can't index item of type {go_type_name(item)}")
    return item


def _fn_slice(item: Any, *indexes: Any) -> Any:
    if item is None or item is MISSING:
        raise _ExecError("slice of untyped nil")
    if len(indexes) > 3:
        raise _ExecError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise _ExecError("cannot 3-index slice a string")
        b = item.encode("utf-8")
        cap = len(b)
    elif isinstance(item, list | tuple):
        b = item  # type: ignore[assignment]
        cap = len(item)
    else:
        raise _ExecError(f"can't slice item of type {go_type_name(item)}")
    idx = [0, len(b)]
    for i, ix in enumerate(indexes):
        n = _int_index(ix)
        if n < 0 or n > cap:
            raise _ExecError(f"index out of range: {n}")
        if i < 2:
            idx[i] = n
    if idx[0] > idx[1]:
        raise _ExecError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if isinstance(item, str):
        return bytes(b[idx[0] : idx[1]]).decode("utf-8", errors="replace")
    return list(item[idx[0] : idx[1]])


def _fn_printf(fmt: Any, *args: Any) -> str:
    if not isinstance(fmt, str):
        raise _ExecError(f"wrong type for value; expected string; got {go_type_name(fmt)}")
    return go_sprintf(fmt, list(args))


def _html_escape(s: str) -> str:
    return (
        s.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("\x00", "\ufffd")
    )


def _eval_args_string(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return go_sprint(list(args))


def _fn_html(*args: Any) -> str:
    return _html_escape(_eval_args_string(args))


def _fn_js(*args: Any) -> str:
    s = _eval_args_string(args)
    out = []
    for ch in s:
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=" or ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _fn_urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args_string(args), safe="")


def _fn_json(v: Any) -> str:
    return go_json(None if v is MISSING else v)


def _fn_current_date() -> str:
    return _dt.date.today().strftime("%Y-%m-%d")


def _fn_yesterday_date() -> str:
    return (_dt.date.today() - _dt.timedelta(days=1)).strftime("%Y-%m-%d")


def _ts_type(p: Any) -> str:
    if not isinstance(p, dict):
        return "any"
    enum = p.get("Enum", p.get("enum"))
    if enum:
        return " | ".join(go_json(e) for e in enum)
    any_of = p.get("AnyOf", p.get("anyOf"))
    if any_of:
        return " | ".join(_ts_type(x) for x in any_of)
    typ = p.get("Type", p.get("type"))
    types = [typ] if isinstance(typ, str) else list(typ or [])
    if not types:
        return "any"
    out = []
    for t in types:
        if t in ("string",):
            out.append("string")
        elif t in ("number", "integer"):
            out.append("number")
        elif t == "boolean":
            out.append("boolean")
        elif t == "null":
            out.append("null")
        elif t == "array":
            items = p.get("Items", p.get("items"))
            inner = _ts_type(items) if isinstance(items, dict) else "any"
            out.append(f"({inner})[]" if " | " in inner else inner + "[]")
        elif t == "object":
            out.append("Record<string, any>")
        else:
            out.append("any")
    return " | ".join(out)


def _fn_to_typescript_type(v: Any) -> str:
    """Ollama's `toTypeScriptType` (best effort): a JSON Schema property as a TypeScript type."""
    return _ts_type(v)


# name -> (callable, lazy?) ; `and`/`or` are special-cased for short-circuit evaluation.
FUNCS: dict[str, Callable[..., Any]] = {
    "and": lambda *a: None,
    "or": lambda *a: None,
    "eq": _fn_eq,
    "ne": _fn_ne,
    "lt": _fn_lt,
    "le": _fn_le,
    "gt": _fn_gt,
    "ge": _fn_ge,
    "not": _fn_not,
    "len": _fn_len,
    "index": _fn_index,
    "slice": _fn_slice,
    "print": lambda *a: go_sprint(list(a)),
    "printf": _fn_printf,
    "println": lambda *a: go_sprintln(list(a)),
    "html": _fn_html,
    "js": _fn_js,
    "urlquery": _fn_urlquery,
    "json": _fn_json,
    "currentDate": _fn_current_date,
    "yesterdayDate": _fn_yesterday_date,
    "toTypeScriptType": _fn_to_typescript_type,
}

# fixed arities (min, max); None = variadic
_ARITY: dict[str, tuple[int, int | None]] = {
    "eq": (1, None),
    "ne": (2, 2),
    "lt": (2, 2),
    "le": (2, 2),
    "gt": (2, 2),
    "ge": (2, 2),
    "not": (1, 1),
    "len": (1, 1),
    "index": (1, None),
    "slice": (1, None),
    "printf": (1, None),
    "json": (1, 1),
    "currentDate": (0, 0),
    "yesterdayDate": (0, 0),
    "toTypeScriptType": (1, 1),
    "and": (1, None),
    "or": (1, None),
}


class _State:
    def __init__(self, tmpl: Template, out: list[str], vars: list[tuple[str, Any]]) -> None:
        self.tmpl = tmpl
        self.out = out
        self.vars = vars
        self.node: Node | None = None
        self.depth = 0

    def error(self, msg: str) -> TemplateError:
        loc = ""
        node = self.node
        if node is not None:
            col = self._col(node.pos)
            loc = f"{node.line}:{col}: executing {_go_q(self.tmpl.name)} at <{_node_text(node)}>: "
            return TemplateError(f"template: {self.tmpl.name}:{loc}{msg}")
        return TemplateError(f"template: {self.tmpl.name}: {msg}")

    def _col(self, pos: int) -> int:
        src = self.tmpl.source
        nl = src.rfind("\n", 0, pos)
        return pos - nl - 1 if nl >= 0 else pos

    # -- variables
    def push(self, name: str, value: Any) -> None:
        self.vars.append((name, value))

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.error(f"undefined variable: {name}")

    def set_top_var(self, n: int, value: Any) -> None:
        name = self.vars[len(self.vars) - n][0]
        self.vars[len(self.vars) - n] = (name, value)

    def var_value(self, name: str) -> Any:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        raise self.error(f"undefined variable: {name}")

    # -- walking
    def walk(self, dot: Any, node: Node) -> None:
        self.node = node
        if isinstance(node, TextNode):
            self.out.append(node.text)
        elif isinstance(node, ActionNode):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, val)
        elif isinstance(node, IfNode | WithNode):
            self.walk_if_or_with(node, dot)
        elif isinstance(node, RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, BreakNode):
            raise _Break
        elif isinstance(node, ContinueNode):
            raise _Continue
        else:
            raise self.error(f"unknown node: {node}")

    def walk_if_or_with(self, node: BranchNode, dot: Any) -> None:
        mark = self.mark()
        try:
            val = self.eval_pipeline(dot, node.pipe)
            if _truth(val):
                self.walk(val if isinstance(node, WithNode) else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, r: RangeNode) -> None:
        self.node = r
        mark = self.mark()
        try:
            val = self.eval_pipeline(dot, r.pipe)
            decl = r.pipe.decl

            def one(index: Any, elem: Any) -> bool:
                """One iteration; False means `break`."""
                if decl:
                    if r.pipe.is_assign:
                        if len(decl) > 1:
                            self.set_var(decl[0].ident[0], index)
                            self.set_var(decl[1].ident[0], elem)
                        else:
                            self.set_var(decl[0].ident[0], elem)
                    else:
                        self.set_top_var(1, elem)
                        if len(decl) > 1:
                            self.set_top_var(2, index)
                m = self.mark()
                try:
                    self.walk(elem, r.list)
                except _Break:
                    return False
                except _Continue:
                    pass
                finally:
                    self.pop(m)
                return True

            iterated = False
            self.node = r
            if val is None or val is MISSING:
                pass
            elif isinstance(val, GoStruct | str | bool | float):
                raise self.error(f"range can't iterate over {go_sprint_value(val)}")
            elif isinstance(val, int):
                if len(decl) > 1:
                    raise self.error(f"can't use {val} to iterate over more than one variable")
                for i in range(val):
                    iterated = True
                    if not one(i, i):
                        break
            elif isinstance(val, dict):
                for k in sorted_keys(val):
                    iterated = True
                    if not one(k, val[k]):
                        break
            elif isinstance(val, list | tuple | bytes):
                for i, e in enumerate(val):
                    iterated = True
                    if not one(i, e):
                        break
            else:
                raise self.error(f"range can't iterate over {go_sprint_value(val)}")
            if not iterated and r.else_list is not None:
                self.walk(dot, r.else_list)
        finally:
            self.pop(mark)

    def walk_template(self, dot: Any, t: TemplateNode) -> None:
        body = self.tmpl.defines.get(t.name)
        if body is None:
            raise self.error(f"no such template {_go_q(t.name)}")
        if self.depth >= 10000:
            raise self.error(f"exceeded maximum template depth ({self.depth})")
        new_dot = self.eval_pipeline(dot, t.pipe) if t.pipe is not None else None
        st = _State(self.tmpl, self.out, [("$", new_dot)])
        st.depth = self.depth + 1
        st.walk(new_dot, body)

    def print_value(self, node: Node, v: Any) -> None:
        self.node = node
        if v is MISSING:
            v = None
        self.out.append(go_sprint_value(v, top=True))

    # -- evaluation
    def eval_pipeline(self, dot: Any, pipe: PipeNode) -> Any:
        value: Any = MISSING
        self.node = pipe
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for v in pipe.decl:
            stored = None if value is MISSING else value
            if pipe.is_assign:
                self.set_var(v.ident[0], stored)
            else:
                self.push(v.ident[0], stored)
        return value

    def not_a_function(self, args: list[Node], final: Any) -> None:
        if len(args) > 1 or final is not MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.node = first
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.value
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            raise self.error("nil is not a command")
        if isinstance(first, NumberNode):
            return first.value
        if isinstance(first, StringNode):
            return first.value
        raise self.error(f"can't evaluate command {first}")

    def eval_variable(self, dot: Any, v: VariableNode, args: list[Node], final: Any) -> Any:
        self.node = v
        value = self.var_value(v.ident[0])
        if len(v.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, v, v.ident[1:], args, final)

    def eval_chain(self, dot: Any, chain: ChainNode, args: list[Node], final: Any) -> Any:
        self.node = chain
        if not chain.field:
            raise self.error("internal error: no fields in evalChainNode")
        if isinstance(chain.node, NilNode):
            raise self.error(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.field, args, final)

    def eval_field_chain(
        self, dot: Any, receiver: Any, node: Node, ident: list[str], args: list[Node], final: Any
    ) -> Any:
        n = len(ident)
        for i in range(n - 1):
            receiver = self.eval_field(dot, ident[i], node, [], MISSING, receiver)
        return self.eval_field(dot, ident[n - 1], node, args, final, receiver)

    def eval_field(self, dot: Any, name: str, node: Node, args: list[Node], final: Any, receiver: Any) -> Any:
        self.node = node
        has_args = len(args) > 1 or final is not MISSING
        if receiver is MISSING or receiver is None:
            raise self.error(f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(receiver, GoStruct):
            if name in receiver:
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return receiver[name]
            raise self.error(f"can't evaluate field {name} in type {receiver.go_type}")
        if isinstance(receiver, dict):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            return receiver.get(name)  # missingkey=zero on map[string]any: a nil interface
        raise self.error(f"can't evaluate field {name} in type {go_type_name(receiver)}")

    def eval_arg(self, dot: Any, n: Node) -> Any:
        self.node = n
        if isinstance(n, DotNode):
            return dot
        if isinstance(n, NilNode):
            return None
        if isinstance(n, FieldNode):
            return self.eval_field_chain(dot, dot, n, n.ident, [n], MISSING)
        if isinstance(n, VariableNode):
            return self.eval_variable(dot, n, [n], MISSING)
        if isinstance(n, PipeNode):
            return self.eval_pipeline(dot, n)
        if isinstance(n, IdentifierNode):
            return self.eval_function(dot, n, n, [n], MISSING)
        if isinstance(n, ChainNode):
            return self.eval_chain(dot, n, [n], MISSING)
        if isinstance(n, BoolNode):
            return n.value
        if isinstance(n, NumberNode):
            return n.value
        if isinstance(n, StringNode):
            return n.value
        raise self.error(f"can't handle {n} for arg")

    def eval_function(self, dot: Any, node: IdentifierNode, cmd: Node, args: list[Node], final: Any) -> Any:
        self.node = node
        name = node.name
        fn = self.tmpl.funcs.get(name)
        if fn is None:
            raise self.error(f"{_go_q(name)} is not a defined function")
        arg_nodes = args[1:]
        nargs = len(arg_nodes) + (0 if final is MISSING else 1)
        lo, hi = _ARITY.get(name, (0, None))
        if nargs < lo or (hi is not None and nargs > hi):
            if hi is None:
                raise self.error(f"wrong number of args for {name}: want at least {lo} got {nargs}")
            raise self.error(f"wrong number of args for {name}: want {hi} got {nargs}")
        if name in ("and", "or"):
            want = name == "or"
            val: Any = MISSING
            for a in arg_nodes:
                val = self.eval_arg(dot, a)
                if _truth(val) == want:
                    return val
            if final is not MISSING:
                val = final
            return val
        vals = [self.eval_arg(dot, a) for a in arg_nodes]
        if final is not MISSING:
            vals.append(final)
        vals = [None if v is MISSING else v for v in vals]
        self.node = node
        try:
            return fn(*vals)
        except _ExecError as e:
            raise self.error(f"error calling {name}: {e}") from None
        except (TemplateError, _Break, _Continue):
            raise
        except Exception as e:
            raise self.error(f"error calling {name}: {e}") from None


def _node_text(n: Node) -> str:
    if isinstance(n, ActionNode | PipeNode | CommandNode | FieldNode | VariableNode | ChainNode):
        return str(n)
    if isinstance(n, IdentifierNode | StringNode | NumberNode | BoolNode | DotNode | NilNode):
        return str(n)
    if isinstance(n, RangeNode):
        return "{{range " + str(n.pipe) + "}}"
    if isinstance(n, IfNode):
        return "{{if " + str(n.pipe) + "}}"
    if isinstance(n, WithNode):
        return "{{with " + str(n.pipe) + "}}"
    if isinstance(n, TemplateNode):
        pipe = "" if n.pipe is None else " " + str(n.pipe)
        return "{{template " + _go_q(n.name) + pipe + "}}"
    return type(n).__name__


# === public API ==================================================================================


def _walk_nodes(n: Node | None) -> Iterator[Node]:
    """Pre-order walk of every node (lists, branches, pipes, commands, args)."""
    if n is None:
        return
    yield n
    if isinstance(n, ListNode):
        for c in n.nodes:
            yield from _walk_nodes(c)
    elif isinstance(n, BranchNode):
        yield from _walk_nodes(n.pipe)
        yield from _walk_nodes(n.list)
        yield from _walk_nodes(n.else_list)
    elif isinstance(n, ActionNode | TemplateNode):
        yield from _walk_nodes(n.pipe)
    elif isinstance(n, PipeNode):
        for c in n.cmds:
            yield from _walk_nodes(c)
    elif isinstance(n, CommandNode):
        for a in n.args:
            yield from _walk_nodes(a)
    elif isinstance(n, ChainNode):
        yield from _walk_nodes(n.node)


def _identifiers(n: Node | None) -> list[str]:
    """Ollama's `template.Identifiers`: field and variable idents, not descending into chains."""
    if n is None:
        return []
    if isinstance(n, ListNode):
        return [x for c in n.nodes for x in _identifiers(c)]
    if isinstance(n, TemplateNode):
        return _identifiers(n.pipe)
    if isinstance(n, ActionNode):
        return _identifiers(n.pipe)
    if isinstance(n, BranchNode):
        names = _identifiers(n.pipe)
        names += _identifiers(n.list)
        names += _identifiers(n.else_list)
        return names
    if isinstance(n, PipeNode):
        return [x for c in n.cmds for a in c.args for x in _identifiers(a)]
    if isinstance(n, FieldNode | VariableNode):
        return list(n.ident)
    return []


class Template:
    """A parsed Go template: `execute(data)` renders it; `vars()` lists the names it references."""

    name: str
    source: str
    root: ListNode
    defines: dict[str, ListNode]
    funcs: dict[str, Callable[..., Any]]

    def __init__(
        self,
        source: str,
        *,
        name: str = "",
        funcs: dict[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.name = name
        self.source = source
        self.funcs = dict(FUNCS)
        if funcs:
            self.funcs.update(funcs)
        p = _Parser(name, source, self.funcs)
        try:
            self.root = p.parse()
        except _ParseError as e:
            raise TemplateError(str(e)) from None
        except RecursionError:
            raise TemplateError(f"template: {name}: template too deeply nested") from None
        self.defines = p.defines

    # -- introspection
    def identifiers(self) -> list[str]:
        """All field/variable identifiers, in order, across the template and its definitions."""
        out = _identifiers(self.root)
        for body in self.defines.values():
            out += _identifiers(body)
        return out

    def vars(self) -> list[str]:
        """Ollama's `Template.Vars()`: the sorted, lower-cased set of identifiers."""
        return sorted({i.lower() for i in self.identifiers()})

    def uses(self, name: str) -> bool:
        """Whether a field named `name` (any case) is referenced, e.g. `uses("Messages")`."""
        return name.lower() in self.vars()

    def nodes(self) -> Iterator[Node]:
        """Every node of the main template, pre-order (for capability heuristics)."""
        return _walk_nodes(self.root)

    def copy(self) -> Template:
        return copy.deepcopy(self)

    def append_action(self, ident: list[str]) -> None:
        """Append `{{ .A.B }}` to the root, as Ollama does with `{{ .Response }}`."""
        pos = len(self.source)
        line = self.source.count("\n") + 1
        fld = FieldNode(pos, line, list(ident))
        cmd = CommandNode(pos, line, [fld])
        self.root.nodes.append(ActionNode(pos, line, PipeNode(pos, line, False, [], [cmd])))

    # -- execution
    def execute(self, data: Any) -> str:
        """Render with `data` as dot and `$`; raises TemplateError with Go-like messages."""
        out: list[str] = []
        st = _State(self, out, [("$", data)])
        try:
            st.walk(data, self.root)
        except (_Break, _Continue):
            raise st.error("break or continue outside range") from None
        except RecursionError:
            raise st.error("template too deeply nested") from None
        return "".join(out)

    def __str__(self) -> str:
        return self.source


def parse(source: str, *, name: str = "") -> Template:
    """Parse a Go template (Ollama's options: `missingkey=zero`, its extra funcs)."""
    return Template(source, name=name)


__all__ += [
    "MISSING",
    "ActionNode",
    "BranchNode",
    "ChainNode",
    "CommandNode",
    "FieldNode",
    "GoStruct",
    "IfNode",
    "ListNode",
    "Node",
    "OrderedMap",
    "PipeNode",
    "RangeNode",
    "TemplateNode",
    "TextNode",
    "VariableNode",
    "WithNode",
]
