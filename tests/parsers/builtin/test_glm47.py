from __future__ import annotations

import pytest

from pyollama.parsers import ParserError
from pyollama.parsers.builtin.glm47 import GLM47Parser, parse_tool_call, repair_xml
from pyollama.parsers.common import parse_value
from tests.parsers.builtin.feeding import call, feed, make, run, splits, tool

CALC = tool("calculate", {"count": {"type": "integer"}, "enabled": {"type": "boolean"}})
GREP = tool("grep", {"pattern": {"type": "string"}, "path": {"type": "string"}}, ["pattern", "path"])
WRITE = tool("write", {"path": {"type": "string"}, "content": {"type": "string"}}, ["path", "content"])


def test_thinking_is_on_by_default_because_the_prompt_opened_it() -> None:
    out = run(
        "glm-4.7",
        "plan</think>Answer<tool_call>calculate<arg_key>count</arg_key><arg_value>3</arg_value>"
        "<arg_key>enabled</arg_key><arg_value>true</arg_value></tool_call>",
        tools=[CALC],
    )
    assert out.thinking == "plan"
    assert out.content == "Answer"
    assert out.calls == [call("calculate", {"count": 3, "enabled": True})]


@pytest.mark.parametrize("think", [None, True, "high", "max"])
def test_no_reasoning_closes_at_once(think: bool | str | None) -> None:
    assert run("glm-4.7", "</think>Plain answer", think=think)[:2] == ("Plain answer", "")


def test_thinking_off_looks_for_an_optional_think_tag() -> None:
    assert run("glm-4.7", "Plain answer", think=False)[:2] == ("Plain answer", "")
    # the leading whitespace of an answer without thinking is kept
    assert run("glm-4.7", "  \n  answer", think=False).content == "  \n  answer"
    # the model may still write a block; whitespace before and inside it goes
    assert run("glm-4.7", "  <think>  \n why \n </think>\n\n because", think=False)[:2] == ("because", "why")
    assert run("glm-4.7", ["  <thi", "nking is fun"], think=False).content == "  <thinking is fun"


SAMPLE = (
    "Let me think.\n\nReally  </think>\n Here is text \n"
    "<tool_call>calculate\n<arg_key>count</arg_key>\n<arg_value>42</arg_value>\n"
    "<arg_key>enabled</arg_key>\n<arg_value>false</arg_value>\n</tool_call>between <tool"
    "<tool_call>second<arg_key>q</arg_key><arg_value>a < b && c</arg_value></tool_call>after  "
)


def test_streaming_in_any_split_gives_the_same_result() -> None:
    whole = run("glm-4.7", SAMPLE, tools=[CALC])
    assert whole.thinking == "Let me think.\n\nReally"
    assert whole.content == "Here is textbetween <toolafter"  # trailing whitespace is never released
    assert whole.calls == [
        call("calculate", {"count": 42, "enabled": False}, 0),
        call("second", {"q": "a < b && c"}, 1),
    ]
    for pieces in splits(SAMPLE):
        assert run("glm-4.7", pieces, tools=[CALC]) == whole, pieces


def test_whitespace_after_a_call_goes_only_if_it_came_with_the_tag() -> None:
    # Ollama trims what follows </tool_call> in the same buffer, but has no state that eats
    # whitespace arriving later (it does for </think>).
    text = "x</think><tool_call>f</tool_call>\n answer"
    assert run("glm-4.7", text).content == "answer"
    assert run("glm-4.7", ["x</think><tool_call>f</tool_call>", "\n answer"]).content == "\n answer"
    assert run("glm-4.7", ["x</think>", "\n answer"]).content == "answer"


def test_pieces_release_what_is_decided() -> None:
    p = make("glm-4.7")
    assert p.add("thinking   ", False).thinking == "thinking"  # trailing whitespace waits
    assert p.add("more</th", False).thinking == "   more"
    out = p.add("ink>content<tool", False)
    assert (out.content, out.thinking) == ("content", "")
    assert p.add(" fakeout", False).content == "<tool fakeout"
    out = p.add("<tool_call>f<arg_key>a</arg_key><arg_value>1</arg_value></tool_call", False)
    assert out.calls == []
    out = p.add(">", True)
    assert [(c.name, c.arguments, c.index) for c in out.calls] == [("f", {"a": "1"}, 0)]


def test_indices_count_across_pieces_and_restart_on_init() -> None:
    p = make("glm-4.7")
    a = p.add(
        "x</think><tool_call>first<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>"
        "<tool_call>second<arg_key>b</arg_key>",
        False,
    )
    b = p.add("<arg_value>2</arg_value></tool_call><tool_call>third</tool_call>", True)
    assert [(c.name, c.index) for c in a.calls + b.calls] == [("first", 0), ("second", 1), ("third", 2)]
    p.init(None, None, None)
    out = p.add("x</think><tool_call>again</tool_call>", True)
    assert [(c.name, c.index) for c in out.calls] == [("again", 0)]


