"""PARSER qwen3 / qwen3-thinking (Ollama's model/parsers/qwen3.go)."""

from __future__ import annotations

import pytest

from pyollama.parsers import ParserError, parser_for_name
from pyollama.parsers.builtin.qwen3 import Qwen3Parser, parse_tool_call
from tests.parsers.streaming import calls_as_dicts, feed, run, splits

TAGS = ("<think>", "</think>", "<tool_call>", "</tool_call>")
WEATHER = '<tool_call>{"name":"get_weather","arguments":{"location":"Paris","unit":"celsius"}}</tool_call>'


@pytest.mark.parametrize(
    ("name", "think", "text", "content", "thinking"),
    [
        ("qwen3-thinking", True, "Let me think...</think>Answer.", "Answer.", "Let me think..."),
        # some checkpoints repeat the prompt's <think>: one is dropped
        ("qwen3-thinking", True, "<think>Let me think...</think>Answer.", "Answer.", "Let me think..."),
        ("qwen3-thinking", True, "  plan  \n</think>\n\n  Answer", "Answer", "  plan"),
        ("qwen3-thinking", None, "thinking by default</think>ok", "ok", "thinking by default"),
        ("qwen3-thinking", "high", "a level turns it on</think>ok", "ok", "a level turns it on"),
        ("qwen3-thinking", False, "no thinking</think>ok", "no thinking</think>ok", ""),
        ("qwen3-thinking", "bogus", "not a level</think>ok", "not a level</think>ok", ""),
        ("qwen3", True, "no thinking support</think>ok", "no thinking support</think>ok", ""),
        ("qwen3", None, "Direct answer", "Direct answer", ""),
        # trailing whitespace is held back for a possible tag, and never released (done is ignored)
        ("qwen3", None, "Answer.  \n", "Answer.", ""),
        ("qwen3-thinking", True, "only thinking  ", "", "only thinking"),
    ],
)
def test_thinking_and_content(
    name: str, think: bool | str | None, text: str, content: str, thinking: str
) -> None:
    for pieces in splits(text, TAGS):
        out = run(name, pieces, think=think)
        assert (out.content, out.thinking, out.calls) == (content, thinking, []), pieces


def test_a_tool_call() -> None:
    for pieces in splits(WEATHER, TAGS):
        out = run("qwen3", pieces, think=False)
        assert (out.content, out.thinking) == ("", "")
        assert calls_as_dicts(out.calls) == [
            {"name": "get_weather", "index": 0, "args": [("location", "Paris"), ("unit", "celsius")]}
        ], pieces


def test_a_tool_call_ends_the_thinking() -> None:
    text = "Let me think <tool_call>\n" + WEATHER.removeprefix("<tool_call>") + "after"
    for pieces in splits(text, TAGS):
        out = run("qwen3-thinking", pieces, think=True)
        assert (out.content, out.thinking, [c.name for c in out.calls]) == (
            "after",
            "Let me think",
            ["get_weather"],
        )


def test_whitespace_after_a_tag_depends_on_the_pieces_as_in_ollama() -> None:
    # the space after a repeated <think> or after </tool_call> is trimmed only when it arrives in
    # the same piece as the tag (Ollama's qwen3.go, checked against it)
    assert run("qwen3-thinking", ["<think>\nhm</think>ok"], think=True).thinking == "hm"
    assert run("qwen3-thinking", ["<think>", "\n", "hm</think>ok"], think=True).thinking == "\nhm"
    assert run("qwen3", [WEATHER + "\n\nafter"], think=False).content == "after"
    assert run("qwen3", [WEATHER, "\n\n", "after"], think=False).content == "\n\nafter"


def test_thinking_then_content_then_calls_in_every_split() -> None:
    text = (
        "\nWeather and UV for Montréal.\n</think>\n\nI'll check both.\n\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Montréal"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "set_uv", "arguments": {"index": 5, "at": {"b": 1.0, "a": 2}}}\n</tool_call>'
    )
    for pieces in splits(text, TAGS):
        out = run("qwen3-thinking", pieces, think=True)
        assert out.thinking == "\nWeather and UV for Montréal."
        assert out.content == "I'll check both."
        assert calls_as_dicts(out.calls) == [
            {"name": "get_weather", "index": 0, "args": [("city", "Montréal")]},
            {"name": "set_uv", "index": 1, "args": [("index", 5), ("at", {"a": 2, "b": 1})]},
        ], pieces


