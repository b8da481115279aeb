"""Reading the rendered path's raw stream: content, thinking and tool calls, as Ollama reads them.

On the rendered path llama.cpp returns plain text. A model's built-in PARSER reads it when it has
one; otherwise the thinking tags inferred from the Go TEMPLATE split off thinking, and the tool-call
tag inferred from the template (or the bare-JSON fallback) finds calls (routes.go ChatHandler and
GenerateHandler). Each raw chunk becomes at most one parsed chunk; chunks that only carry held-back
text are not sent, but their logprobs are (Ollama drops some of them; pyollama never does).
"""

from __future__ import annotations

from typing import Any

from pyollama.parsers import BuiltinParser
from pyollama.parsers.thinking import ThinkingParser
from pyollama.parsers.tools import ToolCallParser
from pyollama.runner.types import Chunk, ToolCall


def _with_ids(calls: list[ToolCall]) -> list[ToolCall]:
    from pyollama.server.planner.prompt import tool_call_id

    for c in calls:
        if not c.id:
            c.id = tool_call_id()
    return calls


def _copy_done(raw: Chunk, out: Chunk) -> Chunk:
    out.done = raw.done
    out.done_reason = raw.done_reason
    out.prompt_eval_count = raw.prompt_eval_count
    out.prompt_eval_cached_count = raw.prompt_eval_cached_count
    out.prompt_eval_duration = raw.prompt_eval_duration
    out.eval_count = raw.eval_count
    out.eval_duration = raw.eval_duration
    return out


class OutputPipeline:
    """One request's parsers, fed raw chunks in order (`feed`), releasing parsed ones."""

    def __init__(
        self,
        *,
        builtin: BuiltinParser | None,
        thinking: ThinkingParser | None,
        tools: ToolCallParser | None,
        calls_at_end: bool = False,
    ) -> None:
        self.builtin = builtin
        self.thinking = thinking
        self.tools = tools
        self.calls_at_end = calls_at_end  # /api/generate sends a built-in parser's calls once, at the end
        self._held_calls: list[ToolCall] = []
        self.thought = False  # some thinking text was released
        self.answering = False  # some answer content or a tool call was released after it

    def prime(self, text: str) -> None:
        """Text the prompt already holds but the parsers must see as output (a prefilled opening
        tag), fed without releasing anything."""
        if not text:
            return
        if self.builtin is not None:
            self.builtin.add(text, False)
        else:
            rest = text
            if self.thinking is not None:
                _, rest = self.thinking.add_content(text)
            if self.tools is not None and rest:
                self.tools.add(rest)

    def feed(self, raw: Chunk) -> Chunk | None:
        out = self._parse(raw)
        if out.thinking:
            self.thought = True
        elif self.thought and (out.content.strip() or out.tool_calls):
            self.answering = True
        if raw.done:
            return _copy_done(raw, out)
        if out.content or out.thinking or out.tool_calls or out.logprobs:
            return out
        return None

    def _parse(self, raw: Chunk) -> Chunk:
        out = Chunk(logprobs=raw.logprobs)
        if self.builtin is not None:
            parsed = self.builtin.add(raw.content, raw.done)
            out.content, out.thinking = parsed.content, parsed.thinking
            calls = _with_ids(list(parsed.calls))
            if self.calls_at_end:
                self._held_calls.extend(calls)
                calls = self._held_calls if raw.done else []
            out.tool_calls = calls or None
            return out
        content = raw.content
        if self.thinking is not None:
            out.thinking, content = self.thinking.add_content(content)
        if self.tools is None:
            out.content = content
            return out
        calls, text = self.tools.add(content)
        if text:
            out.content = text
        elif calls:
            out.tool_calls = _with_ids(calls)
        if raw.done and not out.content and not out.tool_calls:
            out.content = self.tools.content()
        return out


def forced_call_schema(tools: list[dict[str, Any]], array: bool) -> dict[str, Any]:
    """A JSON schema every forced tool call satisfies: one of the offered functions by name, with
    that function's parameters as its arguments (`array`: a list of such calls)."""
    variants = []
    for t in tools:
        fn = t.get("function") or {}
        params = fn.get("parameters") or {"type": "object"}
        if not params.get("type"):
            params = {**params, "type": "object"}
        variants.append(
            {
                "type": "object",
                "properties": {"name": {"const": fn.get("name", "")}, "arguments": params},
                "required": ["name", "arguments"],
            }
        )
    call = variants[0] if len(variants) == 1 else {"anyOf": variants}
    return {"type": "array", "items": call, "minItems": 1} if array else call
