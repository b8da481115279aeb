"""Modelfile parsing and printing, rune for rune like Ollama's parser/parser.go.

The parser is the same state machine as Ollama's (so odd inputs fail or succeed the same way and
errors carry the same `(line N): ...` wording); `Modelfile.to_create_request` turns commands into
`/api/create` fields the way Ollama's client does, with PARAMETER values type-checked against
`pyollama.options`. Local paths (FROM/ADAPTER/DRAFT files) are resolved only on the client side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pyollama.errors import BadRequest
from pyollama.options import DEPRECATED_PARAMETERS, deprecation_warning, format_params

COMMANDS = (
    "from",
    "license",
    "template",
    "system",
    "adapter",
    "draft",
    "renderer",
    "parser",
    "parameter",
    "message",
    "requires",
)
ROLES = ("system", "user", "assistant")

ERR_INVALID_COMMAND = (
    'command must be one of "from", "license", "template", "system", "adapter", "draft", '
    '"renderer", "parser", "parameter", "message", or "requires"'
)
ERR_INVALID_ROLE = 'message role must be one of "system", "user", or "assistant"'
ERR_MISSING_FROM = "no FROM line"
ERR_UNEXPECTED_EOF = "unexpected EOF"

_SEMVER = re.compile(
    r"^v(0|[1-9]\d*)(\.(0|[1-9]\d*)(\.(0|[1-9]\d*))?)?"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)


class ModelfileError(BadRequest):
    """A Modelfile that does not parse; `line` is 0 when Ollama reports no line."""

    def __init__(self, message: str, line: int = 0) -> None:
        self.line = line
        super().__init__(f"(line {line}): {message}" if line > 0 else message)


@dataclass(frozen=True)
class Command:
    """One instruction. `name` is `model` for FROM, the parameter name for PARAMETER, and
    `args` of a MESSAGE is `"<role>: <content>"` (Ollama's representation)."""

    name: str
    args: str

    def __str__(self) -> str:
        if self.name == "model":
            return f"FROM {self.args}"
        if self.name in (
            "license",
            "template",
            "system",
            "adapter",
            "renderer",
            "parser",
            "requires",
            "draft",
        ):
            return f"{self.name.upper()} {quote(self.args)}"
        if self.name == "message":
            role, _, content = self.args.partition(": ")
            return f"MESSAGE {role} {quote(content)}"
        return f"PARAMETER {self.name} {quote(self.args)}"


@dataclass
class Modelfile:
    commands: list[Command] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(f"{c}\n" for c in self.commands)

    def to_create_request(self) -> tuple[dict[str, Any], list[str]]:
        """The `/api/create` body fields (minus `model`, `files`) and the warnings to print.

        FROM/ADAPTER/DRAFT values come back unresolved under `from`/`adapters`/`draft`
        as lists of strings: only the client knows whether they are local paths.
        """
        req: dict[str, Any] = {}
        messages: list[dict[str, str]] = []
        licenses: list[str] = []
        params: dict[str, Any] = {}
        warnings: list[str] = []
        froms: list[str] = []
        adapters: list[str] = []
        drafts: list[str] = []
        for c in self.commands:
            if c.name == "model":
                froms.append(c.args)
            elif c.name == "adapter":
                adapters.append(c.args)
            elif c.name == "draft":
                drafts.append(c.args)
            elif c.name in ("template", "system", "renderer", "parser"):
                req[c.name] = c.args
            elif c.name == "license":
                licenses.append(c.args)
            elif c.name == "requires":
                req["requires"] = parse_requires(c.args)
            elif c.name == "message":
                role, _, content = c.args.partition(": ")
                messages.append({"role": role, "content": content})
            elif c.name in DEPRECATED_PARAMETERS:
                warnings.append(deprecation_warning(c.name))
            else:
                for k, v in format_params({c.name: [c.args]}).items():
                    if isinstance(v, list) and isinstance(params.get(k), list):
                        params[k] = params[k] + v
                    else:
                        params[k] = v
        req["from"] = froms
        if adapters:
            req["adapters"] = adapters
        if drafts:
            req["draft"] = drafts
        if params:
            req["parameters"] = params
        if messages:
            req["messages"] = messages
        if licenses:
            req["license"] = licenses
        return req, warnings


def parse_requires(v: str) -> str:
    s = v if v.startswith("v") else "v" + v
    if not _SEMVER.match(s):
        raise BadRequest("requires must be a valid semver (e.g. 0.14.0)")
    return s[1:]


def quote(s: str) -> str:
    """Ollama's quoting for `show --modelfile`, made safe for values it would mangle."""
    if "\n" in s or s.startswith(" ") or s.endswith(" ") or _needs_quote(s):
        if '"' in s:
            return '"""' + s + '"""'
        return '"' + s + '"'
    return s


def _needs_quote(s: str) -> bool:
    # Beyond Ollama: values it would print unquoted but read back differently.
    return bool(s) and (s[0] in '"\t\r' or s[-1] in "\t\r" or "\r" in s)


def _unquote(s: str) -> tuple[str, bool]:
    if s.startswith('"""'):
        if len(s) >= 6 and s.endswith('"""'):
            return s[3:-3], True
        return "", False
    if s.startswith('"'):
        if len(s) >= 2 and s.endswith('"'):
            return s[1:-1], True
        return "", False
    return s, True


def _is_alpha(r: str) -> bool:
    return "a" <= r <= "z" or "A" <= r <= "Z"


def _is_space(r: str) -> bool:
    return r in " \t"


def _is_newline(r: str) -> bool:
    return r in "\r\n"


def _is_print(r: str) -> bool:
    return r == " " or r.isprintable()


_NIL, _NAME, _VALUE, _PARAMETER, _MESSAGE, _COMMENT = range(6)


class _Eof(Exception):
    pass


def _next_state(r: str, cs: int) -> tuple[int, str]:
    if cs == _NIL:
        if r == "#":
            return _COMMENT, ""
        if _is_space(r) or _is_newline(r):
            return _NIL, ""
        return _NAME, r
    if cs == _NAME:
        if _is_alpha(r):
            return _NAME, r
        if _is_space(r):
            return _VALUE, ""
        raise ModelfileError(ERR_INVALID_COMMAND)
    if cs == _VALUE:
        if _is_newline(r) or _is_space(r):
            return _NIL, r
        return _VALUE, r
    if cs == _PARAMETER:
        if _is_alpha(r) or "0" <= r <= "9" or r == "_":
            return _PARAMETER, r
        if _is_space(r):
            return _VALUE, ""
        raise _Eof()
    if cs == _MESSAGE:
        if _is_alpha(r):
            return _MESSAGE, r
        if _is_space(r):
            return _VALUE, ""
        raise _Eof()
    # comment
    if _is_newline(r):
        return _NIL, ""
    return _COMMENT, ""


def parse(text: str | bytes) -> Modelfile:
    """Parse a Modelfile; raises `ModelfileError` with Ollama's messages."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    elif text.startswith("\ufeff"):
        text = text[1:]
    commands: list[Command] = []
    buf: list[str] = []
    name = ""
    role = ""
    curr = _NIL
    line = 1
    prev = ""
    for r in text:
        if _is_newline(r) and not (r == "\n" and prev == "\r"):  # CRLF counts once
            line += 1
        prev = r
        try:
            nxt, r2 = _next_state(r, curr)
        except _Eof:
            raise ModelfileError(f"{ERR_UNEXPECTED_EOF}: {''.join(buf)}") from None
        except ModelfileError as e:
            raise ModelfileError(str(e), line) from None
        if nxt != curr:
            if curr == _NAME:
                word = "".join(buf)
                if word.lower() not in COMMANDS:
                    raise ModelfileError(ERR_INVALID_COMMAND, line)
                s = word.lower()
                if s == "from":
                    name = "model"
                elif s == "parameter":
                    nxt = _PARAMETER
                elif s == "message":
                    nxt = _MESSAGE
                    name = s
                else:
                    name = s
            elif curr == _PARAMETER:
                name = "".join(buf)
            elif curr == _MESSAGE:
                word = "".join(buf)
                if word not in ROLES:
                    raise ModelfileError(ERR_INVALID_ROLE, line)
                role = word
            elif curr == _VALUE:
                val, ok = _unquote("".join(buf).strip())
                if not ok or _is_space(r2):
                    buf.append(r2)
                    continue
                if role:
                    val = f"{role}: {val}"
                    role = ""
                commands.append(Command(name, val))
            buf = []
            curr = nxt
        if r2 and _is_print(r2):
            buf.append(r2)
    if curr == _VALUE:
        val, ok = _unquote("".join(buf).strip())
        if not ok:
            raise ModelfileError(ERR_UNEXPECTED_EOF)
        if role:
            val = f"{role}: {val}"
        commands.append(Command(name, val))
    elif curr not in (_NIL, _COMMENT):
        raise ModelfileError(ERR_UNEXPECTED_EOF)
    if not any(c.name == "model" for c in commands):
        raise ModelfileError(ERR_MISSING_FROM)
    return Modelfile(commands)