def test_split_opening_tag_waits() -> None:
    p = parser_for_name("qwen3-thinking")
    assert p is not None
    p.init(None, None, True)
    assert p.add("<thi", False) == ("", "", [])
    assert p.add("nk>Let me think...</think>Answer.", True) == ("Answer.", "Let me think...", [])


def test_split_tool_tag_in_thinking() -> None:
    p = Qwen3Parser(thinking=True)
    p.init(None, None, True)
    assert p.add("Let me think<tool_ca", False) == ("", "Let me think", [])
    out = p.add('ll>{"name":"get_weather","arguments":{"location":"SF"}}</tool_call>', True)
    assert (out.content, out.thinking, [c.name for c in out.calls]) == ("", "", ["get_weather"])


def test_indices_across_pieces_and_reset_by_init() -> None:
    p = Qwen3Parser(thinking=False)
    p.init(None, None, False)
    one = p.add(
        '<tool_call>{"name":"a","arguments":{}}</tool_call><tool_call>{"name":"b","arguments":{', False
    )
    two = p.add('}}</tool_call><tool_call>{"name":"c","arguments":{"x":"3"}}</tool_call>', True)
    assert [(c.index, c.name) for c in one.calls + two.calls] == [(0, "a"), (1, "b"), (2, "c")]
    p.init(None, None, False)
    again = feed(p, ['<tool_call>{"name":"d","arguments":{}}</tool_call>'])
    assert [(c.index, c.name) for c in again.calls] == [(0, "d")]


def test_call_decoding_like_a_go_struct() -> None:
    # field names match ignoring case; other members are ignored; null leaves a field unset
    call = parse_tool_call('{"NAME": "f", "Arguments": {"b": 1, "a": 2}, "id": 7}')
    assert (call.name, list(call.arguments.items())) == ("f", [("b", 1), ("a", 2)])
    assert parse_tool_call('{"name": "f", "arguments": null}').arguments == {}
    assert parse_tool_call('{"name": "f"}').arguments == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "failed to parse JSON: invalid character 'o' in literal null (expecting 'u')"),
        ('{"name": "f", "arguments": {}', "failed to parse JSON: unexpected end of JSON input"),
        ('{"name": "f"} trailing', "failed to parse JSON: invalid character 't' after top-level value"),
        ('{"arguments": {}}', "empty function name"),
        ('{"name": null}', "empty function name"),
        ("null", "empty function name"),
        (
            '{"name": 5}',
            "failed to parse JSON: json: cannot unmarshal number into Go struct field .name of type string",
        ),
        (
            '{"name": "f", "arguments": [1]}',
            "failed to parse JSON: Value looks like object, but can't find closing '}' symbol",
        ),
        (
            '{"name": "f", "arguments": {"n": 1e400}}',
            "failed to parse JSON: json: cannot unmarshal number 1e400 "
            "into Go struct field .arguments of type "
            "float64",
        ),
        (
            "[1]",
            "failed to parse JSON: json: cannot unmarshal array into Go value of type struct { Name string "
            '"json:\\"name\\""; Arguments api.ToolCallFunctionArguments "json:\\"arguments\\"" }',
        ),
    ],
)
def test_malformed_calls_end_the_stream_with_gos_error(raw: str, message: str) -> None:
    with pytest.raises(ParserError) as e:
        run("qwen3", ["Sure.", f"<tool_call>{raw}</tool_call>"], think=False)
    assert str(e.value) == message


def test_an_error_drops_that_pieces_output() -> None:
    p = Qwen3Parser(thinking=False)
    p.init(None, None, False)
    assert p.add("Hi", False).content == "Hi"
    with pytest.raises(ParserError):
        p.add(' there<tool_call>{"name": ""}</tool_call>', True)


def test_interface() -> None:
    for name, thinking in (("qwen3", False), ("qwen3-thinking", True)):
        p = parser_for_name(name)
        assert p is not None
        assert (p.has_tool_support, p.has_thinking_support) == (True, thinking)
        assert p.preserved_tokens() == ["<think>", "</think>", "<tool_call>", "</tool_call>"]
        tools = [{"type": "function", "function": {"name": "f"}}]
        assert p.init(tools, None, None) is tools
