from __future__ import annotations

import pytest

from pyollama.parsers.builtin.olmo3_think import Olmo3ThinkParser
from tests.parsers.builtin.feeding import make, run, splits


@pytest.mark.parametrize(
    ("text", "content", "thinking"),
    [
        ("I need to think.</think>Here is my response.", "Here is my response.", "I need to think."),
        ("Step 1\n2. Next</think>The answer is 42.", "The answer is 42.", "Step 1\n2. Next"),
        ("</think>Just content.", "Just content.", ""),
        ("  Some thinking  </think>  Content here  ", "Content here  ", "  Some thinking"),
        ("Done.\n\n</think>\n\nHi! 😊", "Hi! 😊", "Done."),
        ("I <think>nested</think> more</think>Final.", "more</think>Final.", "I <think>nested"),
        ("never closed   ", "", "never closed"),  # held-back whitespace is not flushed at the end
    ],
)
def test_outputs(text: str, content: str, thinking: str) -> None:
    assert run("olmo3-think", text)[:2] == (content, thinking)


@pytest.mark.parametrize("think", [None, False, True, "low"])
def test_the_prompt_always_opens_the_reasoning(think: bool | str | None) -> None:
    assert run("olmo3-think", "why</think>so", think=think)[:2] == ("so", "why")


def test_a_prefill_with_content_continues_the_answer() -> None:
    last = {"role": "assistant", "content": "Previous"}
    assert run("olmo3-think", "more</think>text", last=last)[:2] == ("more</think>text", "")
    empty = {"role": "assistant", "content": ""}
    assert run("olmo3-think", "more</think>text", last=empty)[:2] == ("text", "more")
    user = {"role": "user", "content": "hi"}
    assert run("olmo3-think", "more</think>text", last=user)[:2] == ("text", "more")


def test_streaming_in_any_split_gives_the_same_result() -> None:
    # (whitespace right after </think> is dropped only when it comes in the tag's piece)
    text = "Let me see </th... ok\n\n </think>The answer  </think> is 42 "
    whole = run("olmo3-think", text)
    assert whole[:2] == ("The answer  </think> is 42 ", "Let me see </th... ok")
    for pieces in splits(text):
        assert run("olmo3-think", pieces) == whole, pieces


def test_pieces_release_what_is_decided() -> None:
    p = make("olmo3-think")
    assert p.add("thinking  \n", False).thinking == "thinking"
    assert p.add("more </th", False).thinking == "  \nmore"
    out = p.add("ink>", False)
    assert (out.content, out.thinking) == ("", "")
    assert p.add("  answer", False).content == "  answer"  # only whitespace that came with the tag goes


def test_surface() -> None:
    p = Olmo3ThinkParser()
    assert not p.has_tool_support and p.has_thinking_support
    assert p.preserved_tokens() == ["</think>"]
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert p.init(tools, None, None) is tools
