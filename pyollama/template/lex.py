"""Go's `text/template/parse/lex.go`: the source text as a list of items (tokens).

Text outside actions becomes one `text` item; inside `{{ }}` the lexer emits Go's item types
(fields, variables, strings, numbers, keywords...) with their position and line, handling `{{-`/`-}}`
trimming and `/* */` comments. An error is the last item (`T_ERROR`, Go's `itemError`), which the
parser turns into `template: name:line: msg`. `lex()` is the entry point; `Item.__str__` is Go's
`item.String()`, used in the parser's `unexpected X in Y` messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyollama.template.govalues import go_quote

__all__ = [
    "KEYWORDS",
    "T_ASSIGN",
    "T_BOOL",
    "T_CHAR",
    "T_COMMA",
    "T_COMMENT",
    "T_DECLARE",
    "T_DOT",
    "T_EOF",
    "T_ERROR",
    "T_FIELD",
    "T_IDENT",
    "T_LEFT",
    "T_LPAREN",
    "T_NIL",
    "T_NUMBER",
    "T_PIPE",
    "T_RAW",
    "T_RIGHT",
    "T_RPAREN",
    "T_SPACE",
    "T_STRING",
    "T_TEXT",
    "T_VARIABLE",
    "Item",
    "lex",
]

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
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


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
            self.error(f"bad number syntax: {go_quote(src[pos : p + 1])}", pos)
            return None
        return p


def lex(src: str) -> list[Item]:
    """Go's `lex` run to the end: every item of `src`, ending with EOF or an error item."""
    return _Lexer(src).run()


def _unicode_name(c: str) -> str:
    """Go's %#U: U+0023 '#'."""
    return f"U+{ord(c):04X} '{c}'"
