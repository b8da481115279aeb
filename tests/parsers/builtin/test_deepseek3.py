"""PARSER deepseek3 (Ollama's model/parsers/deepseek3.go)."""

from __future__ import annotations

from typing import Any

import pytest

from pyollama.parsers import parser_for_name
from pyollama.parsers.builtin.deepseek3 import (
    TOOL_CALL_BEGIN,
    TOOL_CALL_END,
    TOOL_CALLS_BEGIN,
    TOOL_CALLS_END,
    TOOL_OUTPUT_BEGIN,
    TOOL_OUTPUT_END,
    TOOL_SEP,
    DeepSeek3Parser,
)
from tests.parsers.streaming import calls_as_dicts, run, splits


def calls(*items: tuple[str, str]) -> str:
    body = "".join(f"{TOOL_CALL_BEGIN}{name}{TOOL_SEP}{args}{TOOL_CALL_END}" for name, args in items)
    return f"{TOOL_CALLS_BEGIN}{body}{TOOL_CALLS_END}"


def output(text: str) -> str:
    return f"{TOOL_OUTPUT_BEGIN}{text}{TOOL_OUTPUT_END}"


PARIS = ("get_weather", '{"location":"Paris"}')
LONDON = ("get_weather", '{"location":"London"}')


@pytest.mark.parametrize(
    ("think", "text", "content", "thinking", "want_calls"),
    [
        (False, "Hello, how are you?", "Hello, how are you?", "", []),
        (True, "I need to think...</think>The answer is 42.", "The answer is 42.", "I need to think...", []),
        (
            True,
            "Let me think:\n- 1\n- 2</think>\n\nHere's my answer.",
            "Here's my answer.",
            "Let me think:\n- 1\n- 2",
            [],
        ),
        (True, "Just thinking</think>", "", "Just thinking", []),
        (True, "  thinking keeps its start  </think>x", "x", "  thinking keeps its start", []),
        (False, "no thinking</think>x", "no thinking</think>x", "", []),
        (
            False,
            "I'll check." + calls(PARIS) + "完成 ✅",
            "I'll check.完成 ✅",
            "",
            [{"name": "get_weather", "index": 0, "args": [("location", "Paris")]}],
        ),
        (
            False,
            "Both." + calls(PARIS, LONDON),
            "Both.",
            "",
            [
                {"name": "get_weather", "index": 0, "args": [("location", "Paris")]},
                {"name": "get_weather", "index": 1, "args": [("location", "London")]},
            ],
        ),
        (
            True,
            "Checking...</think>I'll get it." + calls(("f", ' {"b": {"z": 1, "y": 2.0}, "a": []} ')),
            "I'll get it.",
            "Checking...",
            [{"name": "f", "index": 0, "args": [("b", {"y": 2, "z": 1}), ("a", [])]}],
        ),
        (False, "Ping." + calls((" ping ", "{}")), "Ping.", "", [{"name": "ping", "index": 0, "args": []}]),
        # tool output is content, spaces kept on both sides
        (False, "Weather: " + output("22°C") + " Enjoy!", "Weather: 22°C Enjoy!", "", []),
        (False, "A " + output("1") + " and " + output("2"), "A 1 and 2", "", []),
        (False, "Status: " + output("") + " none.", "Status:  none.", "", []),
    ],
)
def test_outputs(
    think: bool, text: str, content: str, thinking: str, want_calls: list[dict[str, Any]]
) -> None:
    out = run("deepseek3", [text], think=think)
    assert (out.content, out.thinking, calls_as_dicts(out.calls)) == (content, thinking, want_calls)
    # as the model streams it: each special token whole (they are single tokens), text in pieces;
    # the space right after </think> is trimmed only when it comes with the tag, as in Ollama
    pieces = tokens(text)
    out = run("deepseek3", pieces, think=think)
    if "</think>\n" not in text:
        assert (out.content, out.thinking, calls_as_dicts(out.calls)) == (content, thinking, want_calls), (
            pieces
        )


