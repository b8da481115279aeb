"""`lfm2` / `lfm2-thinking`: Liquid LFM2's ChatML with Pythonic tool calls and `<think>` blocks.

Mirrors Ollama's model/renderers/lfm2.go (`LFM2Renderer`, `[img-N]` tags on). JSON is written the
way the HF template's `tojson` writes it: no HTML escaping and Python's `", "`/`": "` separators.
"""

from __future__ import annotations

from typing import Any

from pyollama.go.strings import trim_space
from pyollama.renderers import Think
from pyollama.renderers.builtin._api import Message, Tool, ToolCall, decode_messages, decode_tools
from pyollama.renderers.builtin._common import render_content_with_image_tags
from pyollama.renderers.builtin._json import add_json_spaces, marshal
from pyollama.think import think_bool

__all__ = ["LFM2Renderer", "lfm2_json"]

BOS = "<|startoftext|>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
TOOL_LIST_START = "<|tool_list_start|>"
TOOL_LIST_END = "<|tool_list_end|>"
TOOL_CALL_START = "<|tool_call_start|>"
TOOL_CALL_END = "<|tool_call_end|>"
TOOL_RESPONSE_START = "<|tool_response_start|>"
TOOL_RESPONSE_END = "<|tool_response_end|>"


def lfm2_json(v: Any) -> str:
    """Go's `lfm2JSON`: an Encoder with HTML escaping off, then a space after each `:` and `,`.

    Ollama's ordered maps (tool properties) marshal themselves with escaping on, so `<` inside
    them still comes out as `\\u003c`.
    """
    return add_json_spaces(marshal(v, escape_html=False))


def _tool_schema(tool: Tool) -> Any:
    """Go's `lfm2ToolSchema`: the function object (name/description/parameters) when it has a name."""
    return tool.function if tool.function.name else tool


def _render_tool_calls(calls: tuple[ToolCall, ...]) -> str:
    """`[name(key=<json>,...),...]` with each call's keys sorted."""
    rendered = []
    for tc in calls:
        args = tc.function.arguments
        params = ",".join(f"{k}={lfm2_json(args[k])}" for k in sorted(args))
        rendered.append(f"{tc.function.name}({params})")
    return TOOL_CALL_START + "[" + ",".join(rendered) + "]" + TOOL_CALL_END


class LFM2Renderer:
    """Go's `LFM2Renderer{IsThinking, useImgTags: true}`."""

    def __init__(self, *, thinking: bool) -> None:
        self._thinking = thinking

    def leading_bos(self) -> str:
        return BOS

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)
        sb = [BOS]

        # the first system message (only if it leads) carries the tool list
        first_system = ""
        start = 0
        if msgs and msgs[0].role == "system":
            first_system = msgs[0].content
            start = 1
        if tool_list:
            if first_system:
                first_system += "\n"
            schemas = ", ".join(lfm2_json(_tool_schema(t)) for t in tool_list)
            first_system += "List of tools: " + TOOL_LIST_START + "[" + schemas + "]" + TOOL_LIST_END
        if first_system:
            sb.append("<|im_start|>system\n" + first_system + "<|im_end|>\n")

        keep_past_thinking = self._thinking and think_bool(think)
        last_assistant = max((i for i in range(start, len(msgs)) if msgs[i].role == "assistant"), default=-1)
        image_offset = sum(m.images for m in msgs[:start])

        for i in range(start, len(msgs)):
            m = msgs[i]
            prefill = i == len(msgs) - 1 and m.role == "assistant"
            sb.append("<|im_start|>" + m.role + "\n")
            content = self._content(m, image_offset)
            image_offset += m.images
            if m.role == "assistant" and m.tool_calls and TOOL_CALL_START not in content:
                calls = _render_tool_calls(m.tool_calls)
                content = calls + content if not trim_space(content) else calls + "\n" + content
            # the thinking variant puts the reasoning back in front, in the model's own format
            if self._thinking and m.role == "assistant" and m.thinking and THINK_CLOSE not in content:
                content = THINK_OPEN + m.thinking + THINK_CLOSE + content
            # earlier turns lose their reasoning unless thinking is kept
            if m.role == "assistant" and not keep_past_thinking and i != last_assistant:
                idx = content.rfind(THINK_CLOSE)
                if idx >= 0:
                    content = trim_space(content[idx + len(THINK_CLOSE) :])
            if m.role == "tool" and TOOL_RESPONSE_START not in content:
                content = TOOL_RESPONSE_START + content + TOOL_RESPONSE_END
            sb.append(content)
            if not prefill:
                sb.append("<|im_end|>\n")

        if not (msgs and msgs[-1].role == "assistant"):
            sb.append("<|im_start|>assistant\n")
        return "".join(sb)

    @staticmethod
    def _content(m: Message, image_offset: int) -> str:
        return render_content_with_image_tags(m.content, m.images, image_offset)[0]
