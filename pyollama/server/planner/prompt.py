"""Rendering a plan's prompt on the runner that will answer it, fitted to that runner's context.

Three renderers, one fitting walk (`fit.fit_messages`): a Go TEMPLATE (pyollama.template), an
Ollama built-in RENDERER (pyollama.renderers), or the GGUF's Jinja template inside llama.cpp
(`/apply-template`, counted with the engine's tokenizer). Rendered prompts carry images as `[img-N]`
tags numbered over the kept messages; the Jinja path hands the messages themselves to llama.cpp.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from pyollama.errors import BadRequest, InternalError
from pyollama.parsers import BuiltinParser, parser_for_name
from pyollama.renderers import RendererError, renderer_for_name
from pyollama.runner.base import Runner
from pyollama.server.planner.fit import fit_messages, fit_text, json_bound
from pyollama.server.planner.plan import Plan
from pyollama.template import PromptTemplate, TemplateError

_CACHE_SIZE = 32
_ID_CHARS = string.ascii_lowercase + string.digits


def tool_call_id() -> str:
    """Ollama's `call_` + 8 random [a-z0-9] (routes.go toolCallId)."""
    return "call_" + "".join(secrets.choice(_ID_CHARS) for _ in range(8))


class Templates:
    """Parsed Go TEMPLATEs by source text (a small cache kept on the app: each distinct template
    is parsed once, not per request)."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._parsed: dict[str, PromptTemplate] = {}

    def get(self, source: str | None) -> PromptTemplate:
        key = source or ""
        pt = self._parsed.get(key)
        if pt is None:
            try:
                pt = PromptTemplate(source)
            except TemplateError as exc:
                raise BadRequest(f"template error: {exc}") from None
            if len(self._parsed) >= self._size:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[key] = pt
        return pt


@dataclass
class Rendered:
    """A plan's prompt as the engine gets it."""

    prompt: str | list[int] = ""  # text, or shifted tokens when the text did not fit
    text: str = ""  # the rendered text (what `_debug_render_only` shows)
    images: list[bytes] = field(default_factory=list)  # in `[img-N]` order
    messages: list[dict[str, Any]] | None = None  # Jinja path: OpenAI-shaped, fitted
    tools: list[dict[str, Any]] | None = None  # as the prompt offers them (a parser may rename)
    parser: BuiltinParser | None = None  # the built-in parser, initialised for this request


def tag_images(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Ollama's imageTaggedMessages: each image becomes `[img-N]` (prefixed, or in place of a
    literal `[img]`), numbered over these messages; returns the messages and the base64 images."""
    images: list[str] = []
    out = []
    for m in messages:
        imgs = m.get("images") or []
        if not imgs:
            out.append(m)
            continue
        content = str(m.get("content") or "")
        prefix = ""
        for img in imgs:
            tag = f"[img-{len(images)}]"
            images.append(img)
            if "[img]" in content:
                content = content.replace("[img]", tag, 1)
            else:
                prefix += tag
        out.append({**m, "content": prefix + content})
    return out, images


def _b64decode(images: list[str]) -> list[bytes]:
    import base64

    return [base64.b64decode(i) for i in images]


def openai_message(m: dict[str, Any]) -> dict[str, Any]:
    """An Ollama wire message as the OpenAI-shaped dict llama.cpp's chat templates take
    (arguments as JSON strings, thinking as `reasoning_content`, tool results named)."""
    out: dict[str, Any] = {"role": m.get("role", ""), "content": m.get("content") or ""}
    if m.get("thinking"):
        out["reasoning_content"] = m["thinking"]
    if m.get("images"):
        out["images"] = m["images"]
    calls = m.get("tool_calls") or []
    if calls:
        out["tool_calls"] = [
            {
                "id": tc.get("id") or f"call_{i}",
                "type": "function",
                "function": {
                    "name": (tc.get("function") or {}).get("name", ""),
                    "arguments": json.dumps((tc.get("function") or {}).get("arguments") or {}),
                },
            }
            for i, tc in enumerate(calls)
        ]
    if m.get("tool_name"):
        out["name"] = m["tool_name"]
        out["tool_name"] = m["tool_name"]
    if m.get("tool_call_id"):
        out["tool_call_id"] = m["tool_call_id"]
    return out


def jinja_kwargs(plan: Plan, tools: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What `/apply-template` needs to render like the chat request will."""
    kwargs: dict[str, Any] = {"add_generation_prompt": True}
    if tools:
        kwargs["tools"] = tools
    if plan.think is not None:
        kwargs["chat_template_kwargs"] = {"enable_thinking": plan.think is not False}
    return kwargs


async def _bos(runner: Runner) -> bool:
    """Whether the engine's tokenizer puts a BOS in front (shifting keeps it)."""
    return bool(await runner.tokenize("", add_special=True))


