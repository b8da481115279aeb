"""Ollama's prompt rendering on top of the Go template engine.

Mirrors Ollama's `template/template.go` (`Parse`, `Execute`, `collate`), `server/prompt.go`
(`chatPrompt`: history fitted to `num_ctx`, `[img-N]` tags) and the generate handler's message
building. Messages and tools come in as the wire dicts of `/api/chat` (or any msgspec Struct of
the same shape) and are turned into the Go values a template expects (`.Role`, `.Function.Name`...).

What the template's tree says about the model (capabilities, thinking tags, the tool-call tag) lives
in `analysis.py`; `infer_thinking_tags`, `template_capabilities` and `tool_call_tag` are re-exported
here so existing imports keep working.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyollama.template.analysis import infer_thinking_tags, template_capabilities, tool_call_tag
from pyollama.template.gotemplate import Template
from pyollama.template.govalues import GoList, GoStruct, OrderedMap, PropertyType
from pyollama.template.nodes import (
    ActionNode,
    BranchNode,
    FieldNode,
    ListNode,
    Node,
    PipeNode,
)
from pyollama.think import Think, think_bool, think_level

__all__ = [
    "DEFAULT_TEMPLATE",
    "ChatPrompt",
    "PromptTemplate",
    "chat_prompt",
    "chat_prompt_async",
    "collate",
    "generate_messages",
    "infer_thinking_tags",
    "render_generate",
    "render_prompt",
    "template_capabilities",
    "tool_call_tag",
]

DEFAULT_TEMPLATE = "{{ .Prompt }}"


Message = Mapping[str, Any]


def _builtins(obj: Any) -> Any:
    """Wire dicts pass through; msgspec Structs (the server's schemas) become dicts."""
    if obj is None or isinstance(obj, Mapping | list | tuple | str | int | float | bool):
        return obj
    import msgspec

    return msgspec.to_builtins(obj)


def _think_values(think: Think) -> tuple[bool, str, bool]:
    """(Think, ThinkLevel, IsThinkSet): the template values of a request's `think`."""
    return think_bool(think), think_level(think), think is not None


# --- Go values for messages and tools ------------------------------------------------------------


def _omit(d: dict[str, Any]) -> dict[str, Any]:
    """Go's omitempty: drop zero values ("", 0, False, None, empty containers)."""
    return {
        k: v
        for k, v in d.items()
        if v not in (None, "", 0, False) and not (isinstance(v, list | dict) and not v)
    }


def _go_tool_call(tc: Any, index: int) -> GoStruct:
    tc = _builtins(tc) or {}
    fn = tc.get("function") or {}
    raw_args = fn.get("arguments")
    if isinstance(raw_args, str):
        import json

        try:
            raw_args = json.loads(raw_args)
        except ValueError:
            raw_args = {}
    args = OrderedMap(raw_args or {}, stringer=True)
    fn_index = fn.get("index", 0) or 0
    wire_fn: dict[str, Any] = {"index": fn_index, "name": fn.get("name", "") or "", "arguments": args}
    wire: dict[str, Any] = {}
    if tc.get("id"):
        wire["id"] = tc["id"]
    wire["function"] = OrderedMap(wire_fn)
    go_fn = GoStruct(
        "api.ToolCallFunction",
        {"Index": fn_index, "Name": wire_fn["name"], "Arguments": args},
        wire=OrderedMap(wire_fn),
    )
    return GoStruct("api.ToolCall", {"ID": tc.get("id", "") or "", "Function": go_fn}, wire=OrderedMap(wire))


def go_message(m: Any) -> GoStruct:
    """An `*api.Message` for templates: every field present, JSON as the wire form."""
    m = _builtins(m)
    tool_calls = [_go_tool_call(tc, i) for i, tc in enumerate(m.get("tool_calls") or [])]
    images = list(m.get("images") or [])
    fields = {
        "Role": m.get("role", "") or "",
        "Content": m.get("content", "") or "",
        "Thinking": m.get("thinking", "") or "",
        "Images": images,
        "ToolCalls": tool_calls,
        "ToolName": m.get("tool_name", "") or "",
        "ToolCallID": m.get("tool_call_id", "") or "",
    }
    wire = OrderedMap([("role", fields["Role"]), ("content", fields["Content"])])
    wire.update(
        _omit(
            {
                "thinking": fields["Thinking"],
                "images": images,
                "tool_calls": tool_calls,
                "tool_name": fields["ToolName"],
                "tool_call_id": fields["ToolCallID"],
            }
        )
    )
    return GoStruct("*api.Message", fields, wire=wire)


def _prop_type(v: Any) -> PropertyType:
    if v is None:
        return PropertyType()
    if isinstance(v, str):
        return PropertyType([v])
    return PropertyType(list(v))


def _go_property(p: Any) -> GoStruct:
    p = _builtins(p) or {}
    any_of = [_go_property(x) for x in p.get("anyOf") or []]
    props = p.get("properties")
    go_props = OrderedMap((k, _go_property(v)) for k, v in props.items()) if props else None
    fields = {
        "AnyOf": any_of,
        "Type": _prop_type(p.get("type")),
        "Items": p.get("items"),
        "Description": p.get("description", "") or "",
        "Enum": list(p.get("enum") or []),
        "Properties": go_props,
    }
    wire = OrderedMap(
        _omit(
            {
                "anyOf": any_of,
                "type": fields["Type"] if fields["Type"] else None,
                "items": fields["Items"],
                "description": fields["Description"],
                "enum": fields["Enum"],
                "properties": go_props,
                "required": list(p.get("required") or []),
            }
        )
    )
    return GoStruct("api.ToolProperty", fields, wire=wire)


def go_tool(t: Any) -> GoStruct:
    """An `api.Tool`: fields for templates, Go's JSON (field order, omitempty) when printed."""
    t = _builtins(t) or {}
    fn = t.get("function") or {}
    params = fn.get("parameters") or {}
    props = params.get("properties")
    go_props = OrderedMap((k, _go_property(v)) for k, v in props.items()) if props is not None else None
    params_fields = {
        "Type": params.get("type", "") or "",
        "Defs": params.get("$defs"),
        "Items": params.get("items"),
        "Required": list(params.get("required") or []),
        "Properties": go_props,
    }
    optional = _omit(
        {
            "$defs": params_fields["Defs"],
            "items": params_fields["Items"],
            "required": params_fields["Required"],
        }
    )
    params_wire = OrderedMap([("type", params_fields["Type"]), *optional.items(), ("properties", go_props)])
    go_params = GoStruct("api.ToolFunctionParameters", params_fields, wire=params_wire)
    fn_fields = {
        "Name": fn.get("name", "") or "",
        "Description": fn.get("description", "") or "",
        "Parameters": go_params,
    }
    fn_wire = OrderedMap([("name", fn_fields["Name"])])
    if fn_fields["Description"]:
        fn_wire["description"] = fn_fields["Description"]
    fn_wire["parameters"] = go_params
    go_fn = GoStruct("api.ToolFunction", fn_fields, wire=fn_wire, stringer=True)
    wire = OrderedMap([("type", t.get("type", "") or "")])
    if t.get("items"):
        wire["items"] = t["items"]
    wire["function"] = go_fn
    return GoStruct(
        "api.Tool",
        {"Type": t.get("type", "") or "", "Items": t.get("items"), "Function": go_fn},
        wire=wire,
        stringer=True,
    )


def go_tools(tools: Iterable[Any] | None) -> GoList:
    """`api.Tools`; a nil list (no tools sent) marshals to `null` as Go's nil slice does."""
    if tools is None:
        return GoList(nil=True)
    return GoList(go_tool(t) for t in tools)


# --- collate ------------------------------------------------------------------------------------


def collate(messages: Sequence[Any]) -> tuple[str, list[dict[str, Any]]]:
    """System messages joined by "\\n\\n", and consecutive same-role messages merged (not `tool`)."""
    system: list[str] = []
    collated: list[dict[str, Any]] = []
    for raw in messages:
        m = dict(_builtins(raw))
        role = m.get("role", "")
        if role == "system":
            system.append(m.get("content", "") or "")
        if collated and collated[-1].get("role") == role and role != "tool":
            collated[-1]["content"] = (
                (collated[-1].get("content", "") or "") + "\n\n" + (m.get("content") or "")
            )
        else:
            collated.append(m)
    return "\n\n".join(system), collated


# --- the template ---------------------------------------------------------------------------------


def _cut_after_response(root: ListNode) -> ListNode:
    """Ollama's `deleteNode`: keep the first `.Response` field, drop every node visited after it."""
    cut = False

    def fn(n: Node) -> bool:
        nonlocal cut
        if isinstance(n, FieldNode) and "Response" in n.ident:
            cut = True
            return False
        return cut

    def walk(n: Node) -> Node | None:
        if fn(n):
            return None
        if isinstance(n, ListNode):
            n.nodes = [c for c in (walk(x) for x in n.nodes) if c is not None]
        elif isinstance(n, BranchNode):
            lst = walk(n.list)
            n.list = lst if isinstance(lst, ListNode) else ListNode(n.pos, n.line)
            if n.else_list is not None:
                el = walk(n.else_list)
                n.else_list = el if isinstance(el, ListNode) else ListNode(n.pos, n.line)
        elif isinstance(n, ActionNode):
            p = walk(n.pipe)
            if p is None:
                return None
        elif isinstance(n, PipeNode):
            cmds = []
            for c in n.cmds:
                args = [a for a in (walk(x) for x in c.args) if a is not None]
                if not args:
                    return None
                c.args = args
                cmds.append(c)
            if not cmds:
                return None
            n.cmds = cmds
        return n

    out = walk(copy.deepcopy(root))
    return out if isinstance(out, ListNode) else ListNode(root.pos, root.line)


class PromptTemplate:
    """A model's TEMPLATE, parsed once, executed with Ollama's rules (`template.Template`)."""

    def __init__(self, source: str | None = None, *, name: str = "") -> None:
        self.raw = source if source else DEFAULT_TEMPLATE
        self.template = Template(self.raw, name=name)
        self.vars = self.template.vars()
        if "messages" not in self.vars and "response" not in self.vars:
            # touch up the template and append {{ .Response }}, as Ollama's Parse does
            self.template.append_action(["Response"])
        self._legacy: Template | None = None

    def __str__(self) -> str:
        return self.raw

    def uses(self, name: str) -> bool:
        return name.lower() in self.vars

    @property
    def capabilities(self) -> list[str]:
        return template_capabilities(self)

    def _legacy_template(self) -> Template:
        if self._legacy is None:
            t = self.template.copy()
            t.root = _cut_after_response(t.root)
            self._legacy = t
        return self._legacy

    def execute(
        self,
        messages: Sequence[Any] = (),
        *,
        tools: Iterable[Any] | None = None,
        think: Think = None,
        prompt: str = "",
        suffix: str = "",
        force_legacy: bool = False,
    ) -> str:
        """Ollama's `Template.Execute(Values{...})`."""
        think_b, think_level, think_set = _think_values(think)
        system, msgs = collate(messages)
        if prompt and suffix:
            return self.template.execute(
                {
                    "Prompt": prompt,
                    "Suffix": suffix,
                    "Response": "",
                    "Think": think_b,
                    "ThinkLevel": think_level,
                    "IsThinkSet": think_set,
                }
            )
        if not force_legacy and ("messages" in self.vars or "document" in self.vars):
            return self.template.execute(
                {
                    "System": system,
                    "Messages": [go_message(m) for m in msgs],
                    "Tools": go_tools(None if tools is None else list(tools)),
                    "Response": "",
                    "Think": think_b,
                    "ThinkLevel": think_level,
                    "IsThinkSet": think_set,
                    "Query": "",
                    "Document": "",
                    "Instruction": "",
                }
            )

        out: list[str] = []
        sys_s = prompt_s = response_s = ""

        def values() -> dict[str, Any]:
            return {
                "System": sys_s,
                "Prompt": prompt_s,
                "Response": response_s,
                "Think": think_b,
                "ThinkLevel": think_level,
                "IsThinkSet": think_set,
            }

        for m in msgs:
            role = m.get("role")
            content = m.get("content", "") or ""
            if role == "system":
                if prompt_s or response_s:
                    out.append(self.template.execute(values()))
                    sys_s = prompt_s = response_s = ""
                sys_s = content
            elif role == "user":
                if response_s:
                    out.append(self.template.execute(values()))
                    sys_s = prompt_s = response_s = ""
                prompt_s = content
            elif role == "assistant":
                response_s = content
        out.append(self._legacy_template().execute(values()))
        return "".join(out)


def render_prompt(
    template: PromptTemplate,
    messages: Sequence[Any],
    *,
    tools: Iterable[Any] | None = None,
    think: Think = None,
) -> str:
    """Ollama's `renderPrompt` for a Go template."""
    return template.execute(messages, tools=tools, think=think)


# --- chat history fitting -------------------------------------------------------------------------


@dataclass
class ChatPrompt:
    """The rendered prompt, the images in tag order (`[img-N]` is `images[N]`), and how many of
    the request's messages were dropped from the front to fit the context."""

    prompt: str
    images: list[Any] = field(default_factory=list)
    truncated: int = 0


def _tool_block_start(msgs: Sequence[Mapping[str, Any]], idx: int) -> int:
    """Never start inside a run of tool results: back up to the assistant turn that called them."""
    if idx <= 0 or idx >= len(msgs) or msgs[idx].get("role") != "tool":
        return idx
    start = idx
    while start > 0 and msgs[start - 1].get("role") == "tool":
        start -= 1
    a = start - 1
    if a >= 0 and msgs[a].get("role") == "assistant" and msgs[a].get("tool_calls"):
        return a
    return idx


def _fit(
    template: PromptTemplate,
    msgs: list[dict[str, Any]],
    tools: list[Any] | None,
    think: Think,
    num_ctx: int,
    truncate: bool,
    image_tokens: int,
) -> Generator[str, int, ChatPrompt]:
    """chatPrompt as a coroutine: yields candidate prompts, receives their token counts."""
    system: list[dict[str, Any]] = []
    last = len(msgs) - 1
    curr = 0
    if truncate:
        for i in range(last + 1):
            start = _tool_block_start(msgs, i)
            system = [m for m in msgs[:start] if m.get("role") == "system"]
            p = render_prompt(template, system + msgs[start:], tools=tools, think=think)
            n = yield p
            n += image_tokens * sum(len(m.get("images") or []) for m in msgs[start:])
            if n <= num_ctx or i == last:
                curr = start
                break
    images: list[Any] = []
    kept: list[dict[str, Any]] = []
    for m in msgs[curr:]:
        m = dict(m)
        prefix = ""
        content = m.get("content", "") or ""
        for img in m.get("images") or []:
            tag = f"[img-{len(images)}]"
            images.append(img)
            if "[img]" not in content:
                prefix += tag
            else:
                content = content.replace("[img]", tag, 1)
        m["content"] = prefix + content
        kept.append(m)
    prompt = render_prompt(template, system + kept, tools=tools, think=think)
    return ChatPrompt(prompt, images, curr)


def _prepare(messages: Sequence[Any]) -> list[dict[str, Any]]:
    return [dict(_builtins(m)) for m in messages]


def chat_prompt(
    template: PromptTemplate,
    messages: Sequence[Any],
    *,
    count_tokens: Callable[[str], int],
    num_ctx: int,
    tools: Iterable[Any] | None = None,
    think: Think = None,
    truncate: bool = True,
    image_tokens: int = 0,
) -> ChatPrompt:
    """Ollama's `chatPrompt`: drop the oldest messages until the prompt fits `num_ctx`.

    System messages and the last message are always kept (a tool result is never split from the
    assistant tool call before it). `count_tokens(prompt)` returns the prompt's token count (sync;
    see `chat_prompt_async` for an awaitable tokenizer). `image_tokens` is what each image costs
    (Ollama counts 768 when the model has a projector, else 0).
    """
    gen = _fit(template, _prepare(messages), _list_or_none(tools), think, num_ctx, truncate, image_tokens)
    try:
        p = next(gen)
        while True:
            p = gen.send(count_tokens(p))
    except StopIteration as stop:
        result: ChatPrompt = stop.value
        return result


async def chat_prompt_async(
    template: PromptTemplate,
    messages: Sequence[Any],
    *,
    count_tokens: Callable[[str], Awaitable[int] | int],
    num_ctx: int,
    tools: Iterable[Any] | None = None,
    think: Think = None,
    truncate: bool = True,
    image_tokens: int = 0,
) -> ChatPrompt:
    """`chat_prompt` with a tokenizer that may be a coroutine function (e.g. the engine's)."""
    gen = _fit(template, _prepare(messages), _list_or_none(tools), think, num_ctx, truncate, image_tokens)
    try:
        p = next(gen)
        while True:
            n = count_tokens(p)
            if inspect.isawaitable(n):
                n = await n
            p = gen.send(int(n))
    except StopIteration as stop:
        result: ChatPrompt = stop.value
        return result


def _list_or_none(tools: Iterable[Any] | None) -> list[Any] | None:
    return None if tools is None else list(tools)


# --- /api/generate --------------------------------------------------------------------------------


def generate_messages(
    prompt: str,
    *,
    system: str | None = None,
    model_system: str | None = None,
    model_messages: Sequence[Any] = (),
    images: Sequence[Any] = (),
    has_context: bool = False,
) -> list[dict[str, Any]]:
    """The messages Ollama's generate handler builds: system (request's, else the Modelfile's),
    the Modelfile MESSAGEs (not when `context` is given), then the user prompt with its images."""
    msgs: list[dict[str, Any]] = []
    if system:
        msgs.append({"role": "system", "content": system})
    elif model_system:
        msgs.append({"role": "system", "content": model_system})
    if not has_context:
        msgs.extend(_prepare(model_messages))
    user: dict[str, Any] = {"role": "user", "content": prompt}
    if images:
        user["images"] = list(images)
    msgs.append(user)
    return msgs


def render_generate(
    template: PromptTemplate,
    prompt: str,
    *,
    system: str | None = None,
    model_system: str | None = None,
    model_messages: Sequence[Any] = (),
    suffix: str = "",
    images: Sequence[Any] = (),
    think: Think = None,
    context_text: str | None = None,
) -> ChatPrompt:
    """The non-raw `/api/generate` prompt: suffix (fill-in-middle) path or messages path.

    `context_text` is the detokenized deprecated `context`, prepended verbatim. Images are tagged
    `[img-N]` in the user message as chat does, so the engine can place them.
    """
    if suffix:
        body = template.execute(prompt=prompt, suffix=suffix, think=think)
        out = ChatPrompt(body, list(images), 0)
    else:
        msgs = generate_messages(
            prompt,
            system=system,
            model_system=model_system,
            model_messages=model_messages,
            images=images,
            has_context=context_text is not None,
        )
        out = chat_prompt(template, msgs, count_tokens=lambda _p: 0, num_ctx=0, think=think, truncate=False)
    if context_text:
        out.prompt = context_text + out.prompt
    return out
