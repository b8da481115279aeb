from __future__ import annotations

import pytest

from pyollama.go import strconv


def test_quote() -> None:
    assert strconv.quote('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert strconv.quote("a\x7f\u00a0\U0001f600\x00") == '"a\\x7f\\u00a0\U0001f600\\x00"'


def test_float32_shortest() -> None:
    assert strconv.float32_shortest(0.7) == 0.7
    assert strconv.float32_shortest(0.1) == 0.1
    with pytest.raises(ValueError):
        strconv.float32_shortest(1e40)


def test_parse_bool_takes_gos_twelve_spellings() -> None:
    assert [strconv.parse_bool(s) for s in ("1", "t", "T", "TRUE", "true", "True")] == [True] * 6
    assert [strconv.parse_bool(s) for s in ("0", "f", "F", "FALSE", "false", "False")] == [False] * 6
    with pytest.raises(ValueError, match='parsing "yes": invalid syntax'):
        strconv.parse_bool("yes")