def tokens(text: str) -> list[str]:
    """`text` as a stream: the special tokens whole, other text two characters at a time."""
    specials = ["</think>", TOOL_CALLS_BEGIN, TOOL_CALLS_END, TOOL_CALL_BEGIN, TOOL_CALL_END, TOOL_SEP]
    specials += [TOOL_OUTPUT_BEGIN, TOOL_OUTPUT_END]
    out: list[str] = []
    i = 0
    while i < len(text):
        tag = next((t for t in specials if text.startswith(t, i)), None)
        if tag is not None:
            out.append(tag)
            i += len(tag)
        else:
            n = 2 if i + 1 < len(text) and not any(text.startswith(t, i + 1) for t in specials) else 1
            out.append(text[i : i + n])
            i += n
    return out


def test_space_after_think_in_its_own_piece_is_content() -> None:
    assert run("deepseek3", ["hm</think>\n\nok"], think=True).content == "ok"
    assert run("deepseek3", ["hm", "</think>", "\n\n", "ok"], think=True).content == "\n\nok"


def test_thinking_holds_back_a_partial_close_tag() -> None:
    for pieces in splits("Thinking about it  </think>Done.", ("</think>",)):
        out = run("deepseek3", pieces, think=True)
        assert (out.thinking, out.content) == ("Thinking about it", "Done."), pieces


def test_content_does_not_hold_back_a_partial_tag() -> None:
    # as in Ollama: content is sent at once, so a tag split across pieces reaches the user as text
    half = len(TOOL_CALLS_BEGIN) // 2
    text = "Hi" + calls(PARIS)
    out = run("deepseek3", [text[: 2 + half], text[2 + half :]], think=False)
    assert (out.content, out.calls) == (text, [])


def test_a_call_that_does_not_decode_is_skipped_and_blocks_the_next() -> None:
    # a warning, not an error; the bad call stays in the buffer, so later calls wait for the end tag
    text = "x" + calls(("bad", "{nope"), PARIS) + "after"
    out = run("deepseek3", [text], think=False)
    assert (out.content, out.calls) == ("xafter", [])
    # without a separator it is the same
    out = run("deepseek3", ["x" + calls(("no separator", "")), "y"], think=False)
    assert (out.content, out.calls) == ("xy", [])


@pytest.mark.parametrize(
    ("think", "last", "state_thinking"),
    [
        (True, None, True),
        ("low", None, True),
        (False, None, False),
        (None, None, False),  # deepseek3 thinks only when asked
        (True, {"role": "assistant", "content": "prefilled"}, False),
        (True, {"role": "assistant", "content": ""}, True),
        (True, {"role": "user", "content": "q"}, True),
    ],
)
def test_init_picks_the_starting_state(think: Any, last: Any, state_thinking: bool) -> None:
    out = run("deepseek3", ["text</think>more"], think=think, last_message=last)
    assert (out.thinking == "text") is state_thinking


def test_indices_across_pieces_and_reset_by_init() -> None:
    p = DeepSeek3Parser()
    p.init(None, None, False)
    text = calls(PARIS, LONDON, PARIS)
    cut = text.index(TOOL_CALL_BEGIN, text.index(TOOL_CALL_END)) + 3
    first, second = p.add(text[:cut], False), p.add(text[cut:], True)
    assert [c.index for c in first.calls + second.calls] == [0, 1, 2]
    p.init(None, None, False)
    assert [c.index for c in p.add(calls(PARIS), True).calls] == [0]


def test_interface() -> None:
    p = parser_for_name("deepseek3")
    assert p is not None
    assert (p.has_tool_support, p.has_thinking_support) == (True, True)
    assert p.preserved_tokens()[0] == "</think>"
    assert TOOL_CALLS_BEGIN == "<\uff5ctool\u2581calls\u2581begin\uff5c>"
    assert set(p.preserved_tokens()) == {
        "</think>",
        TOOL_CALLS_BEGIN,
        TOOL_CALLS_END,
        TOOL_CALL_BEGIN,
        TOOL_CALL_END,
        TOOL_SEP,
        TOOL_OUTPUT_BEGIN,
        TOOL_OUTPUT_END,
    }
