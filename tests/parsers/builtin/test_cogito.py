from __future__ import annotations

from typing import Any

import pytest

from pyollama.parsers.builtin.cogito import (
    TOOL_CALL_BEGIN,
    TOOL_CALL_END,
    TOOL_CALLS_BEGIN,
    TOOL_CALLS_END,
    TOOL_OUTPUT_BEGIN,
    TOOL_OUTPUT_END,
    TOOL_OUTPUTS_BEGIN,
    TOOL_OUTPUTS_END,
    TOOL_SEP,
    CogitoParser,
    parse_tool_call,
)
from tests.parsers.builtin.feeding import call, make, run, splits, tool

ATOMS = ["</think>", TOOL_CALLS_BEGIN, TOOL_CALLS_END, TOOL_CALL_BEGIN, TOOL_CALL_END, TOOL_SEP]
ATOMS += [TOOL_OUTPUT_BEGIN, TOOL_OUTPUT_END, TOOL_OUTPUTS_BEGIN, TOOL_OUTPUTS_END]


def one_call(name: str, args_json: str) -> str:
    return f"{TOOL_CALL_BEGIN}function{TOOL_SEP}{name}\n```json\n{args_json}\n```{TOOL_CALL_END}"


def test_the_tags_are_deepseeks() -> None:
    assert TOOL_CALLS_BEGIN == "<\uff5ctool\u2581calls\u2581begin\uff5c>"
    assert TOOL_SEP == "<\uff5ctool\u2581sep\uff5c>"


@pytest.mark.parametrize(
    ("think", "tools", "last", "thinks"),
    [
        (True, None, None, True),
        ("high", None, None, True),
        (None, None, None, False),  # unset means off
        (False, None, None, False),
        (True, [tool("f")], None, False),  # no reasoning when tools are offered
        (True, None, {"role": "assistant", "content": "so far"}, False),
        (True, None, {"role": "assistant", "content": ""}, True),
    ],
)
def test_when_it_thinks(
    think: bool | str | None, tools: list[Any] | None, last: dict[str, Any] | None, thinks: bool
) -> None:
    out = run("cogito", "This is thinking.</think>This is the answer.", tools=tools, last=last, think=think)
    if thinks:
        assert out[:2] == ("This is the answer.", "This is thinking.")
    else:
        assert out[:2] == ("This is thinking.</think>This is the answer.", "")


def test_thinking_edges() -> None:
    assert run("cogito", "line 1\nline 2  \n</think>\n\n Final.", think=True)[:2] == (
        "Final.",
        "line 1\nline 2",
    )
    assert run("cogito", "I <think>nested</think> more</think>Final.", think=True)[:2] == (
        "more</think>Final.",
        "I <think>nested",
    )
    assert run("cogito", ["thinking  </thi", "nk>answer"], think=True)[:2] == ("answer", "thinking")


def test_calls_with_indices_and_content_around_them() -> None:
    text = (
        "Let me check.  "
        + TOOL_CALLS_BEGIN
        + one_call("get_weather", '{"location": "Paris", "nested": {"z": 1, "a": [1.0, 2.5]}}')
        + "\n"
        + one_call("  get_time  ", '{\n  "tz": "CET"\n}')
        + TOOL_CALLS_END
        + "\n All done."
    )
    out = run("cogito", text, tools=[tool("get_weather")], think=True)
    assert out == (
        "Let me check.All done.",
        "",
        [
            call("get_weather", {"location": "Paris", "nested": {"a": [1, 2.5], "z": 1}}, 0),
            call("get_time", {"tz": "CET"}, 1),
        ],
    )
    for pieces in splits(text, ATOMS):
        assert run("cogito", pieces, tools=[tool("get_weather")], think=True).calls == out.calls, pieces


def test_streaming_at_token_boundaries_gives_the_same_result() -> None:
    text = "Reason here  </think>" + TOOL_CALLS_BEGIN + one_call("f", '{"a": 1}') + TOOL_CALLS_END + "ok"
    whole = run("cogito", text, think=True)
    assert whole == ("ok", "Reason here", [call("f", {"a": 1})])
    for pieces in splits(text, ATOMS):
        assert run("cogito", pieces, think=True) == whole, pieces


def test_a_call_that_does_not_parse_is_skipped_with_its_block() -> None:
    bad = f"{TOOL_CALL_BEGIN}function{TOOL_SEP}f\n```json\n{{bad json}}\n```{TOOL_CALL_END}"
    out = run("cogito", "a" + TOOL_CALLS_BEGIN + bad + one_call("g", "{}") + TOOL_CALLS_END + "b")
    assert out == ("ab", "", [])
    # without the block's end it waits, and the rest is lost
    assert run("cogito", "a" + TOOL_CALLS_BEGIN + bad + "b") == ("a", "", [])


def test_tool_outputs_the_model_writes_are_dropped() -> None:
    text = f'{TOOL_OUTPUTS_BEGIN}{TOOL_OUTPUT_BEGIN}{{"t": 22}}{TOOL_OUTPUT_END}{TOOL_OUTPUTS_END}  after'
    assert run("cogito", text) == ("after", "", [])


def test_partial_tags_in_content_are_not_held_back() -> None:
    head = TOOL_CALLS_BEGIN[:8]
    text = "Content before" + head
    rest = TOOL_CALLS_BEGIN[8:] + one_call("test", "{}") + TOOL_CALLS_END
    assert run("cogito", [text, rest]) == (
        "Content before" + TOOL_CALLS_BEGIN + one_call("test", "{}") + TOOL_CALLS_END,
        "",
        [],
    )


@pytest.mark.parametrize(
    "content",
    [
        'functionget_weather```json\n{"location":"Paris"}\n```',
        "function" + TOOL_SEP + 'get_weather{"location":"Paris"}```',
        "function" + TOOL_SEP + 'get_weather```json\n{"location":"Paris"}',
        "function" + TOOL_SEP + "get_weather\n```json\n{location:Paris}\n```",
        "function" + TOOL_SEP + "get_weather\n```json\n[1]\n```",
        "function" + TOOL_SEP + 'get_weather\n```json\n{"x": NaN}\n```',
    ],
)
def test_malformed_calls(content: str) -> None:
    with pytest.raises(ValueError):
        parse_tool_call(content)


def test_the_type_before_the_separator_is_not_checked() -> None:
    c = parse_tool_call("whatever" + TOOL_SEP + 'f\n```json\n{"b": 1, "a": 2}\n```')
    assert (c.name, list(c.arguments.items())) == ("f", [("b", 1), ("a", 2)])


def test_surface() -> None:
    p = CogitoParser()
    assert p.has_tool_support and p.has_thinking_support
    assert p.preserved_tokens() == ["</think>", *ATOMS[1:]]
    q = make("cogito")
    assert q.add(TOOL_CALLS_BEGIN + one_call("f", "{}"), False).calls[0].index == 0
    assert q.add(one_call("g", "{}") + TOOL_CALLS_END, True).calls[0].index == 1
