"""pyollama.parsers.tools: Ollama's tools/tools.go parser for a template's tool-call tag."""

from __future__ import annotations

from typing import Any

import pytest

from pyollama.parsers.tools import ToolCallParser, find_arguments, find_tool
from pyollama.runner.types import ToolCall
from tests.parsers.streaming import splits, tool

TOOLS = [
    tool("get_temperature", city={"type": "string"}, format={"type": "string"}),
    tool("get_conditions", location={"type": "string"}),
    tool("say_hello"),
    tool("say_hello_world"),
    tool("get_address", location={"type": "string"}),
    tool("add", a={"type": "string"}, b={"type": "string"}),
]

QWEN = "<tool_call>"
MISTRAL = "[TOOL_CALLS]"
DEEPSEEK = "<|tool▁calls▁begin|>"


def parse(
    tag: str, pieces: list[str], tools: list[dict[str, Any]] = TOOLS
) -> tuple[str, list[ToolCall], str]:
    """(content, calls, content() at the end) of feeding `pieces`."""
    p = ToolCallParser(tag, tools)
    content: list[str] = []
    calls: list[ToolCall] = []
    for piece in pieces:
        c, text = p.add(piece)
        calls.extend(c)
        content.append(text)
    return "".join(content), calls, p.content()


def call(index: int, name: str, **args: Any) -> tuple[int, str, dict[str, Any]]:
    return index, name, args


def simple(calls: list[ToolCall]) -> list[tuple[int, str, dict[str, Any]]]:
    return [(c.index, c.name, c.arguments) for c in calls]


WEATHER_TOKYO = call(0, "get_temperature", city="Tokyo")

CASES: list[tuple[str, str, list[str], str, list[tuple[int, str, dict[str, Any]]]]] = [
    ("just text", QWEN, ["Hello, how can I help you today?"], "Hello, how can I help you today?", []),
    ("empty", QWEN, [""], "", []),
    (
        "a call",
        QWEN,
        ['<tool_call>{"name": "get_conditions", "arguments": {"location": "San Francisco"}}</tool_call>'],
        "",
        [call(0, "get_conditions", location="San Francisco")],
    ),
    (
        "empty arguments",
        QWEN,
        ['<tool_call>{"name": "get_conditions", "arguments": {}}</tool_call>'],
        "",
        [call(0, "get_conditions")],
    ),
    (
        "text before a call",
        QWEN,
        ['Let me check. <tool_call>{"name": "get_temperature", "arguments": {"city": "Paris"}}</tool_call>'],
        "Let me check. ",
        [call(0, "get_temperature", city="Paris")],
    ),
    # a tool's name in plain text is not a call: there is no tag
    ("a name in text", QWEN, ["I'll use the say_hello tool. "], "I'll use the say_hello tool. ", []),
    (
        "two calls in a list after a tag",
        MISTRAL,
        [
            '[TOOL_CALLS] [{"name": "get_temperature", "arguments": {"city": "London", "format": "c"}}, '
            '{"name": "get_conditions", "arguments": {"location": "Tokyo"}}][/TOOL_CALLS]'
        ],
        "",
        [
            call(0, "get_temperature", city="London", format="c"),
            call(1, "get_conditions", location="Tokyo"),
        ],
    ),
    (
        "two tagged calls, one without arguments",
        QWEN,
        [
            'Both! <tool_call>{"name": "say_hello", "arguments": {}}</tool_call>'
            '<tool_call>{"name": "get_temperature", "arguments": {"city": "Oslo"}}</tool_call>'
        ],
        "Both! ",
        [call(0, "say_hello"), call(1, "get_temperature", city="Oslo")],
    ),
    (
        "a tag split across pieces, a call in small pieces",
        DEEPSEEK,
        [
            "<think>Wait</think><|too",
            "l▁calls▁begin",
            "|>function<|tool▁sep|>get_temperature\n```json\n",
            '{"city": "Tokyo"}\n',
            "```<|tool▁calls▁end|>",
        ],
        "<think>Wait</think>",
        [WEATHER_TOKYO],
    ),
    (
        "{ tag",
        "{",
        ["{", '"name": "get_temperature",', '"arguments": {', '"city": "Tokyo"', "}", "}"],
        "",
        [WEATHER_TOKYO],
    ),
    # an unfinished call: nothing comes out (and content() says nothing either: a call began)
    ("{ tag, unfinished", "{", ["{", '"name": "get_temperature",', '"arguments": {'], "", []),
    (
        "{ tag, an unknown tool: the text is content once the braces close",
        "{",
        ["{", '"name": "search", ', '"arguments": {', '"query": "capital of Canada?"', "}", "}"],
        '{"name": "search", "arguments": {"query": "capital of Canada?"}}',
        [],
    ),
    (
        "{ tag, a first object that is not a call ends the parsing",
        "{",
        ['{"name": "jeff"}', '{"name": "get_conditions", "arguments": {"location": "SF"}}'],
        '{"name": "jeff"}{"name": "get_conditions", "arguments": {"location": "SF"}}',
        [],
    ),
    ("{ tag, code", "{", ['for { fmt.Println("hello") }'], 'for { fmt.Println("hello") }', []),
    (
        "[ tag, two calls",
        "[",
        [
            "[",
            '{"name": "get_temperature", "arguments": {"city": "London"}},',
            '{"name": "get_conditions", "arguments": {"location": "Tokyo"}}]',
        ],
        "",
        [call(0, "get_temperature", city="London"), call(1, "get_conditions", location="Tokyo")],
    ),
    ("[ tag, not a call", "[", ["[special", " del", "ivery]"], "[special delivery]", []),
    (
        "[ tag, extra brackets after the calls are dropped",
        "[",
        ["[", '{"name": "get_conditions", "arguments": {"location": "Tokyo"}}', "]", "]"],
        "",
        [call(0, "get_conditions", location="Tokyo")],
    ),
    (
        "a longer name waits for the rest of the text",
        QWEN,
        ["<tool_call>", "{", '"name": "say_hello', '_world",', '"arguments": {}}', "</tool_call>"],
        "",
        [call(0, "say_hello_world")],
    ),
    (
        "names that are prefixes of each other, both orders",
        QWEN,
        [
            '<tool_call>{"name": "say_hello", "arguments": {}}</tool_call>'
            '<tool_call>{"name": "say_hello_world", "arguments": {}}'
        ],
        "",
        [call(0, "say_hello"), call(1, "say_hello_world")],
    ),
    ("a partial name at the end: no call yet", QWEN, ['<tool_call>{"name": "say_hello'], "", []),
    (
        "arguments before the name",
        QWEN,
        ['<tool_call>{"arguments": {"a": "5", "b": "10"}, "name": "add"}</tool_call>'],
        "",
        [call(0, "add", a="5", b="10")],
    ),
    (
        "arguments given as a JSON string, and as parameters",
        QWEN,
        [
            '<tool_call>{"name": "get_temperature", "arguments": "{\\"city\\": \\"Rome\\"}"}</tool_call>'
            '<tool_call>{"name": "get_conditions", "parameters": {"location": "Lima"}}</tool_call>'
        ],
        "",
        [call(0, "get_temperature", city="Rome"), call(1, "get_conditions", location="Lima")],
    ),
    (
        "keyed by the tool's name, and nested",
        "[TOOL]",
        [
            '[TOOL] {"get_temperature": {"city": "Nice"}}',
            ' {"function": {"name": "get_conditions", "arguments": {"location": "Bonn"}}}',
        ],
        "",
        [call(0, "get_temperature", city="Nice"), call(1, "get_conditions", location="Bonn")],
    ),
    (
        "braces inside strings do not count",
        QWEN,
        ['<tool_call>{"name": "add", "arguments": {"a": "if (x) { y } }", "b": "\\"}"}}</tool_call>'],
        "",
        [call(0, "add", a="if (x) { y } }", b='"}')],
    ),
]