class PromptBuilder:
    """Renders one plan on one runner (the context length is the runner's slot size)."""

    def __init__(self, plan: Plan, runner: Runner, num_ctx: int, templates: Templates) -> None:
        self.plan = plan
        self.runner = runner
        self.num_ctx = num_ctx
        self.templates = templates

    async def _count(self, text: str) -> int:
        return len(await self.runner.tokenize(text, add_special=True))

    async def _fit(self, text: str) -> str | list[int]:
        p = self.plan
        return await fit_text(
            text,
            tokenize=lambda t: self.runner.tokenize(t, add_special=True),
            bos=lambda: _bos(self.runner),
            num_ctx=self.num_ctx,
            num_keep=p.num_keep,
            shift=p.shift,
        )

    async def _context_text(self) -> str:
        """The deprecated `context` of /api/generate, detokenized, goes in front of the prompt."""
        return await self.runner.detokenize(self.plan.context) if self.plan.context else ""

    async def build(self) -> Rendered:
        p = self.plan
        if p.mode == "raw":
            prompt = p.prompt if p.images else await self._fit(p.prompt)
            return Rendered(prompt=prompt, text=p.prompt, images=list(p.images))
        if p.mode == "infill":
            return Rendered(prompt=p.prompt, text=p.prompt)
        if p.mode == "jinja":
            return await self._jinja()
        return await self._rendered()

    # --- the rendered path (Go TEMPLATE or built-in RENDERER) -------------------------------------

    async def _rendered(self) -> Rendered:
        p = self.plan
        parser = parser_for_name(p.parser_name) if p.parser_name else None
        tools = p.tools
        if parser is not None:
            last = p.messages[-1] if p.messages and p.endpoint == "chat" else None
            offered = parser.init(tools if p.endpoint == "chat" else None, last, p.think)
            if p.endpoint == "chat":
                tools = offered
        if p.endpoint == "generate" and p.suffix:
            text = self.templates.get(p.template).execute(prompt=p.prompt, suffix=p.suffix, think=p.think)
            return Rendered(prompt=await self._fit(text), text=text, parser=parser)
        prompt_tools = tools if p.endpoint == "chat" else []
        renderer = renderer_for_name(p.info.renderer) if p.info.source() == "renderer" else None
        if p.info.source() == "renderer" and renderer is None:
            raise InternalError(f'unknown renderer "{p.info.renderer}"')
        template = None if renderer is not None else self.templates.get(p.template)

        def render_now(messages: list[dict[str, Any]]) -> str:
            try:
                if renderer is not None:
                    return renderer.render(messages, prompt_tools, p.think)
                assert template is not None
                return template.execute(messages, tools=prompt_tools, think=p.think)
            except (TemplateError, RendererError) as exc:
                raise InternalError(str(exc)) from None

        async def render(messages: list[dict[str, Any]]) -> str:
            return render_now(messages)

        if p.direct_template:
            kept = p.messages
        else:
            kept, _ = await fit_messages(
                p.messages,
                render=render,
                count=self._count,
                num_ctx=self.num_ctx,
                truncate=p.truncate,
                image_tokens=p.image_tokens,
            )
        if renderer is not None:
            images = [img for m in kept for img in m.get("images") or []]
            text = render_now(kept)
        else:
            tagged, images = tag_images(kept)
            text = render_now(tagged)
        text = await self._context_text() + text
        if renderer is not None:
            text = self._strip_bos(text, renderer.leading_bos())
        prompt: str | list[int] = text if images else await self._fit(text)
        return Rendered(prompt=prompt, text=text, images=_b64decode(images), tools=tools, parser=parser)

    def _strip_bos(self, text: str, leading: str) -> str:
        """Ollama's completionPrompt: a renderer's BOS text goes when the tokenizer adds its own."""
        if not self.plan.info.kv.get("tokenizer.ggml.add_bos_token"):
            return text
        for bos in (leading, "<bos>"):
            if bos and text.startswith(bos):
                return text[len(bos) :]
        return text

    # --- the Jinja path (llama.cpp renders) -------------------------------------------------------

    async def _jinja(self) -> Rendered:
        p = self.plan
        tools = p.tools if p.endpoint == "chat" else None
        kwargs = jinja_kwargs(p, tools)

        async def render(messages: list[dict[str, Any]]) -> str:
            return await self.runner.apply_template([openai_message(m) for m in messages], **kwargs)

        template_len = len(self.runner.metadata.chat_template)
        kept, text = await fit_messages(
            p.messages,
            render=render,
            count=self._count,
            num_ctx=self.num_ctx,
            truncate=p.truncate,
            image_tokens=p.image_tokens,
            # short chats (the common case) skip rendering and tokenizing before the request
            bound=None
            if (p.debug_render_only or p.context)
            else lambda ms: json_bound(ms, tools, template_len),
        )
        images = _b64decode([img for m in kept for img in m.get("images") or []])
        if p.context:
            # generate with the deprecated context: a text prompt after the context's text
            full = await self._context_text() + (text if text is not None else await render(kept))
            return Rendered(prompt=full if images else await self._fit(full), text=full, images=images)
        messages = [openai_message(m) for m in kept]
        if text is None or images:
            return Rendered(messages=messages, text=text or "", images=images, tools=tools)
        # a single message too long for the context: shift its rendered tokens (the engine's chat
        # handler would refuse it), at the cost of llama.cpp's output parsing
        fitted = await self._fit(text)
        if isinstance(fitted, list):
            return Rendered(prompt=fitted, text=text, tools=tools)
        return Rendered(messages=messages, text=text, tools=tools)
