"""PARSER harmony (Ollama's harmony/harmonyparser.go): gpt-oss channels and tool calls."""

from __future__ import annotations

from typing import Any

import pytest

from pyollama.parsers import ParserError, parser_for_name
from pyollama.parsers.builtin.harmony import (
    ContentEmitted,
    FunctionNameMap,
    HarmonyMessageHandler,
    HarmonyParser,
    Header,
    HeaderComplete,
    MessageEnd,
    MessageStart,
    parse_header,
)
from tests.parsers.streaming import calls_as_dicts, run, splits

TAGS = ("<|start|>", "<|channel|>", "<|message|>", "<|end|>", "<|constrain|>")


@pytest.mark.parametrize(
    ("raw", "header"),
    [
        ("assistant<|channel|>analysis", Header("assistant", "analysis", "")),
        (
            "assistant<|channel|>analysis to=functions.get_weather",
            Header("assistant", "analysis", "functions.get_weather"),
        ),
        (
            "assistant to=functions.get_weather<|channel|>analysis",
            Header("assistant", "analysis", "functions.get_weather"),
        ),
        # the recipient in place of the role makes the role "tool"
        ("to=functions.get_weather<|channel|>analysis", Header("tool", "analysis", "functions.get_weather")),
        ("assistant to=functions.f abc<|channel|>analysis", Header("assistant", "analysis", "functions.f")),
        (
            "assistant<|channel|>commentary to=functions.f <|constrain|>json",
            Header("assistant", "commentary", "functions.f"),
        ),
        (
            "assistant to=functions.f<|channel|>commentary<|constrain|>json",
            Header("assistant", "commentary", "functions.f"),
        ),
        (
            "assistant<|channel|>commentary to=functions.f<|constrain|>json",
            Header("assistant", "commentary", "functions.f"),
        ),
        ("user", Header("user", "", "")),
        ("", Header("", "", "")),
    ],
)
def test_parse_header(raw: str, header: Header) -> None:
    assert parse_header(raw) == header


def test_message_events() -> None:
    p = HarmonyParser()
    events = p.add_content("<|start|>user<|message|>Hello<|end|><|start|>assistant<|message|><|end|>")
    assert events == [
        MessageStart(),
        HeaderComplete(Header("user")),
        ContentEmitted("Hello"),
        MessageEnd(),
        MessageStart(),
        HeaderComplete(Header("assistant")),
        MessageEnd(),
    ]
    # a partial end tag waits; what cannot be the tag is emitted
    p = HarmonyParser()
    p.add_implicit_start()
    assert p.add_content("<|channel|>final<|message|>4 <|en")[-1] == ContentEmitted("4 ")
    assert p.add_content("x") == [ContentEmitted("<|enx")]


GPT_OSS = (
    "<|channel|>analysis<|message|>User asks weather. Use get_weather.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
    '<|message|>{"location": "San Francisco, CA", "unit": {"b": 1.0, "a": 2}}'
)


def test_thinking_then_a_tool_call_in_every_split() -> None:
    tools: list[dict[str, Any]] = [
        {"type": "function", "function": {"name": "get-weather", "description": "d"}}
    ]
    for pieces in splits(GPT_OSS.replace("get_weather", "get_weather"), TAGS):
        p = parser_for_name("harmony")
        assert p is not None
        renamed = p.init(tools, None, True)
        assert renamed is not None and renamed[0]["function"] == {"name": "get_weather", "description": "d"}
        out = run_on(p, pieces)
        assert out[:2] == ("", "User asks weather. Use get_weather.")
        # the call comes at the end, under the caller's name
        assert out[2] == [
            {
                "name": "get-weather",
                "index": 0,
                "args": [("location", "San Francisco, CA"), ("unit", {"a": 2, "b": 1})],
            }
        ], pieces
    assert tools[0]["function"]["name"] == "get-weather"  # the caller's tools are not changed


def run_on(p: Any, pieces: list[str]) -> tuple[str, str, list[dict[str, Any]]]:
    content, thinking, calls = [], [], []
    for i, piece in enumerate(pieces):
        out = p.add(piece, i == len(pieces) - 1)
        content.append(out.content)
        thinking.append(out.thinking)
        calls += out.calls
        if i < len(pieces) - 1:
            assert out.calls == []
    return "".join(content), "".join(thinking), calls_as_dicts(calls)


@pytest.mark.parametrize(
    ("text", "content", "thinking"),
    [
        (
            "<|channel|>analysis<|message|>hmm<|end|><|start|>assistant<|channel|>final<|message|>4",
            "4",
            "hmm",
        ),
        ("<|channel|>commentary<|message|>Working on it<|end|>", "Working on it", ""),
        ("<|message|>no channel is content<|end|>", "no channel is content", ""),
        # text between messages is dropped, and so is a partial end tag left at the end
        (
            "<|channel|>final<|message|>a<|end|>stray<|start|>assistant<|channel|>final<|message|>b<|e",
            "ab",
            "",
        ),
    ],
)
def test_channels(text: str, content: str, thinking: str) -> None:
    for pieces in splits(text, TAGS):
        out = run("harmony", pieces, think=True)
        assert (out.content, out.thinking, out.calls) == (content, thinking, []), pieces


