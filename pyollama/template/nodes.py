"""Go's `text/template/parse/node.go`: the parse tree.

One dataclass per Go node type, each with the source position and line it came from (exec's error
messages need both). `__str__` is Go's `Node.String()`, the form the executor quotes in
`executing "name" at <...>`. `EndNode` and `ElseNode` are Go's unexported `endNode`/`elseNode`: the
parser uses them to close a list and never leaves them in a finished tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ActionNode",
    "BoolNode",
    "BranchNode",
    "BreakNode",
    "ChainNode",
    "CommandNode",
    "ContinueNode",
    "DotNode",
    "ElseNode",
    "EndNode",
    "FieldNode",
    "IdentifierNode",
    "IfNode",
    "ListNode",
    "NilNode",
    "Node",
    "NumberNode",
    "PipeNode",
    "RangeNode",
    "StringNode",
    "TemplateNode",
    "TextNode",
    "VariableNode",
    "WithNode",
]


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
class EndNode(Node):
    pass


@dataclass
class ElseNode(Node):
    pass
