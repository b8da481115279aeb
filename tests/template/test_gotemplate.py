"""The `Template` class: parsed once with Ollama's functions, introspected as Ollama's `Vars()` does."""

from __future__ import annotations

import pytest

import pyollama.template
from pyollama.template.gotemplate import Template, TemplateError, parse


def test_vars_like_ollama() -> None:
    t = parse(
        "{{ if .System }}{{ .System }}{{ end }}{{ range $i, $m := .Messages }}{{ $m.Content }}{{ eq $.Tools nil }}{{ end }}"  # noqa: E501
    )
    assert t.vars() == ["$", "$m", "content", "messages", "system", "tools"]
    assert t.uses("Messages") and not t.uses("Response")


def test_vars_of_defines_count() -> None:
    assert "suffix" in parse('{{ define "x" }}{{ .Suffix }}{{ end }}hi').vars()


def test_named_template_in_messages() -> None:
    with pytest.raises(TemplateError) as ei:
        Template("{{ if }}", name="gemma")
    assert str(ei.value) == "template: gemma:1: missing value for if"


def test_copy_and_append_action_leave_the_original() -> None:
    t = parse("{{ .Prompt }}|")
    c = t.copy()
    c.append_action(["Response"])
    assert c.execute({"Prompt": "p", "Response": "r"}) == "p|r"
    assert t.execute({"Prompt": "p", "Response": "r"}) == "p|"
    assert c.vars() == ["prompt", "response"]


def test_extra_funcs_extend_ollamas() -> None:
    t = Template("{{ shout .A }} {{ json .A }}", funcs={"shout": str.upper})
    assert t.execute({"A": "hi"}) == 'HI "hi"'


def test_package_face() -> None:
    assert set(pyollama.template.__all__) == {
        "DEFAULT_TEMPLATE",
        "ChatPrompt",
        "PromptTemplate",
        "Template",
        "TemplateError",
        "chat_prompt",
        "chat_prompt_async",
        "collate",
        "generate_messages",
        "infer_thinking_tags",
        "parse",
        "render_generate",
        "render_prompt",
        "template_capabilities",
        "tool_call_tag",
    }
    for name in pyollama.template.__all__:
        assert getattr(pyollama.template, name) is not None
    assert pyollama.template.parse is parse  # the function, not the parser submodule
