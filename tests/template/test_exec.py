"""exec.go: printing, control flow, variables and scopes, template calls, Go's exec errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from pyollama.template.exec import execute_template
from pyollama.template.gotemplate import TemplateError, parse
from pyollama.template.govalues import GoStruct, OrderedMap
from pyollama.template.nodes import ListNode
from pyollama.template.ollama_funcs import FUNCS
from pyollama.template.parser import parse_tree
from tests.template.godata import DATA

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
    # if / else if / else
    ("{{ if .T }}yes{{ end }}", "yes"),
    ("{{ if .Empty }}a{{ else if .N }}b{{ else }}c{{ end }}", "b"),
    ("{{ if .Empty }}a{{ else if .Missing }}b{{ else if eq .N 4 }}c{{ else }}d{{ end }}", "d"),
    ("{{ if and .T .N }}both{{ end }}", "both"),
    ("{{ if or .Empty .Missing }}x{{ else }}none{{ end }}", "none"),
    ("{{ if not .Empty }}not{{ end }}", "not"),
    ("{{ if .L }}list{{ end }}{{ if .M }}map{{ end }}{{ if .Struct }}struct{{ end }}", "listmapstruct"),
    ("{{ if 0 }}a{{ else }}zero{{ end }}{{ if 0.0 }}b{{ end }}", "zero"),
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


EXEC_ERRORS = [
    ("{{ .A.B }}", {}, 'template: :1:3: executing "" at <.A.B>: nil pointer evaluating interface {}.B'),
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
]


@pytest.mark.parametrize(("src", "data", "msg"), EXEC_ERRORS)
def test_exec_errors(src: str, data: dict[str, Any], msg: str) -> None:
    t = parse(src)
    with pytest.raises(TemplateError) as ei:
        t.execute(data)
    assert str(ei.value) == msg


@dataclass
class _Tree:
    """Not a `Template`: exec reads only the fields Go's Template has."""

    source: str
    name: str = "plain"
    root: ListNode = field(init=False)
    defines: dict[str, ListNode] = field(init=False)
    funcs: dict[str, Any] = field(default_factory=lambda: dict(FUNCS))

    def __post_init__(self) -> None:
        self.root, self.defines = parse_tree(self.name, self.source, self.funcs)


def test_execute_template_needs_only_the_tree_fields() -> None:
    tree = _Tree('{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" .S }}{{ .N }}')
    assert execute_template(tree, {"S": "x", "N": 2}) == "<x>2"
    with pytest.raises(TemplateError) as ei:
        execute_template(_Tree("{{ .A.B }}"), {})
    assert str(ei.value).startswith('template: plain:1:3: executing "plain" at <.A.B>')