@pytest.mark.parametrize(
    ("tag", "pieces", "content", "calls"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_parser(tag: str, pieces: list[str], content: str, calls: list[Any]) -> None:
    got_content, got_calls, _ = parse(tag, pieces)
    assert got_content == content
    assert simple(got_calls) == calls


@pytest.mark.parametrize(
    ("tag", "text"),
    [
        (QWEN, 'Sure. <tool_call>{"name": "get_temperature", "arguments": {"city": "Oslo"}}</tool_call>'),
        (
            QWEN,
            '<tool_call>{"name": "say_hello", "arguments": {}}</tool_call><tool_call>{"name": "add", '
            '"arguments": {"a": "1", "b": "2"}}</tool_call>',
        ),
        (
            "[",
            '[{"name": "get_address", "arguments": {"location": "x"}}, {"name": "say_hello", "arguments": {}}'
            "]",
        ),
        ("{", '  {"name": "get_conditions", "arguments": {"location": "Tokyo"}}'),
        ("{", "Just text {with braces}"),
    ],
)
def test_same_result_in_every_split(tag: str, text: str) -> None:
    # (content() is left out: what it repeats depends on the split, see below)
    whole = parse(tag, [text])
    for pieces in splits(text, (tag, "</tool_call>", "get_", "say_hello")):
        got = parse(tag, pieces)
        assert (got[0], simple(got[1])) == (whole[0], simple(whole[1])), pieces


def test_argument_order_is_the_models_and_nested_objects_are_sorted() -> None:
    text = (
        '<tool_call>{"name": "add", "arguments": {"b": {"z": 1.0, "a": [1e2, {"y": 0, "x": 0.5}]}, "a": 3}}'
    )
    _, calls, _ = parse(QWEN, [text])
    args = calls[0].arguments
    assert list(args) == ["b", "a"]
    assert list(args["b"]) == ["a", "z"]  # as Go marshals a map[string]any
    assert args == {"b": {"a": [100, {"x": 0.5, "y": 0}], "z": 1}, "a": 3}  # float64s print like Go's
    assert isinstance(args["b"]["z"], int)


def test_indices_count_across_pieces() -> None:
    p = ToolCallParser(QWEN, TOOLS)
    first, _ = p.add('<tool_call>{"name": "say_hello", "arguments": {}}</tool_call><tool_call>')
    second, _ = p.add('{"name": "say_hello_world", "arguments": {}}</tool_call>')
    assert [(c.index, c.name) for c in first + second] == [(0, "say_hello"), (1, "say_hello_world")]


def test_after_the_tag_text_is_never_content() -> None:
    content, calls, end = parse(
        QWEN, ['a <tool_call>{"name": "say_hello", "arguments": {}}</tool_call> after']
    )
    assert (content, simple(calls), end) == ("a ", [call(0, "say_hello")], "")


def test_brace_tag_content_at_the_end() -> None:
    # no call found: the held-back text is the answer
    assert parse("{", ['{"hello": "world"'])[2] == '{"hello": "world"'
    # a call found: nothing more
    assert parse("{", ['{"name": "say_hello", "arguments": {}}'])[2] == ""
    # other tags never give text back
    assert parse(QWEN, ["<tool_call>{half"])[2] == ""


def test_brace_tag_text_first_repeats_at_the_end() -> None:
    # Ollama keeps its buffer when text comes first, so content() returns the text from the tag on
    # again; its chat handler sends that when the stream's last piece is empty
    p = ToolCallParser("{", TOOLS)
    assert p.add("Hello {") == ([], "Hello {")
    assert p.add(" more") == ([], " more")
    assert p.content() == "{"


def test_a_call_without_arguments_is_not_a_call() -> None:
    # Go's TODO: `{"name": "f"}` without an arguments object is not parsed
    assert parse(QWEN, ['<tool_call>{"name": "say_hello"}</tool_call>'])[1] == []


def test_find_tool() -> None:
    names = [tool("get"), tool("get_weather"), tool("other")]
    assert find_tool(names, "") == (None, 0)
    assert find_tool(names, 'x "get_weather" y')[0] == names[1]  # longest at the same place
    assert find_tool(names, 'x "get_weather" y')[1] == len('x "get_weather')
    assert find_tool(names, '"other", "get"')[0] == names[2]  # earliest wins
    assert find_tool(names, '"get", "ge') == (None, 0)  # might become a longer name


@pytest.mark.parametrize(
    ("buffer", "want", "tool_name"),
    [
        ("", None, ""),
        ("   \n\t  ", None, ""),
        ('{"format": "c", "location": "SF"', None, ""),
        ('{"format": "c"}}', {"format": "c"}, ""),
        ("{format: c}", None, ""),
        ('[tool]get_temperature[args]{"format": "c"}[end]', {"format": "c"}, ""),
        ('[{"name": "get_temperature", "arguments": {"format": "c"}}', {"format": "c"}, ""),
        ('get_temperature({"location": "SF"})', {"location": "SF"}, ""),
        ('"arguments": {"location": "Tokyo"}}</tool_call>', {"location": "Tokyo"}, ""),
        (
            '{"name": "x", "arguments": {"payload": "{\\"k\\": {\\"v\\": 1}}"}}',
            {"payload": '{"k": {"v": 1}}'},
            "",
        ),
        (
            '{"name": "x", "arguments": {"dir": "C:\\\\Program Files\\\\{App}\\\\"}}',
            {"dir": "C:\\Program Files\\{App}\\"},
            "",
        ),
        ('{"name": "x", "arguments": {"text": "\\u007B and \\u007D"}}', {"text": "{ and }"}, ""),
        ('{"name": "batch", "arguments": ["a", "b"]}', None, ""),
        ('{"name": "x", "arguments": {"a": "", "b": "{v}"}}', {"a": "", "b": "{v}"}, ""),
        (
            '{"name": "x", "arguments": {"items": ["{", "}", {"k": "v"}]}}',
            {"items": ["{", "}", {"k": "v"}]},
            "",
        ),
        ('{"get_temperature": "{\\"format\\": \\"c\\"}"}', {"format": "c"}, "get_temperature"),
        ('{"name": "x", "arguments": "null"}', None, ""),
        ('{"name": "x", "arguments": {"n": 1e400}} {"name": "y", "arguments": {"n": 1}}', {"n": 1}, ""),
    ],
)
def test_find_arguments(buffer: str, want: dict[str, Any] | None, tool_name: str) -> None:
    args, _ = find_arguments(tool(tool_name), buffer)
    assert args == want
