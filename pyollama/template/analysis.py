"""What a model's template says about the model, read from its parse tree (not by rendering it).

Mirrors the template-AST analyses Ollama runs on a model's TEMPLATE: `thinking.InferTags`
(thinking/template.go: the text around `.Thinking` inside `range .Messages`), `tools.parseTag`
(tools/template.go: the literal that opens a tool call in the `{{ if .ToolCalls }}` block) and the
template-derived capabilities (`tools` from `.Tools`, `insert` from `.Suffix`, `thinking` from the
inferred tags). The functions take a `PromptTemplate` (anything with a `.template`, see `HasTemplate`)
or a bare `Template`; `prompt.py` re-exports them, so `pyollama.template.prompt` imports keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from pyollama.template.gotemplate import Template
from pyollama.template.nodes import (
    ActionNode,
    BranchNode,
    ChainNode,
    CommandNode,
    FieldNode,
    IfNode,
    ListNode,
    Node,
    PipeNode,
    RangeNode,
    TemplateNode,
    TextNode,
    WithNode,
)

__all__ = [
    "Capable",
    "HasTemplate",
    "infer_thinking_tags",
    "template_capabilities",
    "tool_call_tag",
]


class HasTemplate(Protocol):
    """A wrapper around a parsed template (`PromptTemplate`); structural so this module never
    imports `prompt.py`, which imports it."""

    @property
    def template(self) -> Template: ...


class Capable(HasTemplate, Protocol):
    """A wrapper that also answers `uses(name)` from its own variable list (`PromptTemplate`)."""

    def uses(self, name: str) -> bool: ...


def _visit(n: Node | None, enter: Callable[[Node, list[Node]], None], ancestors: list[Node]) -> None:
    """Go's thinking.templateVisit: lists, branches, actions, template calls, pipes, commands."""
    if n is None:
        return
    ancestors.append(n)
    enter(n, ancestors)
    if isinstance(n, ListNode):
        for c in n.nodes:
            _visit(c, enter, ancestors)
    elif isinstance(n, BranchNode):
        _visit(n.pipe, enter, ancestors)
        _visit(n.list, enter, ancestors)
        _visit(n.else_list, enter, ancestors)
    elif isinstance(n, ActionNode | TemplateNode):
        _visit(n.pipe, enter, ancestors)
    elif isinstance(n, PipeNode):
        for c in n.cmds:
            _visit(c, enter, ancestors)
    elif isinstance(n, CommandNode):
        for a in n.args:
            if not isinstance(a, ChainNode):
                _visit(a, enter, ancestors)
    ancestors.pop()


def _range_uses_field(r: RangeNode, name: str) -> bool:
    found = False

    def enter(n: Node, _a: list[Node]) -> None:
        nonlocal found
        if isinstance(n, FieldNode) and n.ident and n.ident[0] == name:
            found = True

    _visit(r.pipe, enter, [])
    return found


def infer_thinking_tags(template: HasTemplate | Template) -> tuple[str, str]:
    """Ollama's `thinking.InferTags`: the text around `.Thinking` inside `range .Messages`."""
    t = template if isinstance(template, Template) else template.template
    opening = closing = ""

    def enter(n: Node, ancestors: list[Node]) -> None:
        nonlocal opening, closing
        if not (isinstance(n, FieldNode) and n.ident and n.ident[0] == "Thinking"):
            return
        rng = next((a for a in reversed(ancestors) if isinstance(a, RangeNode)), None)
        if rng is None or not _range_uses_field(rng, "Messages"):
            return
        for a in reversed(ancestors):
            if isinstance(a, ListNode) and a.nodes:
                first, last = a.nodes[0], a.nodes[-1]
                if isinstance(first, TextNode):
                    opening = first.text.strip()
                if isinstance(last, TextNode):
                    closing = last.text.strip()
                break

    _visit(t.root, enter, [])
    return opening, closing


def template_capabilities(template: Capable) -> list[str]:
    """Capabilities a Go template grants: `tools` (.Tools), `insert` (.Suffix), `thinking`."""
    caps: list[str] = []
    if template.uses("tools"):
        caps.append("tools")
    if template.uses("suffix"):
        caps.append("insert")
    opening, closing = infer_thinking_tags(template)
    if opening and closing:
        caps.append("thinking")
    return caps


def _find_tool_call_if(nodes: Sequence[Node]) -> IfNode | None:
    def is_tool_calls(n: IfNode) -> bool:
        return any(isinstance(a, FieldNode) and "ToolCalls" in a.ident for c in n.pipe.cmds for a in c.args)

    for n in nodes:
        if isinstance(n, IfNode):
            if is_tool_calls(n):
                return n
            r = _find_tool_call_if(n.list.nodes)
            if r is None and n.else_list is not None:
                r = _find_tool_call_if(n.else_list.nodes)
            if r is not None:
                return r
        elif isinstance(n, ListNode):
            r = _find_tool_call_if(n.nodes)
            if r is not None:
                return r
        elif isinstance(n, RangeNode | WithNode):
            r = _find_tool_call_if(n.list.nodes)
            if r is None and n.else_list is not None:
                r = _find_tool_call_if(n.else_list.nodes)
            if r is not None:
                return r
    return None


def _find_text(nodes: Sequence[Node]) -> TextNode | None:
    """Ollama's findTextNode: the first non-blank text, depth first, stopping at an action (text
    after the tool calls is not the tag)."""
    for n in nodes:
        if isinstance(n, TextNode):
            if not n.text.strip():
                continue
            return n
        if isinstance(n, BranchNode):
            r = _find_text(n.list.nodes)
            if r is None and n.else_list is not None:
                r = _find_text(n.else_list.nodes)
            return r
        if isinstance(n, ListNode):
            r = _find_text(n.nodes)
            if r is not None:
                return r
        if isinstance(n, ActionNode):
            return None
    return None


def tool_call_tag(template: HasTemplate | Template) -> str:
    """Ollama's `tools.parseTag`: the literal text that opens a tool call (e.g. `<tool_call>`),
    taken from the `{{ if .ToolCalls }}` block up to the first `{`; `{` when the template has no
    such block or tag, meaning bare JSON objects are tried as calls."""
    t = template if isinstance(template, Template) else template.template
    tc = _find_tool_call_if(t.root.nodes)
    if tc is None:
        return "{"
    tn = _find_text(tc.list.nodes)
    if tn is None:
        return "{"
    tag = tn.text.replace("\r\n", "\n").split("{")[0].strip()
    return tag or "{"
