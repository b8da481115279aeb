"""`qwen3.5`: Qwen 3.5's ChatML with JSON tool definitions, XML tool calls and `<think>` blocks.

Mirrors Ollama's model/renderers/qwen35.go (`Qwen35Renderer` as `rendererForName` builds it for
"qwen3.5": thinking on by default, an empty `<think>` block when thinking is off, `[img-N]` tags).
The Qwen 3.8 variant of the same Go type (reasoning-effort instructions, folded system turns) is a
different RENDERER name and is not part of this one.
"""

from __future__ import annotations

from typing import Any

from pyollama.go.strings import trim_space
from pyollama.renderers import Think
from pyollama.renderers.builtin._api import Message, decode_messages, decode_tools
from pyollama.renderers.builtin._common import IM_END, IM_START, render_content_with_image_tags
from pyollama.renderers.builtin._json import marshal_with_spaces
from pyollama.renderers.builtin.qwen3coder import TOOLS_POSTAMBLE, format_tool_call_argument
from pyollama.think import think_bool

__all__ = ["Qwen35Renderer", "split_reasoning_content"]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def split_reasoning_content(content: str, thinking: str, is_thinking: bool) -> tuple[str, str]:
    """Go's `splitQwen35ReasoningContent`: (reasoning, remaining content) of an assistant turn.

    The message's own `thinking` wins when the think block is rendered; otherwise reasoning is cut
    out of the content up to its first `</think>` (from the last `<think>` before it).
    """
    if is_thinking and thinking:
        return trim_space(thinking), content
    reasoning = ""
    idx = content.find(THINK_CLOSE)
    if idx != -1:
        before = content[:idx]
        opening = before.rfind(THINK_OPEN)
        reasoning = before[opening + len(THINK_OPEN) :] if opening != -1 else before
        content = content[idx + len(THINK_CLOSE) :].lstrip("\n")
    return trim_space(reasoning), content


def _is_tool_response(content: str) -> bool:
    return content.startswith("<tool_response>") and content.endswith("</tool_response>")


class Qwen35Renderer:
    """Go's `Qwen35Renderer{isThinking: true, emitEmptyThinkOnNoThink: true, useImgTags: true}`."""

    def __init__(self, *, thinking: bool = True, empty_think_on_no_think: bool = True) -> None:
        self._thinking = thinking
        self._empty_think_on_no_think = empty_think_on_no_think

    def leading_bos(self) -> str:
        return ""

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)
        is_thinking = think_bool(think) if think is not None else self._thinking
        sb: list[str] = []

        def content_of(m: Message, offset: int) -> tuple[str, int]:
            return render_content_with_image_tags(m.content, m.images, offset)

        first_is_system = bool(msgs) and msgs[0].role == "system"
        if tool_list:
            sb.append(IM_START + "system\n# Tools\n\nYou have access to the following functions:\n\n<tools>")
            for tool in tool_list:
                sb.append("\n" + marshal_with_spaces(tool))
            sb.append("\n</tools>" + TOOLS_POSTAMBLE)
            if first_is_system:
                system = trim_space(content_of(msgs[0], 0)[0])
                if system:
                    sb.append("\n\n" + system)
            sb.append(IM_END + "\n")
        elif first_is_system:
            system = trim_space(content_of(msgs[0], 0)[0])
            sb.append(IM_START + "system\n" + system + IM_END + "\n")

        # the last real user query: user turns that only carry tool responses do not count
        last_query = len(msgs) - 1
        for i in range(len(msgs) - 1, -1, -1):
            m = msgs[i]
            if m.role == "user" and not _is_tool_response(trim_space(content_of(m, 0)[0])):
                last_query = i
                break

        image_offset = 0
        for i, m in enumerate(msgs):
            content, image_offset = content_of(m, image_offset)
            content = trim_space(content)
            last = i == len(msgs) - 1
            prefill = last and m.role == "assistant"

            if m.role == "user" or (m.role == "system" and i != 0):
                sb.append(IM_START + m.role + "\n" + content + IM_END + "\n")
            elif m.role == "assistant":
                think_block = is_thinking and i > last_query
                reasoning, content = split_reasoning_content(content, m.thinking, think_block)
                if think_block:
                    sb.append(IM_START + "assistant\n<think>\n" + reasoning + "\n</think>\n\n" + content)
                else:
                    sb.append(IM_START + "assistant\n" + content)
                for j, tc in enumerate(m.tool_calls):
                    if j > 0:
                        sb.append("\n")
                    elif trim_space(content):
                        sb.append("\n\n")
                    sb.append("<tool_call>\n<function=" + tc.function.name + ">\n")
                    for name, value in tc.function.arguments.items():
                        sb.append(f"<parameter={name}>\n{format_tool_call_argument(value)}\n</parameter>\n")
                    sb.append("</function>\n</tool_call>")
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
                elif self._empty_think_on_no_think:
                    sb.append("<think>\n\n</think>\n\n")
        return "".join(sb)
