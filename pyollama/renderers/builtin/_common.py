"""Go text helpers the renderers share: `strings.TrimSpace`, `%v`, `ThinkValue.Bool()`, `[img-N]` tags.

Python's `str.strip()` and `str()` differ from Go's in small ways (U+001C..U+001F are spaces to
Python, not to Go; a float64 prints `1e+06` in Go), and a prompt must come out byte for byte as
Ollama builds it, so the renderers use these instead.
"""

from __future__ import annotations

from typing import Any

from pyollama.go.fmt import float_v as go_float_v
from pyollama.renderers import Think

__all__ = [
    "IM_END",
    "IM_START",
    "go_sprint",
    "go_trim_space",
    "render_content_with_image_tags",
    "think_bool",
]

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

# unicode.IsSpace: the Latin-1 spaces plus the White_Space property
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + ("\u2028\u2029\u202f\u205f\u3000")
)


def go_trim_space(s: str) -> str:
    """`strings.TrimSpace`."""
    return s.strip(_GO_SPACE)


def go_sprint(v: Any) -> str:
    """`fmt.Sprintf("%v", v)` of a JSON value decoded into `any` (numbers are float64)."""
    if v is None:
        return "<nil>"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int | float):
        try:
            return go_float_v(float(v))
        except OverflowError:
            return "+Inf" if v > 0 else "-Inf"
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list | tuple):
        return "[" + " ".join(go_sprint(x) for x in v) + "]"
    return str(v)


_THINK_LEVELS = ("low", "medium", "high", "max")


def think_bool(think: Think) -> bool:
    """`ThinkValue.Bool()`: true for `true` or any valid level, false when unset."""
    if isinstance(think, bool):
        return think
    return isinstance(think, str) and think in _THINK_LEVELS


def render_content_with_image_tags(content: str, image_count: int, image_offset: int) -> tuple[str, int]:
    """Ollama's `renderContentWithImageTags`: `[img-N]` for each image, N counting from `image_offset`.

    Explicit `[img]` placeholders are numbered in order; images left over are tagged in front of
    the content (with a space before text). Content that already has `[img-` tags is kept as it
    is. Returns the content and the offset for the next message.
    """
    if image_count == 0:
        return content, image_offset
    if "[img-" in content:
        return content, image_offset + image_count

    prefix = []
    for i in range(image_count):
        tag = f"[img-{image_offset + i}]"
        if "[img]" in content:
            content = content.replace("[img]", tag, 1)
        else:
            prefix.append(tag)

    # a space before text that starts with a printable rune (U+FFFD reads as Go's RuneError)
    if prefix and content and content[0] not in _GO_SPACE and content[0] != "\ufffd":
        prefix.append(" ")
    return "".join(prefix) + content, image_offset + image_count
