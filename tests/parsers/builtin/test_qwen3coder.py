"""PARSER qwen3-coder (Ollama's model/parsers/qwen3coder.go): XML-like calls, typed by the schema."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pyollama.parsers import ParserError, parser_for_name
from pyollama.parsers.builtin.qwen3coder import (
    Qwen3CoderParser,
    parse_tool_call,
    transform_to_xml,
)
from pyollama.parsers.common import parse_value
from tests.parsers.streaming import calls_as_dicts, run, splits, tool

TAGS = ("<tool_call>", "</tool_call>", "<function=", "</parameter>")

WEATHER = """<tool_call>
<function=get_weather>
<parameter=city>
Paris
</parameter>
<parameter=days>
3
</parameter>
</function>
</tool_call>"""

TOOLS = [tool("get_weather", city={"type": "string"}, days={"type": "integer"})]


def events(steps: list[str]) -> list[list[tuple[str, Any]]]:
    """What each piece releases: content text and ("call", name) for each call."""
    p = Qwen3CoderParser()
    p.init(TOOLS, None, None)
    out = []
    for piece in steps:
        r = p.add(piece, False)
        got: list[tuple[str, Any]] = [("content", r.content)] if r.content else []
        got += [("call", c.name) for c in r.calls]
        out.append(got)
    return out


CALL = "<function=get_weather></function>"


@pytest.mark.parametrize(
    ("steps", "want"),
    [
        (["hi", " there"], [[("content", "hi")], [("content", " there")]]),
        (
            [f"before1<tool_call>{CALL}</tool_call>after1<tool_call>{CALL}</tool_call>after2"],
            [[("content", "before1after1after2"), ("call", "get_weather"), ("call", "get_weather")]],
        ),
        (
            ["before<tool", f"_call>{CALL}</tool", "_call>af", "ter"],
            [[("content", "before")], [], [("content", "af"), ("call", "get_weather")], [("content", "ter")]],
        ),
        # whitespace around a call is dropped
        ([f"abc\n<tool_call>{CALL}</tool_call>\ndef"], [[("content", "abcdef"), ("call", "get_weather")]]),
        # a partial tag holds back the whitespace before it, then turns out to be text
        (["abc\n<tool_call", " fakeout"], [[("content", "abc")], [("content", "\n<tool_call fakeout")]]),
        (["a", "\n", "b"], [[("content", "a")], [], [("content", "\nb")]]),
        (["Hello\u00a0", "world"], [[("content", "Hello")], [("content", "\u00a0world")]]),
        (
            ["Hello\u3000<tool", "fakeout>abc"],
            [[("content", "Hello")], [("content", "\u3000<toolfakeout>abc")]],
        ),
        (["测试🎯 <to"], [[("content", "测试🎯")]]),
    ],
)
def test_streaming(steps: list[str], want: list[list[tuple[str, Any]]]) -> None:
    assert events(steps) == want


def test_calls_in_every_split_with_indices() -> None:
    text = "Checking.\n\n" + WEATHER + "\n" + WEATHER.replace("Paris", "Lyon") + "Done."
    for pieces in splits(text, TAGS):
        out = run("qwen3-coder", pieces, tools=TOOLS)
        assert out.content == "Checking.Done."
        assert calls_as_dicts(out.calls) == [
            {"name": "get_weather", "index": 0, "args": [("city", "Paris"), ("days", 3)]},
            {"name": "get_weather", "index": 1, "args": [("city", "Lyon"), ("days", 3)]},
        ], pieces


@pytest.mark.parametrize(
    ("raw", "name", "args"),
    [
        (
            "<function=get current temp>\n<parameter=loc ation>\nSF\n</parameter>\n</function>",
            "get current temp",
            {"loc ation": "SF"},
        ),
        # quotes stay part of the names (as the reference implementation does)
        ('<function="f">\n<parameter="p">\n"v"\n</parameter>\n</function>', '"f"', {'"p"': '"v"'}),
        (
            '<function=exec>\n<parameter=cmd>\nls && echo "a > b < c"\n</parameter>\n</function>',
            "exec",
            {"cmd": 'ls && echo "a > b < c"'},
        ),
        (
            "<function=获取天气>\n<parameter=城市>\n北京\n</parameter>\n</function>",
            "获取天气",
            {"城市": "北京"},
        ),
        # text outside parameters and elements nested in one are skipped; \r\n reads as \n
        (
            "junk<function=f>x<parameter=a>1<parameter=b>2</parameter>3\r\n</parameter></function>tail",
            "f",
            {"a": "13"},
        ),
        ('<function name="f"><parameter name="a&amp;b">v</parameter></function>', "f", {"a&b": "v"}),
        ("<function=f></function>", "f", {}),
        ("<function=f><parameter=a>1</parameter><parameter=a>2</parameter></function>", "f", {"a": "2"}),
    ],
)
def test_parse_tool_call(raw: str, name: str, args: dict[str, Any]) -> None:
    call = parse_tool_call(raw, [])
    assert (call.name, call.arguments) == (name, args)


def test_space_after_a_call_is_dropped_only_in_the_same_piece_as_in_ollama() -> None:
    assert run("qwen3-coder", [WEATHER + "\n\nDone."], tools=TOOLS).content == "Done."
    assert run("qwen3-coder", [WEATHER, "\n\nDone."], tools=TOOLS).content == "\n\nDone."


def test_parameters_are_typed_by_the_schema() -> None:
    tools = [
        tool(
            "calc",
            x={"type": "number"},
            y={"type": "integer"},
            on={"type": "boolean"},
            items={"type": "array"},
            opt={"anyOf": [{"type": "integer"}, {"type": "null"}]},
        )
    ]
    raw = "".join(
        f"<parameter={k}>\n{v}\n</parameter>\n"
        for k, v in [
            ("x", "3.14"),
            ("y", "42"),
            ("on", "True"),
            ("items", '["a", {"b": 1, "a": 2}]'),
            ("opt", "7"),
            ("free", "9"),
        ]
    )
    call = parse_tool_call(f"<function=calc>\n{raw}</function>", tools)
    assert call.arguments == {
        "x": 3.14,
        "y": 42,
        "on": True,
        "items": ["a", {"a": 2, "b": 1}],
        "opt": 7,
        "free": "9",
    }
    assert list(call.arguments["items"][1]) == ["a", "b"]
    # another tool's schema does not apply
    assert parse_tool_call("<function=other><parameter=y>42</parameter></function>", tools).arguments == {
        "y": "42"
    }


@pytest.mark.parametrize(
    ("raw", "types", "want"),
    [
        ("some-string", [], "some-string"),
        ("\nsome-string\n", [], "some-string"),
        ("\n\nsome-string\n\n", [], "\nsome-string\n"),
        (" \nx\n ", [], " \nx\n "),
        ("null", [], None),
        ("NULL", ["integer"], None),
        ("123", ["number"], 123),
        ("100.0", ["number"], 100),
        ("1.23e5", ["number"], 123000),
        ("1.5e-3", ["number"], 0.0015),
        ("1_000", ["number"], 1000),  # ParseFloat takes underscores between digits
        ("1_000", ["integer"], "1_000"),  # ParseInt with base 10 does not
        ("0x1p-2", ["number"], 0.25),
        ("1e400", ["number"], "1e400"),  # out of range: kept as text
        # Go's int64() of a whole float64 out of range (and of ±Inf) is the minimum int64 on amd64
        ("1e20", ["number"], -(2**63)),
        ("inf", ["number"], -(2**63)),
        ("007", ["integer"], 7),
        ("+5", ["integer"], 5),
        ("2147483648", ["integer"], 2147483648),
        ("9223372036854775808", ["integer"], "9223372036854775808"),
        ("3.14.159", ["number"], "3.14.159"),
        ("not-a-number", ["integer"], "not-a-number"),
        ("True", ["boolean"], True),
        ("FALSE", ["boolean"], False),
        ("yes", ["boolean"], False),  # a lone boolean type makes anything else false
        ("yes", ["boolean", "string"], "yes"),
        ("false", ["string", "boolean"], False),
        ("42", ["number", "integer"], 42),
        ("42.5", ["integer", "number"], 42.5),
        ("hello", ["string", "number"], "hello"),
        ("[1, 2.5, null]", ["array"], [1, 2.5, None]),
        ('{"z": 1, "a": {}}', ["object"], {"a": {}, "z": 1}),
        ("[1, 2, 3]", ["object", "array"], [1, 2, 3]),
        (" null", ["array"], None),  # JSON null leaves Go a nil slice
        ("[1, 2, unclosed", ["array"], "[1, 2, unclosed"),
        ('{"k": unclosed', ["object"], '{"k": unclosed'),
        ("x", ["integer", "integer"], "x"),
        ("x", ["null"], "x"),
    ],
)
def test_parse_value(raw: str, types: list[str], want: Any) -> None:
    got = parse_value(raw, types)
    assert got == want
    assert type(got) is type(want)


def test_nan_is_a_number() -> None:
    # Ollama would then fail to encode the reply, as json.Marshal refuses NaN
    assert math.isnan(parse_value("NaN", ["number"]))


def test_transform_to_xml() -> None:
    assert transform_to_xml('<function=a"b>\n<parameter=x>1 & 2 < 3</parameter>') == (
        '<function name="a&#34;b">\n<parameter name="x">1 &amp; 2 &lt; 3</parameter>'
    )
    # other `<tag=value>` forms are rewritten too, then escaped as text
    assert transform_to_xml("<x=1>") == '&lt;x name="1"&gt;'


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "<function=f>\n<parameter=a>\n1\n</function>",
            "XML syntax error on line 4: element <parameter> closed by </function>",
        ),
        ("<function=f>\n<parameter=a>\n1\n</parameter>\n", "XML syntax error on line 5: unexpected EOF"),
        ("", "EOF"),
        ("just text", "EOF"),
        ("<parameter=a>1</parameter>", "expected element type <function> but have <parameter>"),
        (
            "</parameter><function=f></function>",
            "XML syntax error on line 1: unexpected end element </parameter>",
        ),
        ("<function=f>\x01</function>", "XML syntax error on line 1: illegal character code U+0001"),
        (
            '<function name="a&b"></function>',
            "XML syntax error on line 1: invalid character entity &b (no semicolon)",
        ),
        ('<function name="&#0;"></function>', "XML syntax error on line 1: illegal character code U+0000"),
        ('<function name="a<b"></function>', "XML syntax error on line 1: unescaped < inside quoted string"),
        (
            '<function=f>\n</function name="x">',
            "XML syntax error on line 2: invalid characters between </function and >",
        ),
    ],
)
def test_malformed_calls_end_the_stream_with_gos_xml_error(raw: str, message: str) -> None:
    with pytest.raises(ParserError) as e:
        run("qwen3-coder", [f"ok<tool_call>{raw}</tool_call>"])
    assert str(e.value) == message


def test_errors_after_the_function_are_not_seen() -> None:
    assert parse_tool_call("<function=f></function>\x01</oops>", []).name == "f"


def test_interface_and_index_reset() -> None:
    p = parser_for_name("qwen3-coder")
    assert p is not None
    assert (p.has_tool_support, p.has_thinking_support) == (True, False)
    assert p.preserved_tokens() == ["<tool_call>", "</tool_call>"]
    assert p.init(TOOLS, None, True) is TOOLS
    assert [c.index for c in p.add(WEATHER + WEATHER, True).calls] == [0, 1]
    p.init(TOOLS, None, None)
    assert [c.index for c in p.add(WEATHER, True).calls] == [0]
