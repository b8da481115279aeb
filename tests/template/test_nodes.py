"""node.go: `String()` forms, which exec quotes in its `executing "" at <...>` messages."""

from __future__ import annotations

import pytest

from pyollama.template.ollama_funcs import FUNCS
from pyollama.template.parser import parse_tree


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ('{{ .A.B | printf "%s" (len .C) }}', '{{.A.B | printf "%s" (len .C)}}'),
        ("{{ $v := .D }}", "{{$v := .D}}"),
        ("{{ $v := 1 }}{{ $v = 2 }}", "{{$v = 2}}"),
        ("{{ (.X).E }}", "{{(.X).E}}"),
        ('{{ printf "%v %v %v" true 0x1F `raw` }}', '{{printf "%v %v %v" true 0x1F `raw`}}'),
    ],
)
def test_action_string(src: str, want: str) -> None:
    root, _ = parse_tree("", src, FUNCS)
    assert str(root.nodes[-1]) == want
