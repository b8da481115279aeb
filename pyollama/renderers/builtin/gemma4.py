"""`gemma4` / `gemma4-small` / `gemma4-large`: Gemma 4's `<|turn>role ... <turn|>` prompt.

Mirrors the message loop of Ollama's model/renderers/gemma4.go (`Gemma4Renderer`, `[img-N]` tags
on): tool calls and their responses fold into the assistant's model turn, adjacent assistant
messages continue one model turn, and thinking shows as `<|channel>thought ... <channel|>`.
`gemma4-large` (the 26B/31B templates) also writes an empty thought block after the generation
prompt when thinking is off. The declaration and value formats are in `gemma4_schema`.
"""

from __future__ import annotations

from typing import Any

from pyollama.go.strings import trim_space
from pyollama.renderers import Think
from pyollama.renderers.builtin._api import Message, ToolCall, decode_messages, decode_tools
from pyollama.renderers.builtin._common import render_content_with_image_tags
from pyollama.renderers.builtin.gemma4_schema import Q, format_tool_call, render_tool_declaration
from pyollama.think import think_bool

__all__ = ["Gemma4Renderer", "strip_thinking"]

BOS = "<bos>"
CHANNEL_OPEN = "<|channel>"
CHANNEL_CLOSE = "<channel|>"


def strip_thinking(text: str) -> str:
    """Go's `stripThinking` (the template's `strip_thinking` macro): drop `<|channel>...<channel|>`.

    An unclosed block drops the rest of the text. The result is trimmed.
    """
    out = []
    while True:
        start = text.find(CHANNEL_OPEN)
        if start == -1:
            out.append(text)
            break
        out.append(text[:start])
        end = text.find(CHANNEL_CLOSE, start)
        if end == -1:
            break
        text = text[end + len(CHANNEL_CLOSE) :]
    return trim_space("".join(out))


def _tool_response_name(message: Message, calls: tuple[ToolCall, ...]) -> str:
    """The tool's name, from the call its `tool_call_id` answers when there is one."""
    name = message.tool_name or "unknown"
    if message.tool_call_id:
        for tc in calls:
            if tc.id == message.tool_call_id:
                return tc.function.name
    return name


def _next_non_tool_role(messages: list[Message], idx: int) -> str:
    return next((m.role for m in messages[idx + 1 :] if m.role != "tool"), "")


class Gemma4Renderer:
    """Go's `Gemma4Renderer{useImgTags: true, emptyBlockOnNothink}`."""

    def __init__(self, *, empty_block_on_nothink: bool = False) -> None:
        self._empty_block_on_nothink = empty_block_on_nothink

    def leading_bos(self) -> str:
        return BOS

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, think: Think) -> str:
        msgs = decode_messages(messages)
        tool_list = decode_tools(tools)
        image_offset = 0

        def content(text: str, images: int) -> str:
            nonlocal image_offset
            if images:
                text, image_offset = render_content_with_image_tags(text, images, image_offset)
            return text

        # Gemma 4's tokenizer does not add BOS (add_bos_token=false), so the prompt carries it
        sb = [BOS]
        has_system = bool(msgs) and msgs[0].role in ("system", "developer")
        system = msgs[0].content if has_system else ""
        loop = msgs[1:] if has_system else msgs

        has_think = think_bool(think)
        if has_system or tool_list or has_think:
            sb.append("<|turn>system\n")
            if has_think:
                sb.append("<|think|>\n")
            sb.append(trim_space(system))
            sb.extend(render_tool_declaration(t) for t in tool_list)
            sb.append("<turn|>\n")

        last_user = max((i for i, m in enumerate(loop) if m.role == "user"), default=-1)
        prev_type = ""
        prev_non_tool_role = ""

        for i, m in enumerate(loop):
            if m.role == "tool":
                continue  # written with the assistant turn whose calls it answers, or not at all
            prev_type = ""
            role = "model" if m.role == "assistant" else m.role
            if not (role == "model" and prev_non_tool_role == "assistant"):
                sb.append("<|turn>" + role + "\n")

            if m.role == "assistant" and m.thinking and i > last_user:
                sb.append("<|channel>thought\n" + m.thinking + "\n<channel|>")

            for tc in m.tool_calls:
                sb.append(format_tool_call(tc))
                prev_type = "tool_call"

            responses_emitted = False
            if m.tool_calls:
                k = i + 1
                while k < len(loop) and loop[k].role == "tool":
                    response = content(loop[k].content, loop[k].images)
                    name = _tool_response_name(loop[k], m.tool_calls)
                    sb.append(f"<|tool_response>response:{name}{{value:{Q}{response}{Q}}}<tool_response|>")
                    responses_emitted = True
                    prev_type = "tool_response"
                    k += 1

            had_content = False
            if role == "model":
                if m.content or m.images:
                    text = strip_thinking(m.content)
                    sb.append(content(text, m.images))
                    had_content = trim_space(text) != "" or m.images > 0
            else:
                text = trim_space(m.content)
                sb.append(content(text, m.images))
                had_content = text != "" or m.images > 0

            next_role = _next_non_tool_role(loop, i)
            continues = (
                role == "model" and next_role == "assistant" and (not m.tool_calls or responses_emitted)
            )
            if prev_type == "tool_call" and not responses_emitted:
                sb.append("<|tool_response>")
            elif not continues and not (responses_emitted and not had_content and next_role == ""):
                sb.append("<turn|>\n")
            prev_non_tool_role = m.role

        # the generation prompt, unless the model is mid-turn after tool calls
        if prev_type not in ("tool_response", "tool_call"):
            sb.append("<|turn>model\n")
            if self._empty_block_on_nothink and not has_think:
                sb.append("<|channel>thought\n<channel|>")
        elif prev_type == "tool_response" and has_think:
            sb.append("<|channel>thought\n")
        return "".join(sb)
