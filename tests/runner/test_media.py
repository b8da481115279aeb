"""Where images go in a prompt for the engine (`place_media`): Ollama's tags, llama.cpp's marker."""

from __future__ import annotations

from pyollama.runner.native import place_media

M = "<__media_x__>"


def test_tags_become_markers_with_images_in_tag_order() -> None:
    text, images = place_media("[img-1] and [img-0]: same?", [b"A", b"B"], M)
    assert text == f"{M} and {M}: same?"
    assert images == [b"B", b"A"]


def test_no_tags_puts_the_images_first() -> None:
    assert place_media("describe", [b"A", b"B"], M) == (f"{M}{M}describe", [b"A", b"B"])


def test_a_tag_past_the_images_is_left_as_text() -> None:
    assert place_media("[img-0] [img-7]", [b"A"], M) == (f"{M} [img-7]", [b"A"])
