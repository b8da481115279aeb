"""Carrying out a plan on a runner: the engine requests, the output parsers, the constraints.

Structured output and forced tool calls on thinking models: constraining from the first token would
forbid the thinking itself (Ollama's users report `format` breaking thinking models). Ollama stops
when thinking ends and sends a second request with the thinking rendered into the prompt. pyollama
continues instead: the second request's prompt is the first prompt plus the raw text generated
through the end of thinking, so nothing is re-rendered, the KV cache holds all of it, and the
constraint (the format's grammar, or a forced call's schema after the call tag) applies only to the
answer. On the Jinja path llama.cpp builds a grammar that already leaves the reasoning free.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from pyollama.parsers.thinking import ThinkingParser
from pyollama.parsers.tools import ToolCallParser
from pyollama.runner.base import ChatRequest, CompletionRequest, Format, Runner
from pyollama.runner.types import Chunk
from pyollama.server.planner.output import OutputPipeline, forced_call_schema
from pyollama.server.planner.plan import Plan
from pyollama.server.planner.prompt import PromptBuilder, Rendered, Templates, tool_call_id
from pyollama.server.scheduler import Lease, Scheduler
from pyollama.template import infer_thinking_tags, tool_call_tag

log = logging.getLogger("pyollama.server")

# Built-in parsers whose calls are a tag and a JSON object, as the generic `<tool_call>` parser
# reads them: a forced call is that tag prefilled and the call's schema after it.
_FORCED_CALL_TAG = {"qwen3": "<tool_call>\n", "qwen3-thinking": "<tool_call>\n"}


def _preserved_for_tag(tag: str) -> list[str]:
    """llama.cpp keeps only strings that are one special token; a tag like `[TOOL_CALLS][` keeps its
    leading special token (Ollama's llamaServerPreservedTokensForToolTag)."""
    if not tag or tag in ("{", "["):
        return []
    close = {"[": "]", "<": ">"}.get(tag[0])
    if close and close in tag[1:]:
        return [tag[: tag.index(close, 1) + 1]]
    return [tag]


class Run:
    """One plan executed on one runner: `stream()` yields parsed chunks, the last with done=True."""

    def __init__(self, plan: Plan, runner: Runner, rendered: Rendered, templates: Templates) -> None:
        self.plan = plan
        self.runner = runner
        self.rendered = rendered
        self.templates = templates
        self._prompt_tokens: list[int] | None = rendered.prompt if isinstance(rendered.prompt, list) else None
        self._generated: list[int] = []
        self._text: list[str] = []

    # --- what the routes read afterwards ---------------------------------------------------------

    @property
    def response_text(self) -> str:
        return "".join(self._text)

    async def context(self) -> list[int]:
        """Ollama's deprecated `context` of /api/generate: prompt tokens then the answer's."""
        r = self.rendered
        tokens = self._prompt_tokens
        if tokens is None:
            text = r.prompt if isinstance(r.prompt, str) and r.messages is None else None
            if text is None:
                text = await self.runner.apply_template(r.messages or [], add_generation_prompt=True)
            tokens = await self.runner.tokenize(text, add_special=True)
        if self._generated:
            return tokens + self._generated
        return tokens + await self.runner.tokenize(self.response_text)

    # --- the engine requests ---------------------------------------------------------------------

    def _completion(self, prompt: str | list[int], fmt: Format, preserved: list[str]) -> CompletionRequest:
        p = self.plan
        return CompletionRequest(
            prompt=prompt,
            options=p.sampling,
            images=self.rendered.images,
            format=fmt,
            logprobs=p.logprobs,
            top_logprobs=p.top_logprobs,
            return_tokens=p.want_context,
            preserved_tokens=preserved,
        )

    async def _raw(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        stream = self.runner.complete(request)
        try:
            async for chunk in stream:
                if chunk.tokens:
                    self._generated.extend(chunk.tokens)
                self._text.append(chunk.content)
                yield chunk
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def stream(self) -> AsyncIterator[Chunk]:
        p, r = self.plan, self.rendered
        if p.mode == "infill":
            request = self._completion(p.prompt, p.fmt, [])
            request.suffix = p.suffix
            async for chunk in self._raw(request):
                yield chunk
            return
        if p.mode == "jinja" and r.messages is not None:
            async for chunk in self._jinja_chat(r.messages):
                yield chunk
            return
        if p.mode == "jinja":  # a text prompt (shifted, or after a deprecated context): no parsing
            async for chunk in self._raw(self._completion(r.prompt, p.fmt, [])):
                yield chunk
            return
        async for chunk in self._rendered():
            yield chunk

    async def _jinja_chat(self, messages: list[dict[str, Any]]) -> AsyncIterator[Chunk]:
        p = self.plan
        request = ChatRequest(
            messages=messages,
            tools=self.rendered.tools or None,
            options=p.sampling,
            format=p.fmt,
            think=p.think,
            logprobs=p.logprobs,
            top_logprobs=p.top_logprobs,
            tool_choice="required" if p.tool_choice.mode == "required" else "auto",
        )
        stream = self.runner.chat(request)
        try:
            async for chunk in stream:
                for call in chunk.tool_calls or []:
                    if not call.id:
                        call.id = tool_call_id()
                self._text.append(chunk.content)
                yield chunk
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    # --- the rendered path -----------------------------------------------------------------------

    def _pipeline(self) -> tuple[OutputPipeline, str]:
        """The parsers for this request, and the tool-call tag (for forcing calls)."""
        p, r = self.plan, self.rendered
        if r.parser is not None:
            tag = _FORCED_CALL_TAG.get(p.parser_name, "")
            return OutputPipeline(
                builtin=r.parser, thinking=None, tools=None, calls_at_end=p.endpoint == "generate"
            ), tag
        template = self.templates.get(p.info.template) if p.info.template is not None else None
        thinking = None
        if p.think and template is not None:
            opening, closing = infer_thinking_tags(template)
            if opening and closing:
                thinking = ThinkingParser(opening, closing)
                if isinstance(r.prompt, str) and r.prompt.strip().endswith(opening):
                    thinking.add_content(opening)  # the template opened the thinking block itself
        tools = None
        tag = ""
        if p.endpoint == "chat" and p.tools:
            chat_template = self.templates.get(p.template)
            tag = tool_call_tag(chat_template) or "{"
            tools = ToolCallParser(tag, p.tools)
        return OutputPipeline(builtin=None, thinking=thinking, tools=tools), tag

    async def _rendered(self) -> AsyncIterator[Chunk]:
        p, r = self.plan, self.rendered
        pipeline, tag = self._pipeline()
        preserved = list(r.parser.preserved_tokens()) if r.parser is not None else _preserved_for_tag(tag)
        if pipeline.thinking is not None:
            preserved += [t for t in (pipeline.thinking.opening_tag, pipeline.thinking.closing_tag) if t]

        forced = p.tool_choice.mode == "required" and bool(p.tools)
        if forced and r.parser is not None and not tag:
            log.warning("tool_choice %r is not enforced for parser %s", p.tool_choice.mode, p.parser_name)
            forced = False
        constraint: Format = forced_call_schema(p.tools or [], tag == "[") if forced else p.fmt
        prefill = tag if forced and tag not in ("{", "[") else ""
        thinks = (r.parser is not None and r.parser.has_thinking_support) or pipeline.thinking is not None
        defer = (
            constraint is not None and thinks and p.think is not False and "thinking" in p.info.capabilities
        )

        prompt = r.prompt
        if not defer:
            if prefill:
                prompt = await self._extend(prompt, prefill)
                pipeline.prime(prefill)
            async for chunk in self._parsed(pipeline, self._completion(prompt, constraint, preserved)):
                yield chunk
            return

        # phase 1: free until the thinking ends; phase 2: continue from there, constrained
        raw_before: list[str] = []
        first: Chunk | None = None
        async for raw in self._raw(self._completion(prompt, None, preserved)):
            out = pipeline.feed(raw)
            if raw.done:
                if out is not None:
                    yield out
                return  # the model stopped while thinking: nothing to constrain
            if pipeline.answering:
                first = raw
                if out is not None and (out.thinking or out.logprobs):
                    yield Chunk(thinking=out.thinking, logprobs=out.logprobs)
                break
            raw_before.append(raw.content)
            if out is not None:
                yield out
        if first is None:
            return
        done_text = "".join(raw_before)
        if pipeline.thinking is not None:  # the closing tag is known: cut right after it
            seen = done_text + first.content
            cut = seen.find(pipeline.thinking.closing_tag)
            if cut >= 0:
                # keep the whitespace the model put after the tag: a grammar would forbid it
                end = cut + len(pipeline.thinking.closing_tag)
                rest = seen[end:]
                done_text = seen[:end] + rest[: len(rest) - len(rest.lstrip())]
        prompt = await self._extend(prompt, done_text + prefill)
        if prefill:
            pipeline.prime(prefill)
        eval_count, eval_ns = len(raw_before) + 1, 0
        async for chunk in self._parsed(pipeline, self._completion(prompt, constraint, preserved)):
            if chunk.done:
                chunk.eval_count += eval_count
                chunk.eval_duration += eval_ns
            yield chunk

    async def _extend(self, prompt: str | list[int], text: str) -> str | list[int]:
        if not text:
            return prompt
        if isinstance(prompt, list):
            return prompt + await self.runner.tokenize(text)
        return prompt + text

    async def _parsed(self, pipeline: OutputPipeline, request: CompletionRequest) -> AsyncIterator[Chunk]:
        async for raw in self._raw(request):
            out = pipeline.feed(raw)
            if out is not None:
                yield out


class Started:
    """A plan with its model scheduled and its prompt rendered: `run` streams, `lease` tells the
    load time, `rendered` what the model was given."""

    def __init__(self, run: Run, lease: Lease, rendered: Rendered) -> None:
        self.run = run
        self.lease = lease
        self.rendered = rendered


@contextlib.asynccontextmanager
async def start(scheduler: Scheduler, templates: Templates, plan: Plan) -> AsyncIterator[Started]:
    """Hold one slot of the plan's model (loading it if needed) and render the prompt on it."""
    async with scheduler.use(plan.load) as lease:
        builder = PromptBuilder(plan, lease.runner, lease.model.context_length, templates)
        rendered = await builder.build()
        yield Started(Run(plan, lease.runner, rendered, templates), lease, rendered)
