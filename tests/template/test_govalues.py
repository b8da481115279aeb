"""Go's value model as templates print it: `fmt` verbs and `encoding/json` escapes."""

from __future__ import annotations

from pyollama.template.govalues import go_json, go_sprintf


def test_go_sprintf_extra_args() -> None:
    assert go_sprintf("%d", [1, "x"]) == "1%!(EXTRA string=x)"


def test_go_json_escapes_like_go() -> None:
    assert go_json({"k": 'a\u2028\x01\n"\\'}) == '{"k":"a\\u2028\\u0001\\n\\"\\\\"}'
    assert go_json([1e21, 1e-7, -0.5, None, False]) == "[1e+21,1e-7,-0.5,null,false]"
