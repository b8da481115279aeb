"""parse.go: literals decoded as Go's strconv does, `define`/`block` bodies, Go's parse errors."""

from __future__ import annotations

import pytest

from pyollama.template.gotemplate import TemplateError, parse
from pyollama.template.nodes import ActionNode, IfNode, TemplateNode
from pyollama.template.ollama_funcs import FUNCS
from pyollama.template.parser import parse_tree
from tests.template.godata import DATA

CASES: list[tuple[str, str]] = [
    # literals
    ('{{ "q\\t\\"x\\"\\u00e9\\x41" }}', 'q\t"x"éA'),
    ("{{ `raw\\n{{` }}", "raw\\n{{"),
    ("{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 1_000 }} {{ 'a' }}", "31 15 15 1000 97"),
    ("{{ 2.50 }} {{ 1e3 }} {{ -4 }}", "2.5 1000 -4"),
    ("{{ true }} {{ false }}", "true false"),
]


@pytest.mark.parametrize(("src", "want"), CASES)
def test_render(src: str, want: str) -> None:
    assert parse(src).execute(DATA) == want


PARSE_ERRORS = [
    ("{{ if }}", "template: :1: missing value for if"),
    ("{{ end }}", "template: :1: unexpected {{end}}"),
    ("{{ else }}", "template: :1: unexpected {{else}}"),
    ("{{ foo }}", 'template: :1: function "foo" not defined'),
    ("{{ $x }}", 'template: :1: undefined variable "$x"'),
    ("{{ if .A }}", "template: :1: unexpected EOF"),
    ("line1\n{{ range .A }}", "template: :2: unexpected EOF"),
    ("{{ break }}", "template: :1: {{break}} outside {{range}}"),
    ("{{ .A | 3 }}", "template: :1: non executable command in pipeline stage 2"),
    ("{{ if .A }}{{ else }}{{ else }}{{ end }}", "template: :1: expected end; found {{else}}"),
    ("{{ template x }}", 'template: :1: unexpected "x" in template clause'),
    ('{{ "a".B }}', 'template: :1: unexpected . after term "\\"a\\""'),
]


@pytest.mark.parametrize(("src", "msg"), PARSE_ERRORS)
def test_parse_errors(src: str, msg: str) -> None:
    with pytest.raises(TemplateError) as ei:
        parse(src)
    assert str(ei.value) == msg


def test_parse_tree_collects_define_and_block_bodies() -> None:
    root, defines = parse_tree(
        "t", '{{ define "x" }}X{{ end }}{{ block "b" . }}B{{ end }}{{ if .F }}{{ end }}', FUNCS
    )
    assert sorted(defines) == ["b", "x"]
    assert [type(n) for n in root.nodes] == [TemplateNode, IfNode]


def test_functions_are_checked_against_the_given_map() -> None:
    root, _ = parse_tree("t", "{{ shout .A }}", {"shout": str.upper})
    assert isinstance(root.nodes[0], ActionNode)
    with pytest.raises(TemplateError, match='function "shout" not defined'):
        parse_tree("t", "{{ shout .A }}", FUNCS)
