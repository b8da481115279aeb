"""Go's `text/template/parse/parse.go`: recursive descent from lexer items to a tree of nodes.

`parse_tree` parses one source into its root list and its `define`/`block` bodies, with Go's error
messages (`template: name:line: unexpected EOF`...). The parser checks what Go checks at parse time:
functions must be defined (so it takes the function map), variables must be declared in scope, and
`break`/`continue` must sit inside `range`. String and number literals are decoded here as
`strconv.Unquote`/`ParseInt`/`ParseFloat` would.

Named `parser.py`, not `parse.py`, so the submodule does not shadow the package's public `parse()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyollama.template.errors import TemplateError
from pyollama.template.govalues import go_quote
from pyollama.template.lex import (
    T_ASSIGN,
    T_BOOL,
    T_CHAR,
    T_COMMA,
    T_DECLARE,
    T_DOT,
    T_EOF,
    T_ERROR,
    T_FIELD,
    T_IDENT,
    T_LEFT,
    T_LPAREN,
    T_NIL,
    T_NUMBER,
    T_PIPE,
    T_RAW,
    T_RIGHT,
    T_RPAREN,
    T_SPACE,
    T_STRING,
    T_TEXT,
    T_VARIABLE,
    Item,
    lex,
)
from pyollama.template.nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    ElseNode,
    EndNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    VariableNode,
    WithNode,
)

__all__ = ["parse_tree"]


def parse_tree(name: str, source: str, funcs: Mapping[str, Any]) -> tuple[ListNode, dict[str, ListNode]]:
    """Go's `parse.Parse` for one template: (root list, `define`/`block` bodies by name).

    Raises TemplateError with Go's message; a template nested past Python's recursion limit is a
    TemplateError too (`template too deeply nested`), not a crash.
    """
    p = _Parser(name, source, funcs)
    try:
        root = p.parse()
    except _ParseError as e:
        raise TemplateError(str(e)) from None
    except RecursionError:
        raise TemplateError(f"template: {name}: template too deeply nested") from None
    return root, p.defines


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
        raise _ParseError(f"illegal number syntax: {go_quote(text)}") from None


def _legacy_octal(t: str) -> bool:
    d = t.lstrip("+-")
    return len(d) > 1 and d[0] == "0" and d[1].isdigit()


class _Parser:
    """Go's parse.go: recursive descent over the item list with Go's error messages."""

    def __init__(self, name: str, src: str, funcs: Mapping[str, Any]) -> None:
        self.name = name
        self.items = lex(src)
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
            if isinstance(n, EndNode | ElseNode):
                raise self.errorf(f"unexpected {self._node_name(n)}", n.line)
            root.nodes.append(n)
        return root

    @staticmethod
    def _node_name(n: Node) -> str:
        return "{{end}}" if isinstance(n, EndNode) else "{{else}}"

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
        if not isinstance(end, EndNode):
            raise self.errorf(f"unexpected {self._node_name(end)} in define clause", end.line)
        self.defines[name] = body

    def item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek().pos, self.peek().line)
        while self.peek_non_space().typ != T_EOF:
            n = self.text_or_action()
            if isinstance(n, EndNode | ElseNode):
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
            return EndNode(tok.pos, tok.line)
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
            return ElseNode(peek.pos, peek.line)
        self.expect(T_RIGHT, "else")
        return ElseNode(tok.pos, tok.line)

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
            if isinstance(nxt, ElseNode):
                if context == "if" and self.peek().typ == "if":
                    t2 = self.next()
                    else_list = ListNode(nxt.pos, nxt.line, [self.parse_control(IfNode, "if", t2)])
                elif context == "with" and self.peek().typ == "with":
                    t2 = self.next()
                    else_list = ListNode(nxt.pos, nxt.line, [self.parse_control(WithNode, "with", t2)])
                else:
                    else_list, nxt2 = self.item_list()
                    if not isinstance(nxt2, EndNode):
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
        if not isinstance(end, EndNode):
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
                raise self.errorf(f"unexpected . after term {go_quote(str(node))}")
            return ChainNode(node.pos, node.line, node, fields)
        return node

    def term(self) -> Node | None:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T_IDENT:
            if tok.val not in self.funcs:
                raise self.errorf(f"function {go_quote(tok.val)} not defined", tok.line)
            return IdentifierNode(tok.pos, tok.line, tok.val)
        if typ == T_DOT:
            return DotNode(tok.pos, tok.line)
        if typ == T_NIL:
            return NilNode(tok.pos, tok.line)
        if typ == T_VARIABLE:
            if tok.val not in self.vars:
                raise self.errorf(f"undefined variable {go_quote(tok.val)}", tok.line)
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
