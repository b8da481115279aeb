"""What the renderers share beyond Go's library: ChatML's markers and Ollama's `[img-N]` tags."""

from __future__ import annotations

from pyollama.go.strings import is_space

__all__ = ["IM_END", "IM_START", "render_content_with_image_tags"]

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"


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
    if prefix and content and not is_space(content[0]) and content[0] != "\ufffd":
        prefix.append(" ")
    return "".join(prefix) + content, image_offset + image_count
