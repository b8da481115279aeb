"""Ollama's Go `text/template` subset and prompt rendering from chat messages."""

from pyollama.template.gotemplate import Template, TemplateError, parse
from pyollama.template.prompt import (
    DEFAULT_TEMPLATE,
    ChatPrompt,
    PromptTemplate,
    chat_prompt,
    chat_prompt_async,
    collate,
    generate_messages,
    infer_thinking_tags,
    render_generate,
    render_prompt,
    template_capabilities,
    tool_call_tag,
)

__all__ = [
    "DEFAULT_TEMPLATE",
    "ChatPrompt",
    "PromptTemplate",
    "Template",
    "TemplateError",
    "chat_prompt",
    "chat_prompt_async",
    "collate",
    "generate_messages",
    "infer_thinking_tags",
    "parse",
    "render_generate",
    "render_prompt",
    "template_capabilities",
    "tool_call_tag",
]
