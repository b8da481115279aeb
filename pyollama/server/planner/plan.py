"""What a generate or chat request will do, decided before a model is scheduled.

`plan_chat` and `plan_generate` check the request against its model in Ollama's order (which
decides which error a bad request gets), layer its options, pick the prompt path, and gather what
the run needs: the messages as the prompt sees them (Modelfile SYSTEM and MESSAGEs included), the
tools offered, the think value, format and tool choice. Every dialect builds one of Ollama's
requests first (`schemas.ChatRequest` / `GenerateRequest`), so a Modelfile applies the same way on
`/api/chat`, `/v1/chat/completions`, `/v1/responses` and `/v1/messages`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from pyollama.config import Settings
from pyollama.errors import BadRequest
from pyollama.parsers.thinking import ThinkingParser
from pyollama.runner.base import Format
from pyollama.server.limits import MAX_IMAGE_BYTES, MAX_IMAGES
from pyollama.server.models import ModelInfo
from pyollama.server.planner import AUTO, ToolChoice
from pyollama.server.planner.fit import DEFAULT_NUM_KEEP
from pyollama.server.planner.options import (
    check_format,
    check_logprobs,
    check_think,
    load_request,
    merge_options,
    require,
    sampling_options,
)
from pyollama.server.scheduler import LoadRequest
from pyollama.server.schemas import ChatRequest, GenerateRequest, Message, parse_keep_alive
from pyollama.think import Think

Mode = Literal["raw", "rendered", "jinja", "infill"]


@dataclass
class Plan:
    """One request's decisions; `pyollama.server.planner.run` carries them out on a runner."""

    model: str  # the name as the client gave it (replies echo it)
    info: ModelInfo
    load: LoadRequest
    endpoint: Literal["generate", "chat"]
    mode: Mode
    messages: list[dict[str, Any]]  # Ollama wire messages, as the prompt sees them
    images: list[bytes]  # every image of `messages` (generate: of the prompt), in order
    sampling: dict[str, Any]
    think: Think = None
    fmt: Format = None
    tools: list[dict[str, Any]] | None = None  # offered to the prompt (tool_choice applied)
    tool_choice: ToolChoice = AUTO
    num_keep: int = DEFAULT_NUM_KEEP
    truncate: bool = True
    shift: bool = True
    logprobs: bool = False
    top_logprobs: int = 0
    # /api/generate only
    prompt: str = ""
    suffix: str = ""
    context: list[int] | None = None
    template: str | None = None  # the Go TEMPLATE that renders (a request's override or the model's)
    direct_template: bool = False  # a request's own TEMPLATE: executed once, as Ollama does, unfitted
    want_context: bool = False
    debug_render_only: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def parser_name(self) -> str:
        return self.info.parser if self.mode == "rendered" else ""

    @property
    def image_tokens(self) -> int:
        from pyollama.server.planner.fit import IMAGE_TOKENS

        return IMAGE_TOKENS if self.info.projector else 0


def decode_images(images: list[str] | None, where: str = "$.images", *, seen: int = 0) -> list[bytes]:
    """Base64 images, within the caps on their number and size (`seen`: images already decoded
    from earlier messages of the same request)."""
    out: list[bytes] = []
    if len(images or []) + seen > MAX_IMAGES:
        raise BadRequest(f"too many images: {len(images or []) + seen} (at most {MAX_IMAGES} per request)")
    for i, img in enumerate(images or []):
        if len(img) // 4 * 3 > MAX_IMAGE_BYTES:
            raise BadRequest(f"image too large: more than {MAX_IMAGE_BYTES} bytes - at `{where}[{i}]`")
        try:
            out.append(base64.b64decode(img, validate=True))
        except (binascii.Error, ValueError):
            raise BadRequest(f"illegal base64 data at input byte 0 - at `{where}[{i}]`") from None
    return out


def _check_images(info: ModelInfo, model: str, count: int) -> None:
    """Images need a projector: without one llama.cpp refuses them, which is the client's mistake."""
    if count and "vision" not in info.capabilities:
        raise BadRequest(f'"{model}" does not support vision')


def _keep_alive(req: GenerateRequest | ChatRequest) -> float | None:
    return parse_keep_alive(req.keep_alive)


def _mode(info: ModelInfo, settings: Settings, template: str | None) -> Mode:
    """Rendered (Go TEMPLATE / RENDERER / PARSER) or llama.cpp's Jinja, per the model's setup. A
    model with neither a TEMPLATE nor a GGUF chat template (`none`) renders Ollama's default
    `{{ .Prompt }}`, as Ollama does, rather than llama.cpp's ChatML fallback."""
    source = info.source(settings.go_template)
    if source in ("renderer", "template", "none"):
        return "rendered"
    if template:  # a request's own TEMPLATE is always rendered here
        return "rendered"
    return "jinja"


def _filter_think_tags(messages: list[dict[str, Any]], info: ModelInfo) -> list[dict[str, Any]]:
    """Ollama's filterThinkTags: qwen3 / deepseek-r1 history keeps no <think> text before the last
    user turn (it was written before thinking had its own field, and it saves tokens)."""
    base = info.name.split("/")[-1].split(":")[0]
    if info.details.family != "qwen3" and base != "deepseek-r1":
        return messages
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    out = []
    for i, m in enumerate(messages):
        if m.get("role") == "assistant" and i < last_user:
            parser = ThinkingParser("<think>", "</think>")
            _, content = parser.add_content(str(m.get("content") or ""))
            m = {**m, "content": content}
        out.append(m)
    return out


