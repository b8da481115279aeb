"""How a model's prompts are made and what it can do, decided once (Ollama's server/images.go).

Ollama picks one of three prompt paths per model: its *rendered* path (a built-in RENDERER, a
PARSER, gpt-oss's Harmony template, or a Go TEMPLATE) or the *native* path (the GGUF's Jinja
template inside llama.cpp). A GGUF Jinja template that advertises more than the Go TEMPLATE wins,
unless `OLLAMA_GO_TEMPLATE` says otherwise. Capabilities then follow the chosen path, in Ollama's
order (config, GGUF, projector, template, parser, family), and pyollama claims only what its engine
can do: `vision` needs a projector (llama.cpp cannot use vision towers stored inside the model
file), `insert` needs a Go TEMPLATE with `.Suffix` or the model's fill-in-the-middle tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pyollama.gguf import GGUFInfo

PromptSource = Literal["renderer", "template", "jinja", "none"]

POOLING_RANK = 4  # llama.cpp's LLAMA_POOLING_TYPE_RANK: a reranker's classification head

_HARMONY_FAMILIES = ("gptoss", "gpt-oss")
_FIM_KEYS = (
    ("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.fim_mid_token_id"),
    ("tokenizer.ggml.prefix_token_id", "tokenizer.ggml.suffix_token_id", "tokenizer.ggml.middle_token_id"),
)


@dataclass(frozen=True)
class PromptSetup:
    """Which path a model's prompts take and what the model can do on it."""

    source: PromptSource  # who renders: a built-in renderer, the Go TEMPLATE, llama.cpp's Jinja
    renderer: str  # built-in RENDERER name ("" none)
    parser: str  # built-in PARSER name in effect ("" none; "harmony" for gpt-oss templates)
    capabilities: tuple[str, ...]


def _append(caps: list[str], cap: str) -> None:
    if cap not in caps:
        caps.append(cap)


def jinja_has_tools(chat_template: str) -> bool:
    """Ollama's chatTemplateHasToolSupport."""
    return "tools" in chat_template or "tool_call" in chat_template


def jinja_has_thinking(chat_template: str) -> bool:
    """Ollama's chatTemplateHasThinkingSupport (Qwen/DeepSeek templates that split at </think>
    still let llama.cpp extract reasoning)."""
    if "<think>" in chat_template and "</think>" in chat_template:
        return True
    splits = "content.split('</think>')" in chat_template or 'content.split("</think>")' in chat_template
    return splits and "reasoning_content" not in chat_template and "<SPECIAL_12>" not in chat_template


def _jinja_tool_round_trip(chat_template: str) -> bool:
    """Ollama's chatTemplateHasToolRoundTrip: the template renders calls and their results."""
    if not jinja_has_tools(chat_template):
        return False
    calls = "tool_calls" in chat_template or "assistant_tool_call" in chat_template
    results = (
        "tool_response",
        "tool_results",
        "role'] == 'tool'",
        'role\'] == "tool"',
        "role\"] == 'tool'",
        'role"] == "tool"',
        "message.role == 'tool'",
        'message.role == "tool"',
        "ipython",
    )
    return calls and any(r in chat_template for r in results)


def _go_tool_round_trip(go_template: str, template_vars: set[str]) -> bool:
    """Ollama's goTemplateHasToolRoundTrip."""
    if "tools" not in template_vars or "toolcalls" not in template_vars:
        return False
    return any(s in go_template for s in ('eq .Role "tool"', "tool_response", "TOOL_RESULTS"))


def _go_template_info(go_template: str) -> tuple[list[str], set[str]]:
    """(capabilities, referenced fields) of a Go TEMPLATE from its parse tree; a template Go would
    not parse grants nothing."""
    from pyollama.template import PromptTemplate, TemplateError

    try:
        pt = PromptTemplate(go_template)
    except TemplateError:
        return [], set()
    return pt.capabilities, set(pt.vars)


