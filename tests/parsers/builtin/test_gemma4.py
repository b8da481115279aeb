from __future__ import annotations

from typing import Any

import pytest

from pyollama.parsers.builtin import _gemma4_args as g
from pyollama.parsers.builtin.gemma4 import Gemma4Parser
from tests.parsers.builtin.feeding import call, make, run, splits, tool

Q = '<|"|>'


def q(s: str) -> str:
    return Q + s + Q


def tc(body: str) -> str:
    return "<|tool_call>" + body + "<tool_call|>"


def string_tool(name: str, *args: str) -> dict[str, Any]:
    return tool(name, {a: {"type": "string"} for a in args})


@pytest.mark.parametrize(
    ("text", "content", "thinking"),
    [
        ("This is a simple response.", "This is a simple response.", ""),
        (
            "<|channel>thought\nLet me think...<channel|>The answer is 42.",
            "The answer is 42.",
            "Let me think...",
        ),
        (
            "<|channel>first thought<channel|><|channel>second<channel|>Final.",
            "Final.",
            "first thoughtsecond",
        ),
        ("<|channel>just thinking<channel|>", "", "just thinking"),
        ("<|channel>thought\n  \n x \n<channel|>\n\n y", "y", "  \n x"),  # only the end is trimmed
        ("Intro  \n<|channel>thought\nhmm<channel|>out", "Introout", "hmm"),
        ("<|channel>thoughts\nkeep the name<channel|>", "", "thoughts\nkeep the name"),
    ],
)
def test_outputs_with_thinking(text: str, content: str, thinking: str) -> None:
    assert run("gemma4", text, think=True)[:2] == (content, thinking)


@pytest.mark.parametrize(
    ("name", "think"), [("gemma4", False), ("gemma4", None), ("gemma4-no-thinking", True)]
)
def test_without_thinking_the_channel_is_dropped(name: str, think: bool | None) -> None:
    assert run(name, "<|channel>this is not thinking<channel|>actual content", think=think)[:2] == (
        "actual content",
        "",
    )


def test_after_a_tool_result_the_output_starts_inside_the_reasoning() -> None:
    last = {"role": "tool", "content": "go.mod\ngo.sum\n"}
    out = run("gemma4", "The user asked for files.<channel|>go.mod and go.sum", last=last, think=True)
    assert out == ("go.mod and go.sum", "The user asked for files.", [])
    # the renderer wrote the channel name, so a "thought\n" here is reasoning text
    assert run("gemma4", "thought\nx<channel|>y", last=last, think=True)[:2] == ("y", "thought\nx")
    # without thinking it is content
    assert run("gemma4", "x<channel|>y", last=last, think=False).content == "x<channel|>y"


def test_a_prefill_with_content_stays_in_content() -> None:
    last = {"role": "assistant", "content": "Previous content"}
    assert run("gemma4", "Continuing.", last=last, think=True)[:2] == ("Continuing.", "")


SAMPLE = (
    "<|channel>thought\nI need the weather  \n<channel|>Let me check."
    + tc("call:get_weather{location:" + q("Paris") + ",units:" + q("metric") + "}")
    + " <tool_call|>\n<|tool_response>"
    + tc("call:get_weather{location:" + q("London, UK") + ",days:3,opts:{z:true,a:null}}")
    + "Done <|chan"
)


def test_streaming_in_any_split_gives_the_same_result() -> None:
    whole = run("gemma4", SAMPLE, think=True)
    assert whole == (
        "Let me check.Done <|chan",
        "I need the weather",
        [
            call("get_weather", {"location": "Paris", "units": "metric"}, 0),
            call("get_weather", {"location": "London, UK", "days": 3, "opts": {"a": None, "z": True}}, 1),
        ],
    )
    for pieces in splits(SAMPLE):
        assert run("gemma4", pieces, think=True) == whole, pieces


def test_whitespace_after_the_channel_goes_only_in_the_tags_piece() -> None:
    assert run("gemma4", "<|channel>x<channel|>\n y", think=True).content == "y"
    assert run("gemma4", ["<|channel>x<channel|>", "\n y"], think=True).content == "\n y"
    # content holds nothing back but a partial tag, so whitespace before a tag goes only in its piece
    assert run("gemma4", "a  " + tc("call:f{}")).content == "a"
    assert run("gemma4", ["a  ", tc("call:f{}")]).content == "a  "


