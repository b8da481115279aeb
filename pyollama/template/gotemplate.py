"""A Go `text/template` subset: the `Template` class and `parse` (Go's `text/template/template.go`).

Ollama models carry Go templates (Modelfile TEMPLATE) and pyollama must render them itself, byte for
byte as Go does, so the engine follows Go's own files closely, including error messages
(`template: :1: ...`) and the quirk of `missingkey=zero` on `map[string]any`: a missing key is a nil
interface, which reads false in `if`, compares unequal in `eq`, and prints as `<no value>` (exactly
what Ollama emits). One module per Go file, each importing only those before it:

    errors.py        parse.go's and exec.go's errors  TemplateError, raised by parser and exec
    lex.py           text/template/parse/lex.go       source -> items
    nodes.py         text/template/parse/node.go      the tree's node types
    parser.py        text/template/parse/parse.go     items -> tree, Go's parse errors
    funcs.py         text/template/funcs.go           Go's built-in functions
    ollama_funcs.py  ollama's template/template.go    json, currentDate, yesterdayDate, toTypeScriptType
    exec.py          text/template/exec.go            tree + data -> text, Go's exec errors
    gotemplate.py    text/template/template.go        Template: parse once, execute, introspect

Values follow `govalues.py` (Go's value model, `fmt` and `encoding/json`). Here: `Template` (parsed
with Ollama's function map, `missingkey=zero`), its introspection as Ollama's `template.go` does it
(`Identifiers`, `Vars`) and `parse`.

Supported: text and actions with `{{-`/`-}}` trimming, comments, pipelines, fields/chains, variables
(`:=`, `=`, two-variable `range`), `if`/`else if`/`else`, `range` (slices, maps, ints, `else`,
`break`, `continue`), `with`/`else with`, `define`/`template`/`block`, all literals, parenthesised
pipelines, Go's builtin functions plus Ollama's `json`, `currentDate`, `yesterdayDate`,
`toTypeScriptType`. Not supported: method calls on values, `call`, complex numbers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from pyollama.template.errors import TemplateError
from pyollama.template.exec import execute_template
from pyollama.template.nodes import (
    ActionNode,
    BranchNode,
    ChainNode,
    CommandNode,
    FieldNode,
    ListNode,
    Node,
    PipeNode,
    TemplateNode,
    VariableNode,
)
from pyollama.template.ollama_funcs import FUNCS
from pyollama.template.parser import parse_tree

__all__ = [
    "Template",
    "TemplateError",
    "parse",
]


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
        self.root, self.defines = parse_tree(name, source, self.funcs)

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
        return execute_template(self, data)

    def __str__(self) -> str:
        return self.source


def parse(source: str, *, name: str = "") -> Template:
    """Parse a Go template (Ollama's options: `missingkey=zero`, its extra funcs)."""
    return Template(source, name=name)
