"""`cogito`: Deep Cogito's DeepSeek-style prompt with indented JSON tool definitions.

Mirrors Ollama's model/renderers/cogito.go (`CogitoRenderer{isThinking: true}`): thinking only
when the request asks for it.
"""

# DeepSeek's special tokens are written with U+FF5C (fullwidth vertical line) on purpose
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any

from pyollama.renderers import Think
from pyollama.renderers.builtin._api import decode_messages, decode_tools
from pyollama.renderers.builtin._json import marshal, marshal_indent
from pyollama.think import think_bool

__all__ = ["CogitoRenderer"]

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
DEFAULT_PROMPT = (
    "You are Cogito, an AI assistant created by Deep Cogito, which is an AI research lab based in "
    "San Francisco."
)


class CogitoRenderer:
    """Go's `CogitoRenderer`."""

    def __init__(self, *, thinking: bool = True) -> None:
        self._thinking = thinking

    def leading_bos(self) -> str:
        return BOS

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)
        enable_thinking = self._thinking and think_bool(think)

        system = ""
        conversation = msgs
        if msgs and msgs[0].role == "system":
            system = msgs[0].content
            conversation = msgs[1:]

        if enable_thinking:
            final_system = "Enable deep thinking subroutine.\n\n" + DEFAULT_PROMPT
            if system:
                final_system += "\n\n" + system + "\n\n"
        else:
            final_system = DEFAULT_PROMPT
            if system:
                final_system += "\n\n" + system

        if tool_list:
            final_system += "\nYou have the following functions available:\n"
            for tool in tool_list:
                final_system += "```json\n" + marshal_indent(tool, "", "    ") + "\n```\n"

        sb = [BOS + final_system]
        outputs_open = False
        last_is_user = False
        for i, m in enumerate(conversation):
            if m.role == "user":
                last_is_user = True
                sb.append("<｜User｜>" + m.content + "<｜Assistant｜>")
            elif m.role == "assistant":
                last_is_user = False
                if m.tool_calls:
                    sb.append(m.content)
                    sb.append("<｜tool▁calls▁begin｜>")
                    for j, tc in enumerate(m.tool_calls):
                        sb.append("<｜tool▁call▁begin｜>function<｜tool▁sep｜>" + tc.function.name)
                        sb.append("\n```json\n" + marshal(tc.function.arguments) + "\n```")
                        sb.append("<｜tool▁call▁end｜>")
                        if j < len(m.tool_calls) - 1:
                            sb.append("\n")
                    sb.append("<｜tool▁calls▁end｜>" + EOS)
                else:
                    sb.append(m.content + EOS)
            elif m.role == "tool":
                last_is_user = False
                if not outputs_open:
                    sb.append("<｜tool▁outputs▁begin｜>")
                    outputs_open = True
                sb.append("<｜tool▁output▁begin｜>" + m.content + "<｜tool▁output▁end｜>")
                if i + 1 < len(conversation) and conversation[i + 1].role == "tool":
                    sb.append("\n")
                else:
                    sb.append("<｜tool▁outputs▁end｜>")
                    outputs_open = False

        if outputs_open:
            sb.append("<｜tool▁outputs▁end｜>")
        if not last_is_user:
            sb.append("<｜Assistant｜>")
        if enable_thinking:
            sb.append("<think>\n")
        return "".join(sb)