def test_pieces_release_what_is_decided() -> None:
    p = make("gemma4", think=True)
    assert p.add("<|channel>thought", False) == ("", "", [])
    assert p.add("\nLet me think  ", False).thinking == "Let me think"
    assert p.add("...<chan", False).thinking == "  ..."
    out = p.add("nel|>The answer <|tool", False)
    assert (out.content, out.thinking) == ("The answer", "")
    assert p.add("_call>call:f{}", False) == ("", "", [])
    out = p.add("<tool_call|>", False)
    assert [(c.name, c.index) for c in out.calls] == [("f", 0)]
    # the last piece releases everything, partial tags included
    assert p.add(" is 42 <|chan", True).content == "is 42 <|chan"


def test_the_final_piece_releases_held_reasoning() -> None:
    assert run("gemma4", ["<|channel>thought\nunfinished   "], think=True).thinking == "unfinished   "
    assert (
        run("gemma4", ["<|channel>thought\nunfinished   "], think=True, final=None).thinking
        == "unfinished   "
    )
    assert run("gemma4", ["<|channel>thou"], think=True, final=None).thinking == "thou"


def test_an_unclosed_call_is_taken_at_the_end() -> None:
    text = "<|tool_call>call:search{query:" + q('say "hello" and "bye"') + "}"
    assert run("gemma4", text).calls == [call("search", {"query": 'say "hello" and "bye"'})]
    assert run("gemma4", [text], final=None).calls == [call("search", {"query": 'say "hello" and "bye"'})]


@pytest.mark.parametrize(
    ("pieces", "content"),
    [
        ([tc("call:f{}") + "<tool_call|>"], ""),
        ([tc("call:f{}") + "<tool_call|>Done."], "Done."),
        ([tc("call:f{}") + "<tool_", "call|>Done."], "Done."),
        ([tc("call:f{}") + "<|tool_response>"], ""),
        ([tc("call:f{}") + "<|tool_res", "ponse>Done."], "Done."),
        ([tc("call:f{}") + "\n <tool_call|> <|tool_response>\n<tool_call|>Done."], "Done."),
        ([tc("call:f{}") + "<tool_"], ""),  # a marker's start at the very end is dropped
        ([tc("call:f{}") + "<tool_call>x"], "<tool_call>x"),
    ],
)
def test_markers_right_after_a_call_are_noise(pieces: list[str], content: str) -> None:
    assert run("gemma4-no-thinking", pieces) == (content, "", [call("f", {})])


def test_calls_that_do_not_parse_are_dropped() -> None:
    out = run("gemma4", "a" + tc("get_weather{}") + tc("call:noargs") + tc("call:f{x:}") + "b")
    assert out == ("ab", "", [])


def test_indices_count_across_calls_and_pieces() -> None:
    p = make("gemma4")
    first = p.add(tc("call:a{}") + tc("call:b{}"), False).calls
    second = p.add(tc("call:c{}"), True).calls
    assert [(c.name, c.index) for c in first + second] == [("a", 0), ("b", 1), ("c", 2)]


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("call:set_temp{value:42}", {"value": 42}),
        ("call:toggle{enabled:true,ratio:0.5,neg:-1e2}", {"enabled": True, "ratio": 0.5, "neg": -100}),
        ("call:f{value:null,nested:{value:null}}", {"value": None, "nested": {"value": None}}),
        (
            "call:f{items:[" + q("a") + "," + q('b "quoted"') + "," + q("c") + "]}",
            {"items": ["a", 'b "quoted"', "c"]},
        ),
        ("call:bash{command:" + q("date\n") + "}", {"command": "date\n"}),
        ("call:s{query:" + q('say \\"hello\\"') + "}", {"query": 'say \\"hello\\"'}),
        ("call:o{path:" + q("C:\\users\\bob\\file.txt") + "}", {"path": "C:\\users\\bob\\file.txt"}),
        (
            'call:s{query:"raw \\"quoted\\"",note:' + q('gemma "quoted"') + "}",
            {"query": 'raw "quoted"', "note": 'gemma "quoted"'},
        ),
        (
            "call:foo{n:" + q("1") + ",b:" + q("true") + ",z:" + q("null") + "}",
            {"n": "1", "b": "true", "z": "null"},
        ),
        ('call:foo{q:"a,b:c"}', {"q": "a,b:c"}),
        (" call:x{}", None),
        ("call:  spaced name {a:1}", {"a": 1}),
        (
            "call:plan{steps:[{title:"
            + q('step "one"')
            + ",done:false},{ title:"
            + q("two")
            + ", done:true} ]}",
            {"steps": [{"done": False, "title": 'step "one"'}, {"done": True, "title": "two"}]},
        ),
        (
            "call:f{zeta:1,alpha:{zeta:1,alpha:2},mid:3}",
            {"zeta": 1, "alpha": {"alpha": 2, "zeta": 1}, "mid": 3},
        ),
        ("call:f{名前:" + q("値") + "}", {"名前": "値"}),
    ],
)
def test_argument_syntax(body: str, want: dict[str, Any] | None) -> None:
    if want is None:
        with pytest.raises(ValueError):
            g.parse_tool_call(body, None)
        return
    c = g.parse_tool_call(body, None)
    assert c.arguments == want
    # the model's order at the top, Go's sorted maps below
    assert list(c.arguments) == list(want)
    for k, v in c.arguments.items():
        if isinstance(v, dict):
            assert list(v) == sorted(v), k


