"""Ollama's template functions: `json`, `toTypeScriptType`, `currentDate`, `yesterdayDate`."""

from __future__ import annotations

import pytest

from pyollama.template.funcs import BUILTINS
from pyollama.template.gotemplate import parse
from pyollama.template.ollama_funcs import ARITY, FUNCS, OLLAMA_ARITY, OLLAMA_FUNCS
from tests.template.godata import DATA

CASES: list[tuple[str, str]] = [
    # json
    (
        "{{ json .M }} {{ json .L }} {{ json .S }} {{ json .Missing }}",
        '{"a":1,"b":2} ["a","b","c"] "hello" null',
    ),
    ('{{ json "<a&b>" }}', '"\\u003ca\\u0026b\\u003e"'),
    ("{{ json .F }} {{ json 2.0 }}", "1.5 2"),
]


@pytest.mark.parametrize(("src", "want"), CASES)
def test_render(src: str, want: str) -> None:
    assert parse(src).execute(DATA) == want


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


def test_tables_are_go_builtins_plus_ollamas() -> None:
    assert FUNCS == {**BUILTINS, **OLLAMA_FUNCS}
    assert sorted(OLLAMA_FUNCS) == ["currentDate", "json", "toTypeScriptType", "yesterdayDate"]
    assert set(OLLAMA_ARITY) <= set(ARITY) and set(ARITY) <= set(FUNCS)
