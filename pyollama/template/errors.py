"""The template engine's one exception, shared by the parser (`parse.go`) and executor (`exec.go`).

Go returns plain `error`s from both (`template: name:line: msg`); pyollama raises `TemplateError`,
a `BadRequest`, so a model whose TEMPLATE does not parse or render answers 400 as Ollama does.
It lives in its own module so that `parser` and `exec` can both raise it without importing each other.
"""

from __future__ import annotations

from pyollama.errors import BadRequest

__all__ = ["TemplateError"]


class TemplateError(BadRequest):
    """A template that does not parse or does not execute; the message reads like Go's."""
