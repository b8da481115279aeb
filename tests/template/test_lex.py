"""lex.go: items, trimming, comments, and the lexer's error messages (as the parser reports them)."""

from __future__ import annotations

import pytest

from pyollama.template.gotemplate import TemplateError, parse
from pyollama.template.lex import T_EOF, T_FIELD, T_LEFT, T_RIGHT, T_SPACE, T_TEXT, lex
from tests.template.godata import DATA

CASES: list[tuple[str, str]] = [
    # trimming
    ("a  {{- .S -}}  b", "ahellob"),
    ("a\n\n{{- .S }}\n\nb", "ahello\n\nb"),
    ("a {{ .S -}}\n\t b", "a hellob"),
    ("x {{- 3 -}} y", "x3y"),
    ("{{-3}}", "-3"),
    # comments
    ("a{{/* hidden */}}b", "ab"),
    ("a \n{{- /* hidden\nmultiline */ -}}\n b", "ab"),
]


@pytest.mark.parametrize(("src", "want"), CASES)
def test_render(src: str, want: str) -> None:
    assert parse(src).execute(DATA) == want


LEX_ERRORS = [
    ("{{ .A ", "template: :1: unclosed action"),
    ("{{ /* x */ }}", "template: :1: unrecognized character in action: U+002F '/'"),
    ("{{/* x", "template: :1: unclosed comment"),
    ("{{/* x */ .A }}", "template: :1: comment ends before closing delimiter"),
    ('{{ "abc }}', "template: :1: unterminated quoted string"),
    ("{{ (.A }}", "template: :1: unclosed left paren"),
    ("{{ .A) }}", "template: :1: unexpected right paren"),
    ("{{ .A # }}", "template: :1: unrecognized character in action: U+0023 '#'"),
    ("{{ .A }}}}{{ end", "template: :1: unclosed action"),
]


@pytest.mark.parametrize(("src", "msg"), LEX_ERRORS)
def test_lex_errors(src: str, msg: str) -> None:
    with pytest.raises(TemplateError) as ei:
        parse(src)
    assert str(ei.value) == msg


def test_items_of_an_action() -> None:
    items = lex("a{{ .B }}c")
    assert [(it.typ, it.val) for it in items] == [
        (T_TEXT, "a"),
        (T_LEFT, "{{"),
        (T_SPACE, " "),
        (T_FIELD, ".B"),
        (T_SPACE, " "),
        (T_RIGHT, "}}"),
        (T_TEXT, "c"),
        (T_EOF, ""),
    ]


def test_trimmed_newlines_still_count_lines() -> None:
    items = lex("a\n{{- if .B }}x{{ end -}}\n z")
    assert [(it.val, it.line) for it in items if it.typ == T_TEXT] == [("a", 1), ("x", 2), ("z", 3)]


def test_item_string_like_go() -> None:
    items = lex('{{ if "a very long string" }}')
    assert [str(it) for it in items if it.typ not in (T_SPACE, T_LEFT, T_RIGHT)] == [
        "<if>",
        '"\\"a very lo"...',
        "EOF",
    ]
