"""What a model can do, derived as Ollama derives it (server/images.go `Model.Capabilities`).

Inputs are the GGUF header (embedding vs completion, vision towers) and the template: a Go
TEMPLATE layer (`.Tools` -> tools, `.Suffix` -> insert, text wrapped around `.Thinking` ->
thinking), or, when a model has none, the GGUF's Jinja chat template, which is what the native
path renders with.
"""

from __future__ import annotations

import re
from typing import Any

_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_FIELD = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")
_THINKING = re.compile(r"\{\{-?\s*\.Thinking\s*-?\}\}")

# Ollama's built-in parsers that add tools / thinking even when the template does not show it.
_TOOL_PARSERS = frozenset(
    {
        "qwen3",
        "qwen3-coder",
        "harmony",
        "gemma4",
        "deepseek3",
        "glm-4.7",
        "olmo3",
        "lfm2",
        "cogito",
        "ministral",
    }
)
_THINKING_PARSERS = frozenset({"qwen3", "harmony", "deepseek3", "glm-4.7", "olmo3", "cogito", "gemma4"})


def template_vars(template: str) -> set[str]:
    """Lower-cased field names referenced inside `{{ ... }}` actions (Go `Template.Vars`)."""
    out: set[str] = set()
    for action in _ACTION.findall(template):
        out.update(m.lower() for m in _FIELD.findall(action))
    return out


def infer_thinking_tags(template: str) -> tuple[str, str]:
    """Literal text right before and after `{{ .Thinking }}` (thinking.InferTags, simplified)."""
    for m in _THINKING.finditer(template):
        before = template[: m.start()]
        after = template[m.end() :]
        b = before[before.rfind("}}") + 2 :] if "}}" in before else before
        a = after[: after.find("{{")] if "{{" in after else after
        if b.strip() and a.strip():
            return b.strip(), a.strip()
    return "", ""


def jinja_capabilities(chat_template: str) -> set[str]:
    caps: set[str] = set()
    if not chat_template:
        return caps
    if re.search(r"\btools\b", chat_template):
        caps.add("tools")
    if any(s in chat_template for s in ("enable_thinking", "<think>", "reasoning_content")):
        caps.add("thinking")
    if "suffix" in chat_template and "fim" in chat_template.lower():
        caps.add("insert")
    return caps


def model_capabilities(
    kv: dict[str, Any] | None,
    template: str | None,
    *,
    chat_template: str = "",
    has_projector: bool = False,
    family: str = "",
    parser: str = "",
) -> list[str]:
    """Capabilities in Ollama's order: completion|embedding, vision, tools, insert, thinking."""
    caps: list[str] = []
    if kv is not None:
        arch = str(kv.get("general.architecture", ""))
        caps.append("embedding" if f"{arch}.pooling_type" in kv else "completion")
        if f"{arch}.vision.block_count" in kv:
            caps.append("vision")
    if template is None:
        derived = jinja_capabilities(chat_template)
        tools = "tools" in derived
        insert = "insert" in derived
        thinking = "thinking" in derived
    else:
        v = template_vars(template)
        tools = "tools" in v
        insert = "suffix" in v
        open_tag, close_tag = infer_thinking_tags(template)
        thinking = bool(open_tag and close_tag)
    if tools or parser in _TOOL_PARSERS:
        caps.append("tools")
    if insert:
        caps.append("insert")
    if has_projector and "vision" not in caps:
        caps.append("vision")
    if thinking or family in ("gptoss", "gpt-oss") or parser in _THINKING_PARSERS:
        caps.append("thinking")
    return caps
