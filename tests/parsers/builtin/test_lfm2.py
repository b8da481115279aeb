from __future__ import annotations

from typing import Any

import pytest

from pyollama.parsers.builtin.lfm2 import LFM2Parser, parse_tool_calls
from tests.parsers.builtin.feeding import call, make, run, splits, tool

START, END = "<|tool_call_start|>", "<|tool_call_end|>"
ATOMS = ["<think>", "</think>", START, END]  # single special tokens in a real stream


@pytest.mark.parametrize(
    ("name", "think", "thinks"),
    [
        ("lfm2-thinking", True, True),
        ("lfm2-thinking", "medium", True),
        ("lfm2-thinking", None, False),  # unset means off
        ("lfm2-thinking", False, False),
        ("lfm2", True, False),  # the model cannot think
    ],
)
def test_thinking_needs_the_model_and_the_request(name: str, think: bool | str | None, thinks: bool) -> None:
    out = run(name, "<think>I need to think...</think>The answer is 42.", think=think)
    if thinks:
        assert out[:2] == ("The answer is 42.", "I need to think...")
    else:
        assert out[:2] == ("<think>I need to think...</think>The answer is 42.", "")


def test_the_model_decides_per_turn_whether_to_reason() -> None:
    assert run("lfm2-thinking", "  \n  Hello there", think=True)[:2] == ("Hello there", "")
    assert run("lfm2-thinking", ["<", "html> is a tag"], think=True).content == "<html> is a tag"
    assert run("lfm2-thinking", ["<th", "ink>", "reasoning", "</think>", "answer"], think=True)[:2] == (
        "answer",
        "reasoning",
    )
    # a partial tag at the very end is the answer
    assert run("lfm2-thinking", ["<thi"], think=True, final="").content == "<thi"
    assert run("lfm2-thinking", ["  <thi"], think=True, final=None).content == "<thi"


def test_a_prefill_with_content_continues_the_answer() -> None:
    last = {"role": "assistant", "content": "So far"}
    assert run("lfm2-thinking", "<think>x</think>y", think=True, last=last).content == "<think>x</think>y"


def test_whitespace_around_the_reasoning_is_dropped_across_pieces() -> None:
    pieces = ["<think>", "\n\n  ", "Actual thinking", " \n", "</think>", "\n\n\n", "Response"]
    assert run("lfm2-thinking", pieces, think=True)[:2] == ("Response", "Actual thinking")
    assert run("lfm2-thinking", "<think>a</think>b</think>c", think=True)[:2] == ("b</think>c", "a")
    assert run("lfm2-thinking", "<think><think>a</think>b", think=True)[:2] == ("b", "a")


SAMPLE = (
    "<think>\n Let me check the weather...  </think>\n\nI'll look."
    + START
    + "[get_weather(location=\"Paris\"), get_time(tz='CET', n=2)]"
    + END
    + START
    + "bash(command='ls -la')"
    + END
    + "Done."
)


def test_streaming_at_token_boundaries_gives_the_same_result() -> None:
    whole = run(
        "lfm2-thinking", SAMPLE, think=True, tools=[tool("get_weather"), tool("get_time"), tool("bash")]
    )
    assert whole == (
        "I'll look.Done.",
        "Let me check the weather...",
        [
            call("get_weather", {"location": "Paris"}, 0),
            call("get_time", {"tz": "CET", "n": 2}, 1),
            call("bash", {"command": "ls -la"}, 2),
        ],
    )
    for pieces in splits(SAMPLE, ATOMS):
        assert run("lfm2-thinking", pieces, think=True, tools=[tool("x")]) == whole, pieces


def test_whitespace_around_calls_goes_only_in_the_tags_piece() -> None:
    # Content is released at once, so whitespace before <|tool_call_start|> is trimmed only when
    # it comes in the same piece; likewise after <|tool_call_end|>.
    assert run("lfm2", "a  " + START + "f()" + END + "\n b").content == "ab"
    assert run("lfm2", ["a  ", START + "f()" + END, "\n b"]).content == "a  \n b"


def test_content_does_not_wait_for_a_partial_tool_tag() -> None:
    # Ollama releases content at once: the tool tags are special tokens that arrive whole.
    out = run("lfm2", ["Hi <|tool_call_st", "art|>f()" + END])
    assert out == ("Hi <|tool_call_start|>f()" + END, "", [])


