"""`glm-4.7`: GLM-4.7's `[gMASK]<sop>` prompt with `<arg_key>/<arg_value>` tool calls.

Mirrors Ollama's model/renderers/glm47.go (`GLM47Renderer`): thinking on unless the request turns
it off, reasoning of earlier turns kept (`clear_thinking=false`). Images are not rendered.
"""

from __future__ import annotations

from typing import Any

from pyollama.renderers import Think
from pyollama.renderers.builtin._api import Arguments, decode_messages, decode_tools
from pyollama.renderers.builtin._json import add_json_spaces, marshal
from pyollama.think import think_bool

__all__ = ["GLM47Renderer", "render_tool_arguments"]

_TOOLS_PREAMBLE = (
    "<|system|>\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
_TOOLS_POSTAMBLE = (
    "</tools>\n\nFor each function call, output the function name and arguments within the following "
    "XML format:\n<tool_call>{function-name}<arg_key>{arg-key-1}</arg_key><arg_value>{arg-value-1}"
    "</arg_value><arg_key>{arg-key-2}</arg_key><arg_value>{arg-value-2}</arg_value>...</tool_call>"
)


def render_tool_arguments(args: Arguments) -> str:
    """Go's `renderGLM47ToolArguments`: strings raw, everything else as JSON, in argument order."""
    return "".join(
        f"<arg_key>{key}</arg_key><arg_value>{v if isinstance(v, str) else marshal(v)}</arg_value>"
        for key, v in args.items()
    )


class GLM47Renderer:
    """Go's `GLM47Renderer`."""

    def leading_bos(self) -> str:
        return ""

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)
        sb = ["[gMASK]<sop>"]

        if tool_list:
            sb.append(_TOOLS_PREAMBLE)
            for tool in tool_list:
                # formatGLM47ToolJSON: the same spacing as marshalWithSpaces
                sb.append(add_json_spaces(marshal(tool)) + "\n")
            sb.append(_TOOLS_POSTAMBLE)

        thinking = think is None or think_bool(think)
        for i, m in enumerate(msgs):
            if m.role == "user":
                sb.append("<|user|>" + m.content)
            elif m.role == "assistant":
                sb.append("<|assistant|>")
                sb.append("<think>" + m.thinking + "</think>" if m.thinking else "</think>")
                sb.append(m.content)
                for tc in m.tool_calls:
                    sb.append("<tool_call>" + tc.function.name + render_tool_arguments(tc.function.arguments))
                    sb.append("</tool_call>")
            elif m.role == "tool":
                if i == 0 or msgs[i - 1].role != "tool":
                    sb.append("<|observation|>")
                sb.append("<tool_response>" + m.content + "</tool_response>")
            elif m.role == "system":
                sb.append("<|system|>" + m.content)

        sb.append("<|assistant|>")
        sb.append("<think>" if thinking else "</think>")
        return "".join(sb)
