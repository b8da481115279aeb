"""`olmo3` / `olmo3.1`: OLMo 3 Instruct's ChatML with `<functions>` and Python-style calls.

Mirrors Ollama's model/renderers/olmo3.go (`Olmo3Renderer`); `olmo3.1` only swaps in the longer
default system message. Thinking and images are not rendered.
"""

from __future__ import annotations

from typing import Any

from pyollama.renderers import Think
from pyollama.renderers.builtin._api import decode_messages, decode_tools
from pyollama.renderers.builtin._common import IM_END, IM_START
from pyollama.renderers.builtin._json import marshal, marshal_with_spaces

__all__ = ["Olmo3Renderer"]

DEFAULT_SYSTEM = "You are a helpful function-calling AI assistant. "
DEFAULT_SYSTEM_31 = (
    "You are Olmo, a helpful AI assistant built by Ai2. Your date cutoff is December 2024, and your "
    "model weights are available at https://huggingface.co/allenai. "
)
NO_FUNCTIONS = "You do not currently have access to any functions. "
WITH_FUNCTIONS = (
    "You are provided with function signatures within <functions></functions> XML tags. You may call "
    "one or more functions to assist with the user query. Output any function calls within "
    "<function_calls></function_calls> XML tags. Do not make assumptions about what values to plug "
    "into functions."
)


class Olmo3Renderer:
    """Go's `Olmo3Renderer{UseExtendedSystemMessage}`."""

    def __init__(self, *, extended_system_message: bool = False) -> None:
        self._extended = extended_system_message

    def leading_bos(self) -> str:
        return ""

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)

        # the first system message is the system turn; later ones are dropped
        systems = [m for m in msgs if m.role == "system"]
        filtered = [m for m in msgs if m.role != "system"]

        sb = [IM_START + "system\n"]
        if systems:
            sb.append(systems[0].content)
            if tool_list:
                sb.append("<functions>" + marshal_with_spaces(tool_list) + "</functions>")
        else:
            sb.append(DEFAULT_SYSTEM_31 if self._extended else DEFAULT_SYSTEM)
            if tool_list:
                sb.append(WITH_FUNCTIONS + "<functions>" + marshal_with_spaces(tool_list) + "</functions>")
            else:
                sb.append(NO_FUNCTIONS + "<functions></functions>")
        sb.append(IM_END + "\n")

        for i, m in enumerate(filtered):
            last = i == len(filtered) - 1
            if m.role == "user":
                sb.append(IM_START + "user\n" + m.content + IM_END + "\n")
            elif m.role == "assistant":
                sb.append(IM_START + "assistant\n" + m.content)
                if m.tool_calls:
                    calls = []
                    for tc in m.tool_calls:
                        # name(key=<json>, ...) with the keys sorted
                        args = tc.function.arguments
                        params = ", ".join(f"{k}={marshal(args[k])}" for k in sorted(args))
                        calls.append(f"{tc.function.name}({params})")
                    sb.append("<function_calls>" + "\n".join(calls) + "</function_calls>")
                # a last assistant turn with only content is a prefill and stays open
                if not last or m.tool_calls:
                    sb.append(IM_END + "\n")
            elif m.role == "tool":
                sb.append(IM_START + "environment\n" + m.content + IM_END + "\n")

        last_msg = filtered[-1] if filtered else None
        if not (last_msg and last_msg.role == "assistant" and not last_msg.tool_calls and last_msg.content):
            sb.append(IM_START + "assistant\n")
        return "".join(sb)
