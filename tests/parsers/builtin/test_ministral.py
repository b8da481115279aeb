from __future__ import annotations

import pytest

from pyollama.parsers import ParserError
from pyollama.parsers.builtin.ministral import MinistralParser, find_json_end
from tests.parsers.builtin.feeding import call, feed, make, run, splits, tool

TOOLS = [tool("get_weather"), tool("get_time"), tool("create_entities")]


def test_content_holds_back_only_trailing_whitespace_and_partial_tags() -> None:
    p = make("ministral")
    assert p.add("Hello ", False).content == "Hello"
    assert p.add("world\n", False).content == " world"
    assert p.add("abc[TOOL", False).content == "\nabc"
    assert p.add(" not a tag", False).content == "[TOOL not a tag"
    assert p.add("  ", True).content == ""  # nothing held back is flushed at the end


SAMPLE = (
    "Sure thing \n\t[TOOL_CALLS]get_weather[ARGS]"
    '{"location": "San Francisco", "opts": {"z": [1, {"b": 2, "a": 1}], '
    '"t": "Hello {name}! say \\"hi\\" \\\\"}}'
    '[TOOL_CALLS]get_time[ARGS]{"timezone": "EST"}then [THINK]pondering[/THINK]more'
)


def test_streaming_in_any_split_gives_the_same_result() -> None:
    whole = run("ministral", SAMPLE, tools=TOOLS)
    assert whole == (
        "Sure thingthenmore",
        "pondering",
        [
            call(
                "get_weather",
                {
                    "location": "San Francisco",
                    "opts": {"t": 'Hello {name}! say "hi" \\', "z": [1, {"a": 1, "b": 2}]},
                },
                0,
            ),
            call("get_time", {"timezone": "EST"}, 1),
        ],
    )
    for pieces in splits(SAMPLE):
        assert run("ministral", pieces, tools=TOOLS) == whole, pieces


def test_whitespace_after_think_end_goes_only_in_the_tags_piece() -> None:
    assert run("ministral", "[THINK]t[/THINK]\u00a0\n answer").content == "answer"  # Go's IsSpace: NBSP too
    assert run("ministral", ["[THINK]t[/THINK]", "\u00a0\n answer"]).content == "\u00a0\n answer"
    assert run("ministral", "content\u00a0[TOOL_CALLS]get_time[ARGS]{}", tools=TOOLS).content == "content"


def test_calls_wait_for_their_json_to_close() -> None:
    p = make("ministral", tools=TOOLS)
    for piece in [
        "[TOOL_CALLS]create_entities[ARGS]",
        '{"entities": [{"name": "Jack",',
        ' "obs": ["baker"]}',
    ]:
        assert p.add(piece, False) == ("", "", [])
    out = p.add("]}after", False)
    assert [(c.name, c.arguments, c.index) for c in out.calls] == [
        ("create_entities", {"entities": [{"name": "Jack", "obs": ["baker"]}]}, 0)
    ]
    assert out.content == "after"


def test_thinking_support_starts_in_the_reasoning() -> None:
    p = MinistralParser(thinking=True)
    p.init(TOOLS, None, None)
    out = feed(p, ["let me think[/THI", "NK]  \n [TOOL_CALLS]get_time[ARGS]{}"])
    assert out == ("", "let me think", [call("get_time", {})])
    p = MinistralParser(thinking=True)
    p.init(None, None, None)
    assert feed(p, ["thinking[/THI", "not end tag"]).thinking == "thinking[/THInot end tag"
    p = MinistralParser(thinking=True)
    p.init(None, {"role": "assistant", "content": "so far"}, None)
    assert feed(p, ["more[/THINK]x"]).content == "more[/THINK]x"


def test_the_registered_name_has_no_thinking_support_but_shows_think_blocks() -> None:
    p = make("ministral", think=True)
    assert not p.has_thinking_support
    assert feed(p, ["content \n [THINK]thinking[/THINK]after"])[:2] == ("contentafter", "thinking")


def test_an_undeclared_tool_is_an_error() -> None:
    with pytest.raises(ParserError, match="tool 'unknown' not found"):
        run("ministral", "[TOOL_CALLS]unknown[ARGS]{}", tools=TOOLS)
    with pytest.raises(ParserError, match="tool ' get_time' not found"):
        run("ministral", "[TOOL_CALLS] get_time[ARGS]{}", tools=TOOLS)
    with pytest.raises(ParserError, match="not found"):
        run("ministral", "[TOOL_CALLS]get_time[ARGS]{}")


@pytest.mark.parametrize("args", ["[1, 2]", "x{}", '{"a": NaN}', '{"a": 1e400}', "{'a': 1}"])
def test_arguments_that_are_not_a_json_object_are_an_error(args: str) -> None:
    with pytest.raises(ParserError):
        run("ministral", "[TOOL_CALLS]get_time[ARGS]" + args, tools=TOOLS)


def test_find_json_end() -> None:
    assert find_json_end('{"a": "}"}x') == 9
    assert find_json_end('{"a": "\\"}"') == -1
    assert find_json_end("[1, [2]] ") == 7
    assert find_json_end("}{}") == -1
    assert find_json_end('x{"a":1}') == 7


def test_surface() -> None:
    p = make("ministral")
    assert p.has_tool_support
    assert p.preserved_tokens() == ["[TOOL_CALLS]", "[THINK]", "[/THINK]", "[ARGS]"]
