"""`qwen3-vl-instruct` / `qwen3-vl-thinking`: Qwen3-VL's ChatML with Hermes-style JSON tool calls.

Mirrors Ollama's model/renderers/qwen3vl.go (`Qwen3VLRenderer`, `[img-N]` tags on).
"""

from __future__ import annotations

from typing import Any

from pyollama.renderers import Think
from pyollama.renderers.builtin._api import decode_messages, decode_tools
from pyollama.renderers.builtin._common import IM_END, IM_START, render_content_with_image_tags
from pyollama.renderers.builtin._json import marshal_with_spaces
from pyollama.think import think_bool

__all__ = ["Qwen3VLRenderer"]

_TOOLS_PREAMBLE = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
_TOOLS_POSTAMBLE = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>' + IM_END + "\n"
)


class Qwen3VLRenderer:
    """Go's `Qwen3VLRenderer{isThinking, useImgTags: true}`."""

    def __init__(self, *, thinking: bool) -> None:
        self._thinking = thinking

    def leading_bos(self) -> str:
        return ""

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)
        is_thinking = think_bool(think) if think is not None else self._thinking
        sb: list[str] = []

        first_is_system = bool(msgs) and msgs[0].role == "system"
        if tool_list:
            sb.append(IM_START + "system\n")
            if first_is_system:
                sb.append(msgs[0].content + "\n\n")
            sb.append(_TOOLS_PREAMBLE)
            for tool in tool_list:
                sb.append("\n" + marshal_with_spaces(tool))
            sb.append(_TOOLS_POSTAMBLE)
        elif first_is_system:
            sb.append(IM_START + "system\n" + msgs[0].content + IM_END + "\n")

        # the last real user query: user turns that are only a tool response (untrimmed) do not count
        last_query = len(msgs) - 1
        for i in range(len(msgs) - 1, -1, -1):
            m = msgs[i]
            if m.role == "user":
                content = render_content_with_image_tags(m.content, m.images, 0)[0]
                if not (content.startswith("<tool_response>") and content.endswith("</tool_response>")):
                    last_query = i
                    break

        image_offset = 0
        for i, m in enumerate(msgs):
            content, image_offset = render_content_with_image_tags(m.content, m.images, image_offset)
            last = i == len(msgs) - 1
            prefill = last and m.role == "assistant"

            if m.role == "user" or (m.role == "system" and i != 0):
                sb.append(IM_START + m.role + "\n" + content + IM_END + "\n")
            elif m.role == "assistant":
                reasoning = m.thinking if is_thinking else ""
                if is_thinking and i > last_query and (last or reasoning):
                    sb.append(IM_START + "assistant\n<think>\n" + reasoning.strip("\n"))
                    if content:
                        sb.append("\n</think>\n\n" + content.lstrip("\n"))
                else:
                    sb.append(IM_START + "assistant\n" + content)
                for j, tc in enumerate(m.tool_calls):
                    if j > 0 or content:
                        sb.append("\n")
                    sb.append(
                        '<tool_call>\n{"name": "'
                        + tc.function.name
                        + '", "arguments": '
                        + marshal_with_spaces(tc.function.arguments)
                        + "}\n</tool_call>"
                    )
                if not prefill:
                    sb.append(IM_END + "\n")
            elif m.role == "tool":
                if i == 0 or msgs[i - 1].role != "tool":
                    sb.append(IM_START + "user")
                sb.append("\n<tool_response>\n" + content + "\n</tool_response>")
                if last or msgs[i + 1].role != "tool":
                    sb.append(IM_END + "\n")

            if last and not prefill:
                sb.append(IM_START + "assistant\n")
                if is_thinking:
                    sb.append("<think>\n")
        return "".join(sb)