def _apply_tool_choice(tools: list[dict[str, Any]] | None, choice: ToolChoice) -> list[dict[str, Any]] | None:
    if not tools or choice.mode == "none":
        return None
    if choice.name is None:
        return tools
    named = [t for t in tools if (t.get("function") or {}).get("name") == choice.name]
    if not named:
        raise BadRequest(f"tool_choice names a function that is not in tools: {choice.name}")
    return named


def _wire(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(m)
    out["role"] = m.role.lower()
    out.setdefault("content", "")
    return out


def plan_chat(
    settings: Settings,
    info: ModelInfo,
    req: ChatRequest,
    *,
    tool_choice: ToolChoice = AUTO,
    dialect_defaults: dict[str, Any] | None = None,
    relax_thinking: bool = False,
) -> Plan:
    """An `/api/chat` request (or a dialect's translation of one) against its resolved model."""
    check_logprobs(req.top_logprobs)
    fmt = check_format(req.format)
    keep_alive = _keep_alive(req)
    require(info, req.model, "completion", "chat")
    tools = _apply_tool_choice(req.tools, tool_choice)
    if req.tools and tool_choice.mode != "none":
        require(info, req.model, "tools", "tools")
    think = check_think(req.model, req.think, info, relax=relax_thinking)
    options = merge_options(info, req.options, dialect_defaults)
    incoming = [_wire(m) for m in req.messages or []]
    messages = [dict(m) for m in info.messages] + incoming
    if incoming and incoming[0]["role"] != "system" and info.system:
        messages.insert(0, {"role": "system", "content": info.system})
    messages = _filter_think_tags(messages, info)
    images: list[bytes] = []
    for m in req.messages or []:
        images += decode_images(m.images, "$.messages[].images", seen=len(images))
    _check_images(info, req.model, len(images))
    mode = _mode(info, settings, None)
    if info.parser == "harmony" and think == "max":
        think = "high"  # harmony's reasoning levels stop at high
    return Plan(
        model=req.model,
        info=info,
        load=load_request(settings, info, options, keep_alive),
        endpoint="chat",
        mode=mode,
        messages=messages,
        images=images,
        sampling=sampling_options(options),
        think=think,
        fmt=fmt,
        tools=tools,
        tool_choice=tool_choice if tools else AUTO,
        num_keep=int(options.get("num_keep", DEFAULT_NUM_KEEP)),
        truncate=req.truncate is not False,
        shift=req.shift is not False,
        logprobs=req.logprobs,
        top_logprobs=req.top_logprobs,
        template=info.template,
        debug_render_only=req.debug_render_only,
    )


def plan_generate(
    settings: Settings,
    info: ModelInfo,
    req: GenerateRequest,
    *,
    dialect_defaults: dict[str, Any] | None = None,
) -> Plan:
    """An `/api/generate` request (or `/v1/completions`' translation of one)."""
    if req.raw and (req.template or req.system or req.context):
        raise BadRequest("raw mode does not support template, system, or context")
    check_logprobs(req.top_logprobs)
    fmt = check_format(req.format)
    keep_alive = _keep_alive(req)
    require(info, req.model, "completion", "generate")
    if req.suffix:
        require(info, req.model, "insert", "insert")
    think = check_think(req.model, req.think, info)
    options = merge_options(info, req.options, dialect_defaults)
    images = decode_images(req.images)
    _check_images(info, req.model, len(images))
    template = req.template or info.template
    if req.raw:
        mode: Mode = "raw"
    elif req.suffix and not (template and settings.go_template is not False):
        mode = "infill"  # no Go TEMPLATE to put the suffix in: the engine's fill-in-the-middle
    else:
        mode = _mode(info, settings, req.template or None)
    messages: list[dict[str, Any]] = []
    system = req.system or info.system
    if system:
        messages.append({"role": "system", "content": system})
    if req.context is None:
        messages.extend(dict(m) for m in info.messages)
    user: dict[str, Any] = {"role": "user", "content": req.prompt}
    if req.images:
        user["images"] = list(req.images)
    messages.append(user)
    if info.parser == "harmony" and think == "max":
        think = "high"
    return Plan(
        model=req.model,
        info=info,
        load=load_request(settings, info, options, keep_alive),
        endpoint="generate",
        mode=mode,
        messages=messages,
        images=images,
        sampling=sampling_options(options),
        think=think,
        fmt=fmt,
        num_keep=int(options.get("num_keep", DEFAULT_NUM_KEEP)),
        truncate=req.truncate is not False,
        shift=req.shift is not False,
        logprobs=req.logprobs,
        top_logprobs=req.top_logprobs,
        prompt=req.prompt,
        suffix=req.suffix,
        context=req.context,
        template=template,
        direct_template=bool(req.template),
        want_context=not req.raw,
        debug_render_only=req.debug_render_only,
    )
