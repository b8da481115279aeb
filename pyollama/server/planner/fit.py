"""Fitting a prompt into the context, one algorithm for every way a prompt is rendered.

Ollama's `chatPrompt` (server/prompt.go) and `truncateNativeChatMessages` (server/routes.go) are
the same walk: starting from the whole chat, drop the oldest messages (keeping the system messages
of the dropped part, and always the last message) until the rendered prompt's token count, plus a
flat cost per image when the model has a projector, fits `num_ctx`. pyollama renders the candidate
with whichever renderer the plan chose (Go TEMPLATE, built-in RENDERER, the GGUF's Jinja template in
llama.cpp) and also never starts the kept part inside a run of tool results (a result without the
call that asked for it confuses every model). A single prompt that is still too long is shifted
(the first `num_keep` tokens plus the tail, llama.cpp's context-shift rule) or, with `shift:false`,
refused with Ollama's 400.

Tokenizing costs an engine round trip, so it is skipped whenever a byte count already proves the
prompt fits: every token covers at least one byte, plus a few special tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from pyollama.errors import BadRequest

log = logging.getLogger("pyollama.server")

PROMPT_TOO_LONG = (
    "the prompt is longer than the context length currently available to the model; "
    "shorten the prompt, adjust the context length in settings, or use a model with a longer context length"
)
DEFAULT_NUM_KEEP = 4  # Ollama's default num_keep
IMAGE_TOKENS = 768  # what Ollama counts per image when the model has a projector
_SPECIAL_SLACK = 4  # tokens that cover no text of their own (BOS, EOS, SentencePiece's prefix space)

Message = dict[str, Any]
Render = Callable[[list[Message]], Awaitable[str]]
Count = Callable[[str], Awaitable[int]]


def surely_fits(n_bytes: int, num_ctx: int) -> bool:
    """True when a text of `n_bytes` bytes cannot tokenize to more than `num_ctx - 1` tokens."""
    return num_ctx <= 0 or n_bytes + _SPECIAL_SLACK <= num_ctx - 1


def shift_tokens(tokens: list[int], num_ctx: int, num_keep: int, bos: bool) -> list[int]:
    """Keep the first `num_keep` tokens (+BOS) and as much of the tail as leaves room to generate:
    `num_ctx - max((num_ctx - num_keep) / 2, 1)` tokens in all (llama.cpp's context-shift rule)."""
    keep = max(0, min(num_keep, num_ctx - 1)) + (1 if bos else 0)
    target = num_ctx - max((num_ctx - keep) // 2, 1)
    keep = min(keep, target)
    tail = target - keep
    return tokens[:keep] + (tokens[len(tokens) - tail :] if tail > 0 else [])


def tool_block_start(messages: Sequence[Message], index: int) -> int:
    """Never start inside a run of tool results: back up to the assistant turn that called them."""
    if index <= 0 or index >= len(messages) or messages[index].get("role") != "tool":
        return index
    start = index
    while start > 0 and messages[start - 1].get("role") == "tool":
        start -= 1
    caller = start - 1
    if caller >= 0 and messages[caller].get("role") == "assistant" and messages[caller].get("tool_calls"):
        return caller
    return index


def _images(messages: Sequence[Message]) -> int:
    return sum(len(m.get("images") or ()) for m in messages)


async def fit_messages(
    messages: list[Message],
    *,
    render: Render,
    count: Count,
    num_ctx: int,
    truncate: bool,
    image_tokens: int = 0,
    bound: Callable[[list[Message]], int] | None = None,
) -> tuple[list[Message], str | None]:
    """The messages to render: the whole chat when it fits, else the longest fitting tail with the
    system messages of the dropped part in front (the last message is always kept).

    Returns the kept messages and their rendered text — None when `bound` (an upper bound on the
    rendered size in bytes, cheaper than rendering) already proved the whole chat fits."""
    images_all = image_tokens * _images(messages)
    if bound is not None and surely_fits(bound(messages) + images_all, num_ctx):
        return messages, None
    if not truncate or num_ctx <= 0 or len(messages) <= 1:
        return messages, await render(messages)
    last = len(messages) - 1
    tried: set[int] = set()
    for i in range(last + 1):
        start = tool_block_start(messages, i)
        if start in tried and i != last:
            continue
        tried.add(start)
        candidate = [m for m in messages[:start] if m.get("role") == "system"] + messages[start:]
        text = await render(candidate)
        images = image_tokens * _images(candidate)
        n = 0 if surely_fits(len(text.encode()) + images, num_ctx) else await count(text) + images
        if n <= num_ctx or i == last:
            if start > 0:
                log.info("truncating input messages which exceed context length truncated=%d", start)
            return candidate, text
    raise AssertionError("unreachable: the last message is always kept")


def json_bound(messages: list[Message], tools: list[dict[str, Any]] | None, template_len: int) -> int:
    """An upper bound on a Jinja-rendered chat's size: every message and tool as JSON, plus the
    whole template once per message (its literal text) and once for the generation prompt."""
    size = len(msgspec.json.encode(messages))
    if tools:
        size += len(msgspec.json.encode(tools))
    return size + template_len * (len(messages) + 1)


async def fit_text(
    text: str,
    *,
    tokenize: Callable[[str], Awaitable[list[int]]],
    bos: Callable[[], Awaitable[bool]],
    num_ctx: int,
    num_keep: int,
    shift: bool,
) -> str | list[int]:
    """A rendered prompt as it goes to the engine: unchanged when it fits, else its shifted tokens
    (or Ollama's 400 when shifting is off)."""
    if surely_fits(len(text.encode()), num_ctx):
        return text
    tokens = await tokenize(text)
    if len(tokens) <= num_ctx - 1:
        return text
    if not shift:
        raise BadRequest(PROMPT_TOO_LONG)
    shifted = shift_tokens(tokens, num_ctx, num_keep, await bos())
    log.warning(
        "truncating input prompt limit=%d prompt=%d keep=%d new=%d",
        num_ctx,
        len(tokens),
        num_keep,
        len(shifted),
    )
    return shifted
