from __future__ import annotations

from typing import Any

import pytest

from pyollama.parsers.builtin.olmo3 import Olmo3Parser, parse_function_calls, split_arguments
from tests.parsers.builtin.feeding import call, make, run, splits


def test_content_passes_through() -> None:
    assert run("olmo3", "Hello, how can I help you?  ") == ("Hello, how can I help you?  ", "", [])
    assert run("olmo3", ["Hello, ", "how ", "can I help?"]).content == "Hello, how can I help?"


def test_calls_one_per_line_with_indices() -> None:
    text = (
        'Let me check.<function_calls>get_weather(location="San Francisco")\n\n'
        "  book_flight(from='SFO', to=\"NYC\", seats=2)\n</function_calls> Done."
    )
    out = run("olmo3", text)
    assert out.content == "Let me check. Done."
    assert out.calls == [
        call("get_weather", {"location": "San Francisco"}, 0),
        call("book_flight", {"from": "SFO", "to": "NYC", "seats": 2}, 1),
    ]


def test_streaming_in_any_split_gives_the_same_result() -> None:
    text = 'a <func<function_calls>f(x=1)\ng(q="a, b (c)")</function_calls>'
    whole = run("olmo3", text)
    assert whole == ("a <func", "", [call("f", {"x": 1}, 0), call("g", {"q": "a, b (c)"}, 1)])
    for pieces in splits(text):
        assert run("olmo3", pieces) == whole, pieces


def test_the_piece_after_a_block_is_content_whatever_it_holds() -> None:
    # Olmo3's "calls done" state hands its buffer over as content without looking for tags: the
    # rest of the piece that closed a block, or else the whole next piece.
    second = "b<function_calls>h()</function_calls>"
    assert run("olmo3", "<function_calls>f()</function_calls>" + second) == (second, "", [call("f", {})])
    assert run("olmo3", ["<function_calls>f()</function_calls>", second]) == (second, "", [call("f", {})])
    out = run("olmo3", ["<function_calls>f()</function_calls>", "b", "<function_calls>h()</function_calls>"])
    assert out == ("b", "", [call("f", {}, 0), call("h", {}, 1)])


def test_the_final_piece_is_not_parsed() -> None:
    # Olmo3Parser.Add drains on done without looking for tags: what is buffered is content, or is
    # dropped inside an open block.
    text = "<function_calls>f(x=1)</function_calls>"
    assert run("olmo3", text, final=None) == (text, "", [])
    assert run("olmo3", ["hi <function_calls>f(x=1)", "</function_calls>"], final=None) == ("hi ", "", [])
    assert run("olmo3", ["<function_calls>f(", "x=1)"]) == ("", "", [])
    # after a block that ended a piece, the final piece's text is dropped
    assert run("olmo3", ["<function_calls>f()</function_calls>"], final="tail").content == ""
    assert run("olmo3", ["hold <fun"], final="").content == "hold <fun"


def test_a_block_that_does_not_parse_is_dropped() -> None:
    out = run("olmo3", "before<function_calls>f(x=1)\nnot a call\n</function_calls>after")
    assert out == ("beforeafter", "", [])
    assert run("olmo3", "<function_calls>f(novalue)</function_calls>").calls == []


@pytest.mark.parametrize(
    ("args", "want"),
    [
        ("value=72", {"value": 72}),
        ("amount=19.99, big=1e3, hexa=0x1p4", {"amount": 19.99, "big": 1000, "hexa": 16}),
        ("a=true, b=True, c=false, d=False", {"a": True, "b": True, "c": False, "d": False}),
        ("a=null, b=None, c=nil", {"a": None, "b": None, "c": None}),
        ("items=[\"apple\", 'b', 3, [true]]", {"items": ["apple", "b", 3, [True]]}),
        (
            's={"theme": "dark", fontSize: 14, "n": {"z": 1, "a": 2}}',
            {"s": {"fontSize": 14, "n": {"a": 2, "z": 1}, "theme": "dark"}},
        ),
        ('q="say \\"hi\\"\\n\\\\n"', {"q": 'say "hi"\n\\n'}),
        ("bare=some text", {"bare": "some text"}),
        ("a=[], b={}", {"a": [], "b": {}}),
        ("x=1,", {"x": 1}),
        ("n=99999999999999999999", {"n": 10**20}),  # past int64: a float64, printed in full
        ("n=-5, m=+5", {"n": -5, "m": 5}),
    ],
)
def test_argument_values(args: str, want: dict[str, Any]) -> None:
    (c,) = parse_function_calls(f"f({args})")
    assert c.arguments == want
    if "s" in want:
        assert list(c.arguments["s"]) == ["fontSize", "n", "theme"]  # a Go map marshals in key order


def test_argument_order_is_kept() -> None:
    (c,) = parse_function_calls("f(z=1, a=2, m=3)")
    assert list(c.arguments) == ["z", "a", "m"]


@pytest.mark.parametrize("line", ["f x=1", "f(x=1", "f-g(x=1)", "f(x)"])
def test_lines_that_are_not_calls(line: str) -> None:
    with pytest.raises(ValueError):
        parse_function_calls(line)


def test_split_arguments() -> None:
    assert split_arguments("a=1, b='x,y', c=[1, 2], d={'e': (3, 4)}") == [
        "a=1",
        " b='x,y'",
        " c=[1, 2]",
        " d={'e': (3, 4)}",
    ]
    assert split_arguments('a="\\", b"') == ['a="\\", b"']


def test_surface() -> None:
    p = Olmo3Parser()
    assert p.has_tool_support and not p.has_thinking_support
    assert p.preserved_tokens() == ["<function_calls>", "</function_calls>"]
    assert p.init(None, None, True) is None
    q = make("olmo3", think=True)
    assert q.add("<function_calls>f()</function_calls>", False).calls[0].index == 0
    q.init(None, None, None)
    assert q.add("<function_calls>g()</function_calls>", False).calls[0].index == 0


def test_absurd_nesting_drops_the_block_instead_of_failing() -> None:
    deep = "[" * 1200 + "]" * 1200
    assert run("olmo3", f"<function_calls>f(x={deep})</function_calls>ok") == ("ok", "", [])
