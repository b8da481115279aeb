"""`olmo3-think` / `olmo3-32b-think`: OLMo 3 Think's ChatML, always opening a `<think>` block.

Mirrors Ollama's model/renderers/olmo3_think.go (`Olmo3ThinkRenderer`). The think models take no
tools: tool definitions are ignored and tool messages dropped.
"""

from __future__ import annotations

from typing import Any

from pyollama.renderers import Think
from pyollama.renderers.builtin._api import decode_messages
from pyollama.renderers.builtin._common import IM_END, IM_START

__all__ = ["Olmo3ThinkRenderer"]

FUNCTIONS_SUFFIX = " You do not currently have access to any functions. <functions></functions>"
SYSTEM_32B = "You are a helpful AI assistant."
SYSTEM_31 = (
    "You are Olmo, a helpful AI assistant built by Ai2. Your date cutoff is December 2024, and your "
    "model weights are available at https://huggingface.co/allenai."
)


class Olmo3ThinkRenderer:
    """Go's `Olmo3ThinkRenderer`: `olmo3-32b-think` is `Olmo3Think32B`, `olmo3-think` `Olmo31Think`."""

    def __init__(self, *, variant_32b: bool = False) -> None:
        self._variant_32b = variant_32b

    def leading_bos(self) -> str:
        return ""

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        systems = [m for m in msgs if m.role == "system"]

        sb = [IM_START + "system\n"]
        if systems:
            sb.append(systems[0].content + FUNCTIONS_SUFFIX)
        else:
            sb.append(SYSTEM_32B if self._variant_32b else SYSTEM_31)
        sb.append(IM_END + "\n")

        for m in msgs:
            if m.role in ("user", "assistant"):
                sb.append(IM_START + m.role + "\n" + m.content + IM_END + "\n")
        sb.append(IM_START + "assistant\n<think>")
        return "".join(sb)
