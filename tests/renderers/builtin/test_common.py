"""Go text helpers: TrimSpace, %v, ThinkValue.Bool() and [img-N] tags."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin._common import (
    go_sprint,
    go_trim_space,
    render_content_with_image_tags,
    think_bool,
)


def test_go_trim_space_uses_go_spaces() -> None:
    assert go_trim_space(" \t\n\v\f\r\x85\xa0\u2003\u3000x\u2028 ") == "x"
    assert go_trim_space("\x1cx\x1f") == "\x1cx\x1f"  # Python strips these, Go does not
    assert go_trim_space("\u200bx") == "\u200bx"  # zero-width space is not White_Space


def test_go_sprint() -> None:
    assert go_sprint(None) == "<nil>"
    assert go_sprint(True) == "true"
    assert go_sprint(1000000) == "1e+06"
    assert go_sprint(123456) == "123456"
    assert go_sprint(0.00001) == "1e-05"
    assert go_sprint(2.5) == "2.5"
    assert go_sprint("s") == "s"
    assert go_sprint([1, "a", None]) == "[1 a <nil>]"
    assert go_sprint({"b": 1, "a": [True]}) == "map[a:[true] b:1]"


@pytest.mark.parametrize(
    ("think", "expected"),
    [
        (None, False),
        (False, False),
        (True, True),
        ("low", True),
        ("medium", True),
        ("max", True),
        ("bogus", False),
    ],
)
def test_think_bool(think: bool | str | None, expected: bool) -> None:
    assert think_bool(think) is expected


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
