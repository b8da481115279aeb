"""Shared dot for the engine's snippet tables (test_lex, test_parse, test_exec, test_funcs...)."""

from __future__ import annotations

from typing import Any

from pyollama.template.govalues import GoStruct

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