def test_a_block_that_does_not_parse_waits_forever() -> None:
    out = run("lfm2", "text" + START + "not a call" + END + " more", tools=[tool("f")])
    assert out == ("text", "", [])


def test_bare_calls_at_the_end_when_tools_are_offered() -> None:
    tools = [tool("get_weather")]
    out = run("lfm2", '[get_weather(location="Paris")]', tools=tools, final=None)
    assert out == ("", "", [call("get_weather", {"location": "Paris"})])
    # only the final piece's content is looked at
    assert run("lfm2", ['[get_weather(location="Paris")]'], tools=tools).calls == []
    # not a declared tool, or no tools at all: it stays content
    text = '[unknown_tool(location="Paris")]'
    assert run("lfm2", text, tools=tools, final=None) == (text, "", [])
    assert run("lfm2", '[get_weather(location="Paris")]', final=None).calls == []
    # tools without names allow any name
    assert run("lfm2", "f(x=1)", tools=[{"type": "function", "function": {}}], final=None).calls == [
        call("f", {"x": 1})
    ]
    for text in ("[img-0]describe this image", "<image>describe this image"):
        assert run("lfm2", text, tools=[tool("bash")], final=None) == (text, "", [])


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("ping()", [("ping", {})]),
        ("[a(x='1'),b(y='2'), c(z='3')]", [("a", {"x": "1"}), ("b", {"y": "2"}), ("c", {"z": "3"})]),
        (START + "[bash(command='pwd')]" + END, [("bash", {"command": "pwd"})]),
        ("bash(command='ls')" + END, [("bash", {"command": "ls"})]),
        (
            "bash(command='echo \"(hello, world)\" FOO=bar')",
            [("bash", {"command": 'echo "(hello, world)" FOO=bar'})],
        ),
        ("bash(command='echo \\'hi\\'')", [("bash", {"command": "echo \\'hi\\'"})]),  # escapes stay
        ('w(content="l1\\nl2")', [("w", {"content": "l1\\nl2"})]),
        ('f( arg1 = "v" , arg2 = 42 )', [("f", {"arg1": "v", "arg2": 42})]),
        (
            "f(a=-10, b=0.95, c=True, d=false, e=None, g=null, h=1e2)",
            [("f", {"a": -10, "b": 0.95, "c": True, "d": False, "e": None, "g": None, "h": 100})],
        ),
        (
            'f(q="What\'s up?", opts=[\'A\', "B"], multi=False, '
            "meta={'priority': 1, 'active': True, 'n': None})",
            [
                (
                    "f",
                    {
                        "q": "What's up?",
                        "opts": ["A", "B"],
                        "multi": False,
                        "meta": {"active": True, "n": None, "priority": 1},
                    },
                )
            ],
        ),
        (
            'f(payload=\'{"key": "value"}\', j={"b": [1, {"y": 1, "x": 2}]})',
            [("f", {"payload": '{"key": "value"}', "j": {"b": [1, {"x": 2, "y": 1}]}})],
        ),
        ("f(x=some bare words, y=[1, 2)", [("f", {"x": "some bare words", "y": "[1, 2"})]),
        ("f(x=, y=1)", [("f", {"x": "", "y": 1})]),
    ],
)
def test_python_style_calls(text: str, want: list[tuple[str, dict[str, Any]]]) -> None:
    assert [(c.name, c.arguments) for c in parse_tool_calls(text)] == want


@pytest.mark.parametrize(
    "text",
    ["", "[]", 'get_weather location="Paris")', "f(x='1'", "(x=1)", "f(x)", "f(=1)", "f(x='open)"],
)
def test_not_calls(text: str) -> None:
    with pytest.raises(ValueError):
        parse_tool_calls(text)


def test_indices_count_across_pieces() -> None:
    p = make("lfm2", tools=[tool("a")])
    first = p.add(START + "[a(), a()]" + END, False).calls
    second = p.add(START + "a()" + END, True).calls
    assert [c.index for c in first + second] == [0, 1, 2]


def test_surface() -> None:
    assert LFM2Parser(thinking=True).has_thinking_support and not LFM2Parser().has_thinking_support
    p = make("lfm2-thinking")
    assert p.has_tool_support
    assert p.preserved_tokens() == ["<think>", "</think>", START, END]