def test_text_in_a_call_is_not_xml() -> None:
    c = parse_tool_call("exec\n<arg_key>expr</arg_key>\n<arg_value>a < b && c > d</arg_value>", None)
    assert (c.name, c.arguments) == ("exec", {"expr": "a < b && c > d"})
    c = parse_tool_call(
        "f<arg_key>param<1></arg_key><arg_value>&lt;&amp;&quot;</arg_value>"
        "<arg_key>cdata</arg_key><arg_value><![CDATA[x]]></arg_value>",
        None,
    )
    assert c.arguments == {"param<1>": "&lt;&amp;&quot;", "cdata": "<![CDATA[x]]>"}
    # Go's XML decoder reads \r\n and \r as \n
    assert parse_tool_call("f<arg_key>k</arg_key><arg_value>a\r\nb\rc</arg_value>", None).arguments == {
        "k": "a\nb\nc"
    }


def test_name_and_keys_are_trimmed_values_lose_one_newline() -> None:
    c = parse_tool_call("  获取天气 \n<arg_key> 城市 </arg_key>\n<arg_value>\n\n北京\n\n</arg_value>", None)
    assert (c.name, c.arguments) == ("获取天气", {"城市": "\n北京\n"})


def test_a_repeated_key_keeps_its_place_and_the_last_value() -> None:
    c = parse_tool_call(
        "f<arg_key>p</arg_key><arg_value>1</arg_value><arg_key>o</arg_key><arg_value>m</arg_value>"
        "<arg_key>p</arg_key><arg_value>2</arg_value>",
        None,
    )
    assert list(c.arguments.items()) == [("p", "2"), ("o", "m")]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("get-weather\n<arg_key>city</arg_key>\n<arg_value>Paris", {"city": "Paris"}),
        (
            "get-weather\n<arg_key>city</arg_key>\n<arg_value>Paris<arg_key>unit</arg_key>\n<arg_value>celsius",
            {"city": "Paris", "unit": "celsius"},
        ),
        (
            "get-weather\n<arg_key>city</arg_key>\nNew York</arg_value>\n"
            "<arg_key>unit</arg_key>\ncelsius</arg_value>",
            {"city": "New York", "unit": "celsius"},
        ),
        ("get-weather city</arg_key><arg_value>Paris</arg_value>", {"city": "Paris"}),
    ],
)
def test_tags_the_model_dropped_are_repaired(raw: str, want: dict[str, str]) -> None:
    c = parse_tool_call(raw, None)
    assert (c.name, c.arguments) == ("get-weather", want)


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("func<arg_key>k</arg_key><arg_value>v", "func<arg_key>k</arg_key><arg_value>v</arg_value>"),
        ("just plain text", "just plain text"),
        ("func<arg_key>k</arg_key>v</arg_value>", "func<arg_key>k</arg_key><arg_value>v</arg_value>"),
        ("func<arg_key>k<arg_value>v</arg_value>", "func<arg_key>k</arg_key><arg_value>v</arg_value>"),
        ("func k</arg_key><arg_value>v</arg_value>", "func<arg_key>k</arg_key><arg_value>v</arg_value>"),
        ("func<arg_key>k<arg_value>v", "func<arg_key>k</arg_key><arg_value>v</arg_value>"),
        ("func k</arg_key>v</arg_value>", "func<arg_key>k</arg_key><arg_value>v</arg_value>"),
        (
            "func<arg_key>a</arg_key>1</arg_value><arg_key>b<arg_value>2</arg_value>",
            "func<arg_key>a</arg_key><arg_value>1</arg_value><arg_key>b</arg_key><arg_value>2</arg_value>",
        ),
        (
            "func\n<arg_key>c</arg_key>\nNY</arg_value>",
            "func\n<arg_key>c</arg_key><arg_value>\nNY</arg_value>",
        ),
        ("f<arg_key>k", "f<arg_key>k</arg_key><arg_value></arg_value>"),
    ],
)
def test_repair_xml(broken: str, fixed: str) -> None:
    assert repair_xml(broken) == fixed


def test_malformed_calls_end_the_stream_with_an_error() -> None:
    with pytest.raises(
        ParserError, match="failed to parse XML: XML syntax error on line 1: illegal character"
    ):
        run("glm-4.7", "x</think><tool_call>f<arg_key>a</arg_key><arg_value>\x01</arg_value></tool_call>")
    with pytest.raises(ParserError, match="mismatched arg_key and arg_value counts: 2 keys, 1 values"):
        run(
            "glm-4.7",
            "x</think><tool_call>f<arg_key>a</arg_key><arg_key>b</arg_key><arg_value>1</arg_value></tool_call>",
        )
    with pytest.raises(ParserError, match="empty function name"):
        run("glm-4.7", "x</think><tool_call> \n </tool_call>")