def test_strings_hide_behind_placeholders_as_in_ollama() -> None:
    # Go puts string i behind "\x00" + chr(i) + "\x00"; those run through quotes and braces and
    # still come back ...
    body = "call:f{items:[" + ",".join(q(f"s{i}") for i in range(45)) + "],last:" + q("x") + "}"
    assert g.parse_tool_call(body, None).arguments == {"items": [f"s{i}" for i in range(45)], "last": "x"}
    # ... until chr(44) is a comma: "\x00,\x00" then also matches across two later placeholders,
    # so a call with more comma-separated strings fails in Ollama too.
    body = "call:f{items:[" + ",".join(q(f"s{i}") for i in range(47)) + "]}"
    with pytest.raises(ValueError):
        g.parse_tool_call(body, None)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{location:" + q("Paris") + "}", '{"location":"Paris"}'),
        (
            "{edits:[{ newText:" + q("a") + ", oldText:" + q("b") + "} ]}",
            '{"edits":[{ "newText":"a", "oldText":"b"} ]}',
        ),
        (
            "{edits:[\n  {newText:" + q("a") + ",\n   oldText:" + q("b") + "}\n]}",
            '{"edits":[\n  {"newText":"a",\n   "oldText":"b"}\n]}',
        ),
        (
            "{query:" + q('first \\"quoted\\" then "raw"') + "}",
            '{"query":"first \\\\\\"quoted\\\\\\" then \\"raw\\""}',
        ),
        ("{query:" + q("a,b:{c}[d]") + "}", '{"query":"a,b:{c}[d]"}'),
        ("{s:" + q("snowman:\\u2603") + "}", '{"s":"snowman:\\\\u2603"}'),
        ('{q:"keep , oldText: literal",note:' + q("ok") + "}", '{"q":"keep , oldText: literal","note":"ok"}'),
        ("{}", "{}"),
        ("{a:1,:2, b :3}", '{"a":1,:2, b :3}'),
    ],
)
def test_args_to_json(text: str, want: str) -> None:
    assert g.args_to_json(text) == want


def test_a_raw_quoted_string_with_a_bad_escape_is_rejected() -> None:
    with pytest.raises(ValueError):
        g.parse_tool_call('call:open_file{path:"C:\\users\\bob\\file.txt"}', None)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{command:" + Q + "ls}", "{command:" + q("ls") + "}"),
        ("{path:" + q("/tmp") + ",command:" + Q + "ls}", "{path:" + q("/tmp") + ",command:" + q("ls") + "}"),
        ("{command:" + Q + "ls", "{command:" + q("ls")),
        ("{command:" + q("ls") + "}", "{command:" + q("ls") + "}"),
        ("{command:ls}", "{command:ls}"),
    ],
)
def test_repair_missing_string_delimiter(text: str, want: str) -> None:
    assert g.repair_missing_string_delimiter(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{content:" + q("hello"), "{content:" + q("hello") + "}"),
        ("{content:" + q("hello") + "  ", "{content:" + q("hello") + "}  "),
        ("{content:" + q("hello") + "}", "{content:" + q("hello") + "}"),
        ("content:" + q("hello"), "content:" + q("hello")),
    ],
)
def test_repair_missing_object_close(text: str, want: str) -> None:
    assert g.repair_missing_object_close(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{pattern:':\\s*\\w+'}", "{pattern:" + q(":\\s*\\w+") + "}"),
        (
            "{a:" + q("*.py") + ",p:'abc',b:" + q("/t") + "}",
            "{a:" + q("*.py") + ",p:" + q("abc") + ",b:" + q("/t") + "}",
        ),
        ("{pattern:'abc'" + Q + "}", "{pattern:" + q("abc") + "}"),
        ('{pattern:"abc"}', '{pattern:"abc"}'),
        ("{pattern:'abc}", "{pattern:'abc}"),
        ("{p:'it\\'s'}", "{p:" + q("it\\'s") + "}"),
    ],
)
def test_repair_single_quoted_values(text: str, want: str) -> None:
    assert g.repair_single_quoted_values(text) == want


