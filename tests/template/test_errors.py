"""TemplateError: one exception for parse and exec failures, answered as a 400."""

from __future__ import annotations

import pytest

from pyollama.errors import BadRequest
from pyollama.template.gotemplate import parse


def test_template_error_is_bad_request() -> None:
    with pytest.raises(BadRequest):
        parse("{{ if }}")
