"""Fitting a prompt into the model's context, as Ollama does (server/prompt.go, llm/llama_server.go).

Chat history that does not fit loses its oldest messages (system messages and the last one stay);
a single prompt that is still too long is shifted (the first `num_keep` tokens plus the tail, so the
model keeps its instructions and the question) or, with `shift:false`, rejected with Ollama's 400.
Tokenizing costs an engine round trip, so it is skipped whenever a byte count already proves the
prompt fits: every token covers at least one byte, plus a few special tokens (BOS, EOS, a prefix
space).
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from pyollama.errors import BadRequest
from pyollama.runner.base import Runner

log = logging.getLogger("pyollama.server")

PROMPT_TOO_LONG = (
    "the prompt is longer than the context length currently available to the model; "
    "shorten the prompt, adjust the context length in settings, or use a model with a longer context length"
)
DEFAULT_NUM_KEEP = 4  # Ollama's default num_keep
_SPECIAL_SLACK = 4  # tokens that cover no text of their own (BOS, EOS, SentencePiece's prefix space)


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


async def fit_prompt(
    runner: Runner, prompt: str, *, num_ctx: int, num_keep: int, shift: bool
) -> str | list[int]:
    """The prompt unchanged when it fits, else its shifted tokens (or 400 without `shift`)."""
    if surely_fits(len(prompt.encode()), num_ctx):
        return prompt
    tokens = await runner.tokenize(prompt, add_special=True)
    if len(tokens) <= num_ctx - 1:
        return prompt
    if not shift:
        raise BadRequest(PROMPT_TOO_LONG)
    bos = bool(tokens) and tokens[:1] == await runner.tokenize("", add_special=True)
    shifted = shift_tokens(tokens, num_ctx, num_keep, bos)
    log.warning(
        "truncating input prompt limit=%d prompt=%d keep=%d new=%d",
        num_ctx,
        len(tokens),
        num_keep,
        len(shifted),
    )
    return shifted


def _bound(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, template_len: int) -> int:
    """An upper bound on the rendered size: every message and tool as JSON, plus the whole template
    once per message (its literal text) and once for the generation prompt."""
    size = len(msgspec.json.encode(messages))
    if tools:
        size += len(msgspec.json.encode(tools))
    return size + template_len * (len(messages) + 1)


async def fit_chat(
    runner: Runner,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    *,
    num_ctx: int,
    num_keep: int,
    truncate: bool,
    shift: bool,
    template_len: int,
) -> tuple[list[dict[str, Any]], list[int] | None]:
    """Fit a chat for the model's own (Jinja) template.

    Returns the messages to send and, only when even the last message alone is too long and may
    be shifted, the shifted prompt tokens to complete instead.
    """
    if not messages or surely_fits(_bound(messages, tools, template_len), num_ctx):
        return messages, None
    kwargs: dict[str, Any] = {"add_generation_prompt": True}
    if tools:
        kwargs["tools"] = tools

    async def count(msgs: list[dict[str, Any]]) -> tuple[int, list[int]]:
        text = await runner.apply_template(msgs, **kwargs)
        if surely_fits(len(text.encode()), num_ctx):
            return 0, []
        tokens = await runner.tokenize(text, add_special=True)
        return len(tokens), tokens

    if truncate:
        # Ollama's chatPrompt: walk back from the last message (always kept) while the suffix fits.
        n = len(messages) - 1
        chosen: list[dict[str, Any]] = []
        tokens: list[int] = []
        for i in range(n, -1, -1):
            system = [m for m in messages[:i] if m.get("role") == "system"]
            candidate = system + messages[i:]
            used, toks = await count(candidate)
            if i < n and used > num_ctx:
                break
            chosen, tokens = candidate, toks
    else:
        chosen = messages
        _, tokens = await count(chosen)
    if len(chosen) < len(messages):
        log.info(
            "truncating input messages which exceed context length truncated=%d", len(messages) - len(chosen)
        )
    if len(tokens) <= num_ctx - 1:
        return chosen, None
    if not shift:
        raise BadRequest(PROMPT_TOO_LONG)
    bos = tokens[:1] == await runner.tokenize("", add_special=True)
    return chosen, shift_tokens(tokens, num_ctx, num_keep, bos)
