"""Go's `text/template/exec.go`: walking a parsed tree with data as dot.

`execute_template` renders a parsed template (anything with Go's `Template` fields: name, source,
root, defines, funcs; `gotemplate.Template` is one) the way Go's `state.walk` does: `if`/`with`/
`range` with Go's truth, variables in scopes, `template` calls, pipelines whose last value is passed
on as the final argument, and Ollama's `missingkey=zero` on `map[string]any` (a missing key is a nil
interface). Errors read like Go's: `template: name:line:col: executing "name" at <node>: msg`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pyollama.template.errors import TemplateError
from pyollama.template.funcs import MISSING, ExecError, truth
from pyollama.template.govalues import GoStruct, go_quote, go_sprint_value, go_type_name, sorted_keys
from pyollama.template.nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
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
from pyollama.template.ollama_funcs import ARITY

__all__ = ["Executable", "execute_template"]


class Executable(Protocol):
    """What exec reads of a template; structural, so exec never imports the `Template` class."""

    @property
    def name(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def root(self) -> ListNode: ...

    @property
    def defines(self) -> Mapping[str, ListNode]: ...

    @property
    def funcs(self) -> Mapping[str, Callable[..., Any]]: ...


def execute_template(tmpl: Executable, data: Any) -> str:
    """Render `tmpl` with `data` as dot and `$`; raises TemplateError with Go-like messages."""
    out: list[str] = []
    st = _State(tmpl, out, [("$", data)])
    try:
        st.walk(data, tmpl.root)
    except (_Break, _Continue):
        raise st.error("break or continue outside range") from None
    except RecursionError:
        raise st.error("template too deeply nested") from None
    return "".join(out)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _State:
    def __init__(self, tmpl: Executable, out: list[str], vars: list[tuple[str, Any]]) -> None:
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
            loc = f"{node.line}:{col}: executing {go_quote(self.tmpl.name)} at <{_node_text(node)}>: "
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
            if truth(val):
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
            raise self.error(f"no such template {go_quote(t.name)}")
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
            raise self.error(f"{go_quote(name)} is not a defined function")
        arg_nodes = args[1:]
        nargs = len(arg_nodes) + (0 if final is MISSING else 1)
        lo, hi = ARITY.get(name, (0, None))
        if nargs < lo or (hi is not None and nargs > hi):
            if hi is None:
                raise self.error(f"wrong number of args for {name}: want at least {lo} got {nargs}")
            raise self.error(f"wrong number of args for {name}: want {hi} got {nargs}")
        if name in ("and", "or"):
            want = name == "or"
            val: Any = MISSING
            for a in arg_nodes:
                val = self.eval_arg(dot, a)
                if truth(val) == want:
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
        except ExecError as e:
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
        return "{{template " + go_quote(n.name) + pipe + "}}"
    return type(n).__name__
