"""Template detection at create time: a GGUF without TEMPLATE gets a built-in Go template.

Ollama (`template.Named`, server/model.go `detectChatTemplate`) compares the GGUF's Jinja
`tokenizer.chat_template` with the Hugging Face templates in its template/index.json and takes the
closest one under a Levenshtein distance of 100; the match brings its Go template and its `stop`
parameters. pyollama does not carry those Jinja texts. It recognizes a family by the markers every
template of that family must print (ChatML's `<|im_start|>`/`<|im_end|>`, Llama 3's header ids,
Gemma's turn markers, ...), tried from the most specific family to the least, and:

- keeps the Jinja path (no template layer) when the Jinja template does more than the Go template
  would: tools, tool calls, or thinking. Ollama's distance rarely matches such templates (they are
  long); where it would (Llama 3.1's tool template is in its index), pyollama keeps the richer
  Jinja rendering through llama.cpp instead;
- ignores templates longer than `MAX_TEMPLATE` characters, which are never within Ollama's
  distance of its short samples.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pyollama.store.templates.families import BY_NAME, FAMILIES, Family

__all__ = ["BY_NAME", "FAMILIES", "MAX_TEMPLATE", "Family", "detect", "detect_family"]

MAX_TEMPLATE = 4096

# what a Go template of these families cannot do: then the Jinja template stays in charge
_RICHER = re.compile(r"\btools\b|tool_calls|enable_thinking|reasoning_content|<think>|\bthinking\b")


def _has(*markers: str) -> Callable[[str], bool]:
    return lambda t: all(m in t for m in markers)


def _gemma3(t: str) -> bool:
    # Gemma 3 prints the system prompt at the start of the first user turn (and knows images);
    # Gemma 1/2 templates refuse a system role
    return "<start_of_turn>" in t and ("first_user_prefix" in t or "<start_of_image>" in t)


def _starcoder(t: str) -> bool:
    return "### Instruction\n" in t and "### Response\n" in t


# (family, test) from the most specific to the least: the first that holds wins
_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("llama3-instruct", _has("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")),
    ("gemma3-instruct", _gemma3),
    ("gemma-instruct", _has("<start_of_turn>", "<end_of_turn>")),
    ("phi-3", _has("<|end|>", "<|assistant|>")),
    ("zephyr", _has("<|user|>", "<|assistant|>")),
    ("chatml", _has("<|im_start|>", "<|im_end|>")),
    ("llama2-chat", _has("[INST]", "[/INST]", "<<SYS>>")),
    ("mistral-instruct", _has("[INST]", "[/INST]")),
    ("codellama-70b-instruct", _has("Source: ", "<step>", "Destination: user")),
    ("openchat", _has("GPT4 Correct ", "<|end_of_turn|>")),
    ("alpaca", _has("### Instruction:", "### Response:")),
    ("starcoder2-instruct", _starcoder),
    ("magicoder", _has("@@ Instruction", "@@ Response")),
    ("solar-instruct", _has("### User:", "### Assistant:")),
    ("falcon-instruct", _has("User:", "Falcon:")),
    ("granite-instruct", _has("Question:", "Answer:")),
    ("chatqa", _has("User: ", "Assistant:")),
    ("alfred", _has("<start_user>", "<start_assistant>", "<end_message>")),
)


def detect_family(chat_template: str) -> Family | None:
    """The built-in family for a GGUF's Jinja chat template, or None to keep the Jinja path."""
    t = chat_template.replace("\r\n", "\n")
    if not t.strip() or len(t) > MAX_TEMPLATE or _RICHER.search(t):
        return None
    for name, test in _RULES:
        if test(t):
            return BY_NAME[name]
    return None


def detect(chat_template: str) -> tuple[str, str, dict[str, Any] | None] | None:
    """`Creator`'s template detector: (name, Go template, params) or None."""
    f = detect_family(chat_template)
    if f is None:
        return None
    return f.name, f.template, {"stop": list(f.stop)}
