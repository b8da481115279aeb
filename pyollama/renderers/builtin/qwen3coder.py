"""`qwen3-coder`: Qwen3-Coder's ChatML with XML tool definitions and `<function=...>` calls.

Mirrors Ollama's model/renderers/qwen3coder.go (`Qwen3CoderRenderer`). Images are not rendered
(the model has no vision tower), thinking is ignored.
"""

from __future__ import annotations

from typing import Any

from pyollama.go.fmt import v_any
from pyollama.renderers import Think
from pyollama.renderers.builtin._api import Tool, decode_messages, decode_tools
from pyollama.renderers.builtin._common import IM_END, IM_START
from pyollama.renderers.builtin._json import decoded, marshal

__all__ = ["Qwen3CoderRenderer", "format_tool_call_argument", "format_tool_definition_type"]

DEFAULT_SYSTEM = "You are Qwen, a helpful AI assistant that can interact with a computer to solve tasks."

TOOLS_POSTAMBLE = """

If you choose to call a function ONLY reply in the following format with NO suffix:

<tool_call>
<function=example_function_name>
<parameter=example_parameter_1>
value_1
</parameter>
<parameter=example_parameter_2>
This is the value for the second parameter
that can span
multiple lines
</parameter>
</function>
</tool_call>

<IMPORTANT>
Reminder:
- Function calls MUST follow the specified format: an inner <function=...></function> block must be \
nested within <tool_call></tool_call> XML tags
- Required parameters MUST be specified
- You may provide optional reasoning for your function call in natural language BEFORE the function \
call, but NOT after
- If there is no function call available, answer the question like normal with your current knowledge \
and do not tell the user about function calls
</IMPORTANT>"""


def format_tool_call_argument(value: Any) -> str:
    """Go's `formatToolCallArgument`: strings raw, maps and arrays as JSON, the rest `%v`."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return marshal(value)
    return v_any(value)


def format_tool_definition_type(types: tuple[str, ...]) -> str:
    """Go's `formatToolDefinitionType`: one type bare, several as a JSON array, none `[]`."""
    if not types:
        return "[]"
    if len(types) == 1:
        return types[0]
    return marshal(list(types))


def render_additional_keys(obj: Any, handled: frozenset[str]) -> str:
    """Go's `renderAdditionalKeys`: every other JSON field of `obj` as `<key>value</key>`.

    Go round-trips `obj` through a `map[string]any` and ranges over it, so its order is random;
    this writes the fields in the struct's declaration order (the order `json.Marshal` uses).
    """
    out = []
    for key, value in decoded(obj).items():
        if key in handled or value is None:
            continue
        text = marshal(value) if isinstance(value, dict | list) else v_any(value)
        out.append(f"\n<{key}>{text}</{key}>")
    return "".join(out)


_PROP_HANDLED = frozenset({"type", "description"})
_PARAMS_HANDLED = frozenset({"type", "properties"})


def _render_tools(tools: list[Tool]) -> str:
    parts = ["\n\n# Tools\n\nYou have access to the following functions:\n\n<tools>"]
    for tool in tools:
        fn = tool.function
        parts.append("\n<function>\n<name>" + fn.name + "</name>")
        if fn.description:
            parts.append("\n<description>" + fn.description + "</description>")
        parts.append("\n<parameters>")
        for name, prop in (fn.parameters.properties or {}).items():
            parts.append("\n<parameter>\n<name>" + name + "</name>")
            if prop.type:
                parts.append("\n<type>" + format_tool_definition_type(prop.type) + "</type>")
            if prop.description:
                parts.append("\n<description>" + prop.description + "</description>")
            parts.append(render_additional_keys(prop, _PROP_HANDLED))
            parts.append("\n</parameter>")
        parts.append(render_additional_keys(fn.parameters, _PARAMS_HANDLED))
        parts.append("\n</parameters>\n</function>")
    parts.append("\n</tools>")
    parts.append(TOOLS_POSTAMBLE)
    return "".join(parts)


class Qwen3CoderRenderer:
    """Go's `Qwen3CoderRenderer`."""

    def leading_bos(self) -> str:
        return ""

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)
        sb: list[str] = []

        # the first non-empty system message wins; the others are dropped
        system = ""
        filtered = []
        for m in msgs:
            if m.role != "system":
                filtered.append(m)
            elif not system:
                system = m.content

        if system or tool_list:
            sb.append(IM_START + "system\n")
            sb.append(system or DEFAULT_SYSTEM)
            if tool_list:
                sb.append(_render_tools(tool_list))
            sb.append(IM_END + "\n")

        for i, m in enumerate(filtered):
            last = i == len(filtered) - 1
            prefill = last and m.role == "assistant"
            if m.role == "assistant":
                sb.append(IM_START + "assistant\n")
                if m.tool_calls:
                    if m.content:
                        sb.append(m.content + "\n")
                    for tc in m.tool_calls:
                        sb.append("\n<tool_call>\n<function=" + tc.function.name + ">")
                        for name, value in tc.function.arguments.items():
                            sb.append(
                                f"\n<parameter={name}>\n{format_tool_call_argument(value)}\n</parameter>"
                            )
                        sb.append("\n</function>\n</tool_call>")
                    sb.append(IM_END + "\n")
                else:
                    sb.append(m.content)
                    if not prefill:
                        sb.append(IM_END + "\n")
            elif m.role == "tool":
                # consecutive tool results share one user turn, each in its own <tool_response>
                if i == 0 or filtered[i - 1].role != "tool":
                    sb.append(IM_START + "user")
                sb.append("\n<tool_response>\n" + m.content + "\n</tool_response>")
                if last or filtered[i + 1].role != "tool":
                    sb.append(IM_END + "\n")
            else:
                sb.append(IM_START + m.role + "\n" + m.content + IM_END + "\n")

            if last and not prefill:
                sb.append(IM_START + "assistant\n")
        return "".join(sb)