def _prefer_chat_template(
    chat_template: str, chat_caps: list[str], go_template: str, go_caps: list[str], go_vars: set[str]
) -> bool:
    """Ollama's shouldPreferChatTemplate."""
    if len(chat_caps) > len(go_caps):
        return not _go_tool_round_trip(go_template, go_vars) or _jinja_tool_round_trip(chat_template)
    if set(chat_caps) != set(go_caps) or "tools" not in chat_caps or "tools" not in go_caps:
        return False
    return _jinja_tool_round_trip(chat_template) and not _go_tool_round_trip(go_template, go_vars)


def _jinja_caps(chat_template: str) -> list[str]:
    caps: list[str] = []
    if chat_template:
        if jinja_has_tools(chat_template):
            caps.append("tools")
        if jinja_has_thinking(chat_template):
            caps.append("thinking")
    return caps


def has_fim_tokens(kv: Mapping[str, Any]) -> bool:
    return any(all(isinstance(kv.get(k), int) for k in keys) for keys in _FIM_KEYS)


def prompt_setup(
    *,
    kv: Mapping[str, Any] | None,
    go_template: str | None,
    chat_template: str = "",
    renderer: str = "",
    parser: str = "",
    family: str = "",
    has_projector: bool = False,
    config_capabilities: tuple[str, ...] = (),
    go_template_env: bool | None = None,
) -> PromptSetup:
    """Where a model's prompts come from and its capabilities, as Ollama decides them.

    `go_template_env` is `OLLAMA_GO_TEMPLATE` when set (True forces the Go TEMPLATE, False the
    GGUF's template), else None."""
    from pyollama.parsers import parser_for_name

    harmony = (
        family in _HARMONY_FAMILIES
        and go_template is not None
        and "<|start|>" in go_template
        and "<|end|>" in go_template
    )
    if harmony and not parser:
        parser = "harmony"
    go_caps, go_vars = _go_template_info(go_template) if go_template is not None else ([], set())
    chat_caps = _jinja_caps(chat_template)
    if go_template is not None and go_template_env is not None:
        use_go = go_template_env
    else:
        use_go = go_template is not None and not _prefer_chat_template(
            chat_template, chat_caps, go_template, go_caps, go_vars
        )
    source: PromptSource
    if renderer:
        source = "renderer"
    elif parser or use_go:
        source = "template"
    elif chat_template:
        source = "jinja"
    else:
        source = "none" if go_template is None else "template"

    caps: list[str] = []
    for c in config_capabilities:
        _append(caps, c)
    if kv is not None:
        arch = str(kv.get("general.architecture", ""))
        if source == "jinja":
            for c in chat_caps:
                _append(caps, c)
        _append(caps, "embedding" if f"{arch}.pooling_type" in kv else "completion")
        if kv.get(f"{arch}.pooling_type") == POOLING_RANK:
            _append(caps, "rerank")  # pyollama's own: a reranker (classifier head over pairs)
        if has_fim_tokens(kv) and source == "jinja":
            _append(caps, "insert")
    if has_projector:
        _append(caps, "vision")
    if source == "template" and use_go:
        for c in go_caps:
            _append(caps, c)
    builtin = parser_for_name(parser) if parser else None
    if builtin is not None:
        if builtin.has_tool_support:
            _append(caps, "tools")
        if builtin.has_thinking_support:
            _append(caps, "thinking")
    if family in _HARMONY_FAMILIES:
        _append(caps, "thinking")
    return PromptSetup(source=source, renderer=renderer, parser=parser, capabilities=tuple(caps))


def model_prompt_setup(
    config: Mapping[str, Any],
    *,
    go_template: str | None,
    gguf: GGUFInfo | None,
    has_projector: bool,
    go_template_env: bool | None = None,
) -> PromptSetup:
    """`prompt_setup` for a model's config blob, Go TEMPLATE and GGUF header: the one way create
    (for the config it writes), show and the daemon's resolved model all ask it."""
    return prompt_setup(
        kv=gguf.kv if gguf is not None else None,
        go_template=go_template,
        chat_template=gguf.chat_template if gguf is not None else "",
        renderer=str(config.get("renderer") or ""),
        parser=str(config.get("parser") or ""),
        family=str(config.get("model_family") or ""),
        has_projector=has_projector,
        go_template_env=go_template_env,
    )