@pytest.mark.parametrize(
    "pieces",
    [
        [
            "<tool_call>grep\n<arg_key>pattern</arg_key>\n<arg_value>needle</arg_value>\n"
            "<arg_key>path</arg_key>\n<arg_value>.</arg_value>"
        ],
        [
            "<tool_call>grep<arg_key>pattern</arg_key><arg_value>needle</arg_value>"
            "<arg_key>path</arg_key><arg_value>.</arg_value>\n</tool_"
        ],
    ],
)
def test_a_complete_call_cut_off_at_the_end_is_accepted(pieces: list[str]) -> None:
    for final in ("", None):
        out = run("glm-4.7", pieces, tools=[GREP, WRITE], think=False, final=final)
        assert out == ("", "", [call("grep", {"pattern": "needle", "path": "."})])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<tool_call>", "empty function name"),
        ("<tool_call>gr", 'tool "gr" is not declared'),
        (
            "<tool_call>write<arg_key>path</arg_key><arg_value>o.txt</arg_value><arg_key>content</arg_key><arg_value>part",
            "closed by </tool_call>",
        ),
        (
            "<tool_call>shell<arg_key>command</arg_key><arg_value>rm</arg_value>",
            'tool "shell" is not declared',
        ),
        (
            "<tool_call>write<arg_key>path</arg_key><arg_value>o.txt</arg_value>",
            'required argument "content" is missing',
        ),
        ("<tool_call>write<arg_key> </arg_key><arg_value>o.txt</arg_value>", "empty argument name"),
    ],
)
def test_an_incomplete_call_at_the_end_is_an_error(text: str, why: str) -> None:
    with pytest.raises(ParserError, match="incomplete GLM tool call: .*" + why.replace('"', '"')):
        run("glm-4.7", text, tools=[GREP, WRITE], think=False, final=None)


def test_values_are_typed_by_the_schema() -> None:
    tools = [
        tool(
            "t",
            {
                "i": {"type": "integer"},
                "n": {"type": "number"},
                "w": {"type": "number"},
                "b": {"type": "boolean"},
                "a": {"type": "array"},
                "o": {"type": "object"},
                "u": {"anyOf": [{"type": "array"}, {"type": "string"}]},
                "s": {"type": ["integer", "string"]},
            },
        )
    ]
    raw = "t" + "".join(
        f"<arg_key>{k}</arg_key><arg_value>{v}</arg_value>"
        for k, v in [
            ("i", "42"), ("n", "3.14"), ("w", "7.0"), ("b", "TRUE"), ("a", '[1, "x", true, null]'),
            ("o", '{"z": 1, "a": {"y": 2, "b": 3}}'), ("u", "not a list"), ("s", "12x"), ("extra", "NULL"),
        ]
    )  # fmt: skip
    c = parse_tool_call(raw, tools)
    assert c.arguments == {
        "i": 42, "n": 3.14, "w": 7, "b": True, "a": [1, "x", True, None],
        "o": {"a": {"b": 3, "y": 2}, "z": 1}, "u": "not a list", "s": "12x", "extra": None,
    }  # fmt: skip
    assert list(c.arguments["o"]) == ["a", "z"]  # a Go map marshals in key order
    assert isinstance(c.arguments["w"], int)


@pytest.mark.parametrize(
    ("raw", "types", "want"),
    [
        ("yes", ["boolean"], False),  # boolean alone: anything else is false
        ("yes", ["boolean", "string"], "yes"),
        ("1_000", ["integer"], "1_000"),  # ParseInt takes no underscores
        ("+7", ["integer"], 7),
        ("1_000", ["number"], 1000),  # ParseFloat does
        ("0x1p-2", ["number"], 0.25),
        ("1e400", ["number"], "1e400"),
        ("[1,", ["array"], "[1,"),
        ("[1]", ["object"], "[1]"),
        (" null", ["array"], None),
        ("\nabc\n", [], "abc"),
        ("\n\nabc", [], "\nabc"),
    ],
)
def test_parse_value(raw: str, types: list[str], want: object) -> None:
    assert parse_value(raw, types) == want


def test_surface() -> None:
    p = GLM47Parser()
    assert p.has_tool_support and p.has_thinking_support
    assert p.preserved_tokens() == [
        "<think>", "</think>", "<tool_call>", "</tool_call>",
        "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>",
    ]  # fmt: skip
    tools = [CALC]
    assert p.init(tools, None, None) is tools
    assert feed(p, ["x"]).thinking == "x"
