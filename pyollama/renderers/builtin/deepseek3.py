"""`deepseek3.1`: DeepSeek-V3.1's prompt, `<think>`/`</think>` after each assistant tag.

Mirrors Ollama's model/renderers/deepseek3.go (`DeepSeek3Renderer{IsThinking: true, Variant:
Deepseek31}`): thinking only when the request asks for it.
"""

# DeepSeek's special tokens are written with U+FF5C (fullwidth vertical line) on purpose
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any

from pyollama.renderers import Think
from pyollama.renderers.builtin._api import decode_messages, decode_tools
from pyollama.renderers.builtin._json import marshal
from pyollama.think import think_bool

__all__ = ["DeepSeek3Renderer"]

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"

_TOOLS_USAGE = (
    "\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n"
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool_call_name<｜tool▁sep｜>tool_call_arguments"
    "<｜tool▁call▁end｜>{{additional_tool_calls}}<｜tool▁calls▁end｜>\n\n"
    "Where:\n\n"
    "- `tool_call_name` must be an exact match to one of the available tools\n"
    "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n"
    "- For multiple tool calls, chain them directly without separators or spaces\n"
)


class DeepSeek3Renderer:
    """Go's `DeepSeek3Renderer`."""

    def __init__(self, *, thinking: bool = True) -> None:
        self._thinking = thinking

    def leading_bos(self) -> str:
        return BOS

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)
        thinking = self._thinking and think_bool(think)

        # every system message, wherever it is, goes up front
        sb = [BOS, "\n\n".join(m.content for m in msgs if m.role == "system")]

        if tool_list:
            sb.append("\n\n## Tools\nYou have access to the following tools:\n")
            for tool in tool_list:
                sb.append("\n### " + tool.function.name)
                sb.append("\nDescription: " + tool.function.description)
                sb.append("\n\nParameters: " + marshal(tool.function.parameters) + "\n")
            sb.append(_TOOLS_USAGE)

        is_tool = False
        last_is_user = False
        last_user = max((i for i, m in enumerate(msgs) if m.role == "user"), default=-1)

        for i, m in enumerate(msgs):
            if m.role == "user":
                is_tool = False
                last_is_user = True
                sb.append("<｜User｜>" + m.content)
            elif m.role == "assistant":
                if m.tool_calls:
                    if last_is_user:
                        sb.append("<｜Assistant｜></think>")
                    last_is_user = False
                    is_tool = False
                    sb.append(m.content)
                    sb.append("<｜tool▁calls▁begin｜>")
                    for tc in m.tool_calls:
                        sb.append("<｜tool▁call▁begin｜>" + tc.function.name + "<｜tool▁sep｜>")
                        sb.append(marshal(tc.function.arguments))
                        sb.append("<｜tool▁call▁end｜>")
                    sb.append("<｜tool▁calls▁end｜>" + EOS)
                    continue
                if last_is_user:
                    sb.append("<｜Assistant｜>")
                    # <think> only for the turn being answered (after the last user message)
                    if m.thinking and thinking and i > last_user:
                        sb.append("<think>")
                    else:
                        sb.append("</think>")
                last_is_user = False
                content = m.content
                if is_tool:
                    is_tool = False
                elif "</think>" in content:
                    content = content.split("</think>", 1)[1]
                sb.append(content + EOS)
            elif m.role == "tool":
                last_is_user = False
                is_tool = True
                sb.append("<｜tool▁output▁begin｜>" + m.content + "<｜tool▁output▁end｜>")

        if last_is_user and not is_tool:
            sb.append("<｜Assistant｜>")
            sb.append("<think>" if thinking else "</think>")
        return "".join(sb)