@pytest.mark.parametrize(
    ("last", "text", "content", "thinking"),
    [
        ({"role": "assistant", "content": "The answer is"}, " 4.<|end|>", " 4.", ""),
        ({"role": "assistant", "content": "", "thinking": "Let me"}, " see<|end|>", "", " see"),
        ({"role": "user", "content": "hi"}, "<|channel|>final<|message|>hello", "hello", ""),
    ],
)
def test_prefill_continues_the_channel(last: dict[str, Any], text: str, content: str, thinking: str) -> None:
    out = run("harmony", [text], last_message=last, think=True)
    assert (out.content, out.thinking) == (content, thinking)


def test_builtin_tool_names_and_unknown_recipients() -> None:
    text = '<|channel|>analysis to=browser.search<|message|>{"query": "x"}'
    out = run("harmony", [text], tools=[{"type": "function", "function": {"name": "browser.search"}}])
    assert calls_as_dicts(out.calls) == [{"name": "browser.search", "index": 0, "args": [("query", "x")]}]
    out = run("harmony", ["<|channel|>commentary to=functions.nope<|message|>{}"])
    assert calls_as_dicts(out.calls) == [{"name": "nope", "index": 0, "args": []}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"location": ', "error parsing tool call: raw='{\"location\": ', err=unexpected end of JSON input"),
        ("", "error parsing tool call: raw='', err=unexpected end of JSON input"),
        (
            "[1]",
            "error parsing tool call: raw='[1]', "
            "err=Value looks like object, but can't find closing '}' symbol",
        ),
    ],
)
def test_bad_arguments_end_the_stream(body: str, message: str) -> None:
    with pytest.raises(ParserError) as e:
        run("harmony", [f"<|channel|>commentary to=functions.f<|message|>{body}"])
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("get weather", "get_weather"),
        ("get-weather", "get_weather"),
        ("get.weather", "get_weather"),
        ("get weather!", "get_weather"),
        ("a🫠bc", "abc"),
        ("🫠", "unnamed"),
        ("123", "_123"),
        ("$", "$"),
        ("𝓸𝓵𝓵𝓪𝓶𝓪", "𝓸𝓵𝓵𝓪𝓶𝓪"),
        ("ⓞⓛⓛⓐⓜⓐ123", "_123"),  # circled letters are symbols, not letters
        ("٣x", "٣x"),  # Go checks the first byte for a digit: only ASCII digits get the underscore
    ],
)
def test_convert_to_valid_chars(name: str, want: str) -> None:
    assert FunctionNameMap.convert_to_valid_chars(name) == want


@pytest.mark.parametrize(
    ("names", "want"),
    [
        (["get weather", "get weather"], ["get_weather", "get_weather_2"]),
        (["get weather", "get_weather", "get-weather"], ["get_weather", "get_weather_2", "get_weather_3"]),
        (["a", "a", "b", "a", "a", "b", "a"], ["a", "a_2", "b", "a_3", "a_4", "b_2", "a_5"]),
        (
            ["browser.open", "python", "not.a.built-in", "browser.not_real"],
            ["browser.open", "python", "not_a_built_in", "browser_not_real"],
        ),
    ],
)
def test_convert_and_add(names: list[str], want: list[str]) -> None:
    m = FunctionNameMap()
    assert [m.convert_and_add(n) for n in names] == want
    assert m.original_from_converted(want[-1]) == names[-1]
    assert m.original_from_converted("never_seen") == "never_seen"


def test_init_renames_and_maps_back_duplicates() -> None:
    tools = [{"type": "function", "function": {"name": n}} for n in ("get weather", "get_weather", "")]
    p = HarmonyMessageHandler()
    renamed = p.init(tools, None, None)
    assert renamed is not None
    assert [t["function"]["name"] for t in renamed] == ["get_weather", "get_weather_2", ""]
    out = p.add('<|channel|>commentary to=functions.get_weather_2<|message|>{"a": 1}', True)
    assert [(c.name, c.arguments) for c in out.calls] == [("get_weather", {"a": 1})]
    assert HarmonyMessageHandler().init(None, None, None) is None


def test_interface() -> None:
    p = parser_for_name("harmony")
    assert p is not None
    assert (p.has_tool_support, p.has_thinking_support) == (True, True)
    tokens = p.preserved_tokens()
    assert set(tokens) == {"<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>"}
    # <|call|> (and <|return|>) end generation: llama.cpp must stop on them, not keep them
    assert "<|call|>" not in tokens and "<|return|>" not in tokens