def test_repair_raw_terminal_string_value() -> None:
    write = [string_tool("write", "content", "mode")]
    assert g.repair_raw_terminal_string_value("{content:\n\n# Title", "write", write) == "{content:" + q(
        "\n\n# Title"
    )
    assert (
        g.repair_raw_terminal_string_value("{content:hello,mode:" + q("fast") + "}", "write", write)
        == "{content:" + q("hello") + ",mode:" + q("fast") + "}"
    )
    assert g.repair_raw_terminal_string_value("{content:hello", "write", None) is None
    assert g.repair_raw_terminal_string_value("{content:hello", "missing", write) is None
    number = [tool("write", {"content": {"type": "number"}})]
    assert g.repair_raw_terminal_string_value("{content:hello", "write", number) is None
    for structured in ("{content:" + q("hello") + "}", "{content:123}", "{content:[1]}", "{content:true}"):
        assert g.repair_raw_terminal_string_value(structured, "write", write) is None
    any_of = [tool("write", {"content": {"anyOf": [{"type": "integer"}, {"type": "STRING"}]}})]
    assert g.repair_raw_terminal_string_value("{content:hi}", "write", any_of) == "{content:" + q("hi") + "}"


def test_repair_candidates() -> None:
    assert g.repair_candidates("{command:" + Q + "ls}", "bash", [string_tool("bash", "command")]) == [
        "{command:" + q("ls") + "}"
    ]
    assert g.repair_candidates("{content:hello", "write", [string_tool("write", "content")]) == [
        "{content:hello",
        "{content:" + q("hello") + "}",
    ]
    # no closing brace without another repair
    assert g.repair_candidates("{n:1", "count", [string_tool("count", "name")]) == ["{n:1"]


@pytest.mark.parametrize(
    ("body", "tools", "want"),
    [
        (
            "call:write{content:\n\n# Style Guide's rules\n\nUse `src/`.",
            [string_tool("write", "content")],
            {"content": "\n\n# Style Guide's rules\n\nUse `src/`."},
        ),
        (
            "call:grep{include:" + q("*.py") + ",path:" + q("/data") + ",pattern:':\\s*\\w+'" + Q + "}",
            [string_tool("grep", "include", "path", "pattern")],
            {"include": "*.py", "path": "/data", "pattern": ":\\s*\\w+"},
        ),
        ("call:bash{command:" + Q + "ls}", [string_tool("bash", "command")], {"command": "ls"}),
        (
            "call:bash{path:" + q("/tmp") + ",command:" + Q + "ls}",
            [string_tool("bash", "path", "command")],
            {"path": "/tmp", "command": "ls"},
        ),
        (
            "call:write{content:hello,mode:" + q("fast") + "}",
            [string_tool("write", "content", "mode")],
            {"content": "hello", "mode": "fast"},
        ),
    ],
)
def test_repaired_calls(body: str, tools: list[dict[str, Any]], want: dict[str, Any]) -> None:
    assert g.parse_tool_call(body, tools).arguments == want


def test_an_unclosed_string_before_another_value_is_not_repaired() -> None:
    with pytest.raises(ValueError):
        g.parse_tool_call(
            "call:example{first:" + Q + "one,second:" + q("two") + "}",
            [string_tool("example", "first", "second")],
        )


def test_surface() -> None:
    p = Gemma4Parser()
    assert p.has_tool_support and p.has_thinking_support
    assert not Gemma4Parser(thinking=False).has_thinking_support
    assert p.preserved_tokens() == [
        "<|channel>",
        "<channel|>",
        "<|tool_call>",
        "<tool_call|>",
        "<|tool_response>",
        Q,
    ]
    tools = [tool("f")]
    assert p.init(tools, None, True) is tools
