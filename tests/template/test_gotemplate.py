"""The Go text/template subset: a table of snippets with Go's output, and Go's error messages."""

from __future__ import annotations

from typing import Any

import pytest

from pyollama.errors import BadRequest
from pyollama.template.gotemplate import Template, TemplateError, parse
from pyollama.template.govalues import GoStruct, OrderedMap, go_json, go_sprintf

DATA: dict[str, Any] = {
    "S": "hello",
    "Empty": "",
    "N": 3,
    "F": 1.5,
    "T": True,
    "L": ["a", "b", "c"],
    "Nums": [1, 2, 3, 4, 5],
    "M": {"b": 2, "a": 1},
    "Nested": {"Inner": {"Name": "deep"}},
    "Msgs": [
        {"Role": "system", "Content": "sys"},
        {"Role": "user", "Content": "hi"},
        {"Role": "assistant", "Content": "yo"},
    ],
    "Struct": GoStruct("api.Thing", {"A": 1, "B": "x"}),
}

CASES: list[tuple[str, str]] = [
    # text, fields, printing
    ("plain text", "plain text"),
    ("{{ .S }}", "hello"),
    ("{{.S}}", "hello"),
    ("{{ .Nested.Inner.Name }}", "deep"),
    ("{{ .N }} {{ .F }} {{ .T }}", "3 1.5 true"),
    ("{{ .L }}", "[a b c]"),
    ("{{ .M }}", "map[a:1 b:2]"),
    ("{{ .Struct }}", "{1 x}"),
    # missingkey=zero on map[string]any: nil interface
    ("{{ .Missing }}", "<no value>"),
    ("{{ if .Missing }}y{{ else }}n{{ end }}", "n"),
    ("{{ print .Missing }}", "<nil>"),
    ("[{{ .Empty }}]", "[]"),
    # trimming
    ("a  {{- .S -}}  b", "ahellob"),
    ("a\n\n{{- .S }}\n\nb", "ahello\n\nb"),
    ("a {{ .S -}}\n\t b", "a hellob"),
    ("x {{- 3 -}} y", "x3y"),
    ("{{-3}}", "-3"),
    # comments
    ("a{{/* hidden */}}b", "ab"),
    ("a \n{{- /* hidden\nmultiline */ -}}\n b", "ab"),
    # literals
    ('{{ "q\\t\\"x\\"\\u00e9\\x41" }}', 'q\t"x"éA'),
    ("{{ `raw\\n{{` }}", "raw\\n{{"),
    ("{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 1_000 }} {{ 'a' }}", "31 15 15 1000 97"),
    ("{{ 2.50 }} {{ 1e3 }} {{ -4 }}", "2.5 1000 -4"),
    ("{{ true }} {{ false }}", "true false"),
    # if / else if / else
    ("{{ if .T }}yes{{ end }}", "yes"),
    ("{{ if .Empty }}a{{ else if .N }}b{{ else }}c{{ end }}", "b"),
    ("{{ if .Empty }}a{{ else if .Missing }}b{{ else if eq .N 4 }}c{{ else }}d{{ end }}", "d"),
    ("{{ if and .T .N }}both{{ end }}", "both"),
    ("{{ if or .Empty .Missing }}x{{ else }}none{{ end }}", "none"),
    ("{{ if not .Empty }}not{{ end }}", "not"),
    ("{{ if .L }}list{{ end }}{{ if .M }}map{{ end }}{{ if .Struct }}struct{{ end }}", "listmapstruct"),
    ("{{ if 0 }}a{{ else }}zero{{ end }}{{ if 0.0 }}b{{ end }}", "zero"),
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
    # range
    ("{{ range .L }}<{{ . }}>{{ end }}", "<a><b><c>"),
    ("{{ range $i, $x := .L }}{{ $i }}:{{ $x }} {{ end }}", "0:a 1:b 2:c "),
    ("{{ range $x := .L }}{{ $x }}{{ end }}", "abc"),
    ("{{ range $k, $v := .M }}{{ $k }}={{ $v }};{{ end }}", "a=1;b=2;"),
    ("{{ range .Missing }}x{{ else }}empty{{ end }}", "empty"),
    ("{{ range 3 }}{{ . }}{{ end }}", "012"),
    (
        "{{ range .Nums }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}",  # noqa: E501
        "13",
    ),
    ("{{ range .Msgs }}{{ .Role }}:{{ .Content }} {{ end }}", "system:sys user:hi assistant:yo "),
    (
        "{{ range $i, $_ := .Msgs }}{{ if eq (len (slice $.Msgs $i)) 1 }}last={{ .Role }}{{ end }}{{ end }}",
        "last=assistant",
    ),
    # variables and scope
    ("{{ $x := .S }}{{ $x }}", "hello"),
    ("{{ $x := 1 }}{{ if .T }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
    ("{{ $x := 1 }}{{ if .T }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}", "21"),
    ('{{ $s := "" }}{{ range .L }}{{ $s = printf "%s%s" $s . }}{{ end }}{{ $s }}', "abc"),
    ("{{ with .Nested }}{{ $.S }} {{ .Inner.Name }}{{ end }}", "hello deep"),
    # with
    ("{{ with .S }}[{{ . }}]{{ end }}", "[hello]"),
    ("{{ with .Empty }}x{{ else }}nothing{{ end }}", "nothing"),
    ("{{ with .Empty }}x{{ else with .N }}n={{ . }}{{ end }}", "n=3"),
    # pipelines and parentheses
    ('{{ .S | printf "%s!" }}', "hello!"),
    ('{{ .N | printf "%d-%d" 1 }}', "1-3"),
    ('{{ (index .Nested "Inner").Name }}', "deep"),
    ("{{ len (slice .L 1) }}", "2"),
    ('{{ "abc" | len }}', "3"),
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
    (
        "{{ json .M }} {{ json .L }} {{ json .S }} {{ json .Missing }}",
        '{"a":1,"b":2} ["a","b","c"] "hello" null',
    ),
    ('{{ json "<a&b>" }}', '"\\u003ca\\u0026b\\u003e"'),
    ("{{ json .F }} {{ json 2.0 }}", "1.5 2"),
    ('{{ html "<a href=\'x\'>&" }} {{ urlquery "a b&c/d" }}', "&lt;a href=&#39;x&#39;&gt;&amp; a+b%26c%2Fd"),
    # define / template / block
    ('{{ define "t" }}T({{ . }}){{ end }}{{ template "t" .S }}{{ template "t" }}', "T(hello)T(<no value>)"),
    ('{{ block "b" .N }}B{{ . }}{{ end }}', "B3"),
]


@pytest.mark.parametrize(("src", "want"), CASES)
def test_render(src: str, want: str) -> None:
    assert parse(src).execute(DATA) == want


def test_float_printing_follows_go() -> None:
    t = parse("{{ .A }} {{ .B }} {{ .C }} {{ .D }} {{ json .A }}")
    assert t.execute({"A": 1e6, "B": 123456.0, "C": 0.00001, "D": 3.0}) == "1e+06 123456 1e-05 3 1000000"


def test_ordered_map_and_stringer() -> None:
    args = OrderedMap({"z": 1, "a": [1, "x"]}, stringer=True)
    t = parse("{{ .Args }}|{{ json .Args }}|{{ range $k, $v := .Args }}{{ $k }}{{ end }}")
    assert t.execute({"Args": args}) == '{"z":1,"a":[1,"x"]}|{"z":1,"a":[1,"x"]}|za'


def test_dollar_is_root_in_nested_scopes() -> None:
    t = parse("{{ range .L }}{{ range $.L }}{{ end }}{{ $.S }}{{ end }}")
    assert t.execute(DATA) == "hellohellohello"


def test_vars_like_ollama() -> None:
    t = parse(
        "{{ if .System }}{{ .System }}{{ end }}{{ range $i, $m := .Messages }}{{ $m.Content }}{{ eq $.Tools nil }}{{ end }}"  # noqa: E501
    )
    assert t.vars() == ["$", "$m", "content", "messages", "system", "tools"]
    assert t.uses("Messages") and not t.uses("Response")


def test_vars_of_defines_count() -> None:
    assert "suffix" in parse('{{ define "x" }}{{ .Suffix }}{{ end }}hi').vars()


def test_template_error_is_bad_request() -> None:
    with pytest.raises(BadRequest):
        parse("{{ if }}")


PARSE_ERRORS = [
    ("{{ if }}", "template: :1: missing value for if"),
    ("{{ .A ", "template: :1: unclosed action"),
    ("{{ end }}", "template: :1: unexpected {{end}}"),
    ("{{ else }}", "template: :1: unexpected {{else}}"),
    ("{{ foo }}", 'template: :1: function "foo" not defined'),
    ("{{ $x }}", 'template: :1: undefined variable "$x"'),
    ("{{ if .A }}", "template: :1: unexpected EOF"),
    ("line1\n{{ range .A }}", "template: :2: unexpected EOF"),
    ("{{ break }}", "template: :1: {{break}} outside {{range}}"),
    ("{{ /* x */ }}", "template: :1: unrecognized character in action: U+002F '/'"),
    ("{{/* x", "template: :1: unclosed comment"),
    ("{{/* x */ .A }}", "template: :1: comment ends before closing delimiter"),
    ('{{ "abc }}', "template: :1: unterminated quoted string"),
    ("{{ .A | 3 }}", "template: :1: non executable command in pipeline stage 2"),
    ("{{ (.A }}", "template: :1: unclosed left paren"),
    ("{{ .A) }}", "template: :1: unexpected right paren"),
    ("{{ .A # }}", "template: :1: unrecognized character in action: U+0023 '#'"),
    ("{{ if .A }}{{ else }}{{ else }}{{ end }}", "template: :1: expected end; found {{else}}"),
    ("{{ template x }}", 'template: :1: unexpected "x" in template clause'),
    ("{{ .A }}}}{{ end", "template: :1: unclosed action"),
    ('{{ "a".B }}', 'template: :1: unexpected . after term "\\"a\\""'),
]


@pytest.mark.parametrize(("src", "msg"), PARSE_ERRORS)
def test_parse_errors(src: str, msg: str) -> None:
    with pytest.raises(TemplateError) as ei:
        parse(src)
    assert str(ei.value) == msg


EXEC_ERRORS = [
    ("{{ .A.B }}", {}, 'template: :1:3: executing "" at <.A.B>: nil pointer evaluating interface {}.B'),
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
    ("{{ nil }}", {}, 'template: :1:3: executing "" at <nil>: nil is not a command'),
    (
        "x\n  {{ .S.Nope }}",
        {"S": GoStruct("api.Thing", {"A": 1})},
        'template: :2:5: executing "" at <.S.Nope>: can\'t evaluate field Nope in type api.Thing',
    ),
    (
        '{{ template "nope" }}',
        {},
        'template: :1:3: executing "" at <{{template "nope"}}>: no such template "nope"',
    ),
    (
        "{{ range .S }}{{ end }}",
        {"S": "str"},
        'template: :1:3: executing "" at <{{range .S}}>: range can\'t iterate over str',
    ),
    (
        "{{ printf 3 }}",
        {},
        'template: :1:3: executing "" at <printf>: error calling printf: wrong type for value; expected string; got int',  # noqa: E501
    ),
    ("{{ ne 1 }}", {}, 'template: :1:3: executing "" at <ne>: wrong number of args for ne: want 2 got 1'),
]


@pytest.mark.parametrize(("src", "data", "msg"), EXEC_ERRORS)
def test_exec_errors(src: str, data: dict[str, Any], msg: str) -> None:
    t = parse(src)
    with pytest.raises(TemplateError) as ei:
        t.execute(data)
    assert str(ei.value) == msg


def test_named_template_in_messages() -> None:
    with pytest.raises(TemplateError) as ei:
        Template("{{ if }}", name="gemma")
    assert str(ei.value) == "template: gemma:1: missing value for if"


def test_go_sprintf_extra_args() -> None:
    assert go_sprintf("%d", [1, "x"]) == "1%!(EXTRA string=x)"


def test_go_json_escapes_like_go() -> None:
    assert go_json({"k": 'a\u2028\x01\n"\\'}) == '{"k":"a\\u2028\\u0001\\n\\"\\\\"}'
    assert go_json([1e21, 1e-7, -0.5, None, False]) == "[1e+21,1e-7,-0.5,null,false]"


def test_toTypeScriptType() -> None:
    t = parse("{{ toTypeScriptType .P }}|{{ toTypeScriptType .E }}|{{ toTypeScriptType .A }}")
    out = t.execute(
        {
            "P": {"Type": ["string"]},
            "E": {"Enum": ["a", "b"]},
            "A": {"type": "array", "items": {"type": "integer"}},
        }
    )
    assert out == 'string|"a" | "b"|number[]'


def test_current_date_shape() -> None:
    out = parse("{{ currentDate }} {{ yesterdayDate }}").execute({})
    a, b = out.split()
    assert len(a) == 10 and a[4] == "-" and len(b) == 10 and b < a
