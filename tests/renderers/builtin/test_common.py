"""Ollama's [img-N] tags (Go's TrimSpace, %v and ThinkValue are tested in tests/go, tests/test_think.py)."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin._common import render_content_with_image_tags


@pytest.mark.parametrize(
    ("content", "count", "offset", "expected", "next_offset"),
    [
        ("describe this", 2, 0, "[img-0][img-1] describe this", 2),
        ("compare [img] and [img]", 2, 3, "compare [img-3] and [img-4]", 5),
        ("compare [img]", 2, 0, "[img-1] compare [img-0]", 2),
        ("compare [img] and [img]", 1, 0, "compare [img-0] and [img]", 1),
        ("compare [img-0] and [img-1]", 2, 0, "compare [img-0] and [img-1]", 2),
        ("", 1, 0, "[img-0]", 1),
        ("\nafter a newline", 1, 4, "[img-4]\nafter a newline", 5),
        ("\u3000wide space", 1, 0, "[img-0]\u3000wide space", 1),
        ("\ufffdreplacement", 1, 0, "[img-0]\ufffdreplacement", 1),
        ("no images", 0, 7, "no images", 7),
    ],
)
def test_render_content_with_image_tags(
    content: str, count: int, offset: int, expected: str, next_offset: int
) -> None:
    assert render_content_with_image_tags(content, count, offset) == (expected, next_offset)
