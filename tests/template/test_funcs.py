"""funcs.go: Go's built-in functions, their arities, and their errors as exec reports them."""

from __future__ import annotations

from typing import Any

import pytest

from pyollama.template.funcs import BUILTIN_ARITY, BUILTINS, MISSING, ExecError, truth
from pyollama.template.gotemplate import TemplateError, parse
from pyollama.template.govalues import GoStruct
from tests.template.godata import DATA

CASES: list[tuple[str, str]] = [
    # comparisons
    (
        "{{ eq .N 3 }} {{ ne .N 3 }} {{ lt .N 4 }} {{ le .N 3 }} {{ gt .N 3 }} {{ ge .N 3 }}",
        "true false true true false true",
    ),
    ('{{ eq .S "x" "y" "hello" }}', "true"),
    ('{{ eq .Missing "x" }}', "false"),
    ('{{ lt "a" "b" }}', "true"),
    # and/or return values, short-circuit
    ('{{ and 1 0 2 }}|{{ or 0 "" "z" }}|{{ and 1 2 }}|{{ or 0 "" }}', "0|z|2|"),
    ("{{ or .S (index .L 99) }}", "hello"),
    # builtins
    ('{{ len .S }} {{ len .L }} {{ len .M }} {{ len "é" }}', "5 3 2 2"),
    ('{{ index .L 1 }} {{ index .M "b" }} {{ index .M "zz" }}', "b 2 <no value>"),
    ("{{ slice .L 1 2 }} {{ slice .L 2 }} {{ slice .S 1 3 }} {{ slice .L }}", "[b] [c] el [a b c]"),
    (
        '{{ printf "%s|%d|%v|%q|%#v|%5.2f|%-3d|%x|%t|%%" "s" 7 .L "q" "g" 3.14159 1 255 true }}',
        's|7|[a b c]|"q"|"g"| 3.14|1  |ff|true|%',
    ),
    ('{{ printf "%d %s" "x" }}', "%!d(string=x) %!s(MISSING)"),
    ('{{ printf "%v" .M }} {{ printf "%T" .N }}', "map[a:1 b:2] int"),
    ('{{ print "a" 1 2 "b" }}|{{ println "a" 1 }}|', "a1 2b|a 1\n|"),
    ('{{ html "<a href=\'x\'>&" }} {{ urlquery "a b&c/d" }}', "&lt;a href=&#39;x&#39;&gt;&amp; a+b%26c%2Fd"),
]


@pytest.mark.parametrize(("src", "want"), CASES)
def test_render(src: str, want: str) -> None:
    assert parse(src).execute(DATA) == want


FUNC_ERRORS = [
    ("{{ len 3 }}", {}, 'template: :1:3: executing "" at <len>: error calling len: len of type int'),
    ("{{ len .X }}", {}, 'template: :1:3: executing "" at <len>: error calling len: len of nil pointer'),
    (
        "{{ index .L 5 }}",
        {"L": [1]},
        'template: :1:3: executing "" at <index>: error calling index: index out of range: 5',
    ),
    (
        '{{ eq 1 "a" }}',
        {},
        'template: :1:3: executing "" at <eq>: error calling eq: incompatible types for comparison',
    ),
    (
        "{{ printf 3 }}",
        {},
        'template: :1:3: executing "" at <printf>: error calling printf: wrong type for value; expected string; got int',  # noqa: E501
    ),
    ("{{ ne 1 }}", {}, 'template: :1:3: executing "" at <ne>: wrong number of args for ne: want 2 got 1'),
]


@pytest.mark.parametrize(("src", "data", "msg"), FUNC_ERRORS)
def test_func_errors(src: str, data: dict[str, Any], msg: str) -> None:
    t = parse(src)
    with pytest.raises(TemplateError) as ei:
        t.execute(data)
    assert str(ei.value) == msg


def test_truth_is_gos_zero_value_rule() -> None:
    falsy = [None, MISSING, False, 0, 0.0, "", [], {}]
    truthy = [True, 1, -0.5, "x", [0], {"k": None}, GoStruct("api.Empty", {})]
    assert [truth(v) for v in falsy] == [False] * len(falsy)
    assert [truth(v) for v in truthy] == [True] * len(truthy)


def test_builtins_raise_exec_error_directly() -> None:
    with pytest.raises(ExecError, match="missing argument for comparison"):
        BUILTINS["eq"](1)
    assert BUILTINS["index"]([[1, 2]], 0, 1) == 2


def test_arity_table_names_builtins() -> None:
    assert set(BUILTIN_ARITY) <= set(BUILTINS)
