"""The default `PromptRenderer`: Ollama Go TEMPLATEs through `pyollama.template`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pyollama.errors import BadRequest

# submodule imports: they also work under a stale editable install that predates template/__init__.py
from pyollama.template.gotemplate import TemplateError
from pyollama.template.prompt import PromptTemplate, chat_prompt, chat_prompt_async, render_generate

_CACHE_SIZE = 32


class GoTemplateRenderer:
    """Parses each distinct template once (a small cache) and renders requests with it."""

    def __init__(self) -> None:
        self._cache: dict[str, PromptTemplate] = {}

    def _parsed(self, template: str) -> PromptTemplate:
        pt = self._cache.get(template)
        if pt is None:
            try:
                pt = PromptTemplate(template)
            except TemplateError as exc:
                raise BadRequest(f"template error: {exc}") from None
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[template] = pt
        return pt

    async def __call__(
        self,
        template: str,
        *,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        think: bool | str | None = None,
        suffix: str = "",
        prompt: str = "",
        num_ctx: int = 0,
        count_tokens: Callable[[str], Awaitable[int]] | None = None,
        truncate: bool = True,
    ) -> str:
        pt = self._parsed(template)
        if suffix:
            return render_generate(pt, prompt, suffix=suffix, think=think).prompt
        if count_tokens is None or num_ctx <= 0:  # nothing to fit, but images still get [img-N] tags
            return chat_prompt(
                pt, messages, count_tokens=lambda _p: 0, num_ctx=0, tools=tools, think=think, truncate=False
            ).prompt
        fitted = await chat_prompt_async(
            pt,
            messages,
            count_tokens=count_tokens,
            num_ctx=num_ctx,
            tools=tools,
            think=think,
            truncate=truncate,
        )
        return fitted.prompt
