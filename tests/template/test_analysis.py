"""Template-AST analysis: thinking tags, the tool-call tag, capabilities; on a PromptTemplate or a
bare Template, and still importable from `pyollama.template.prompt`."""

from __future__ import annotations

import pyollama.template.prompt as prompt
from pyollama.template import analysis
from pyollama.template.analysis import infer_thinking_tags, template_capabilities, tool_call_tag
from pyollama.template.gotemplate import parse
from pyollama.template.prompt import PromptTemplate
from tests.template.test_prompt import CHATML, GEMMA3, QWEN_LIKE


def test_capabilities_from_template() -> None:
    assert template_capabilities(PromptTemplate(QWEN_LIKE)) == ["tools"]
    assert tool_call_tag(PromptTemplate(QWEN_LIKE)) == "<tool_call>"
    fim = PromptTemplate(
        "{{ if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{ else }}{{ .Prompt }}{{ end }}"
    )
    assert template_capabilities(fim) == ["insert"]
    think = PromptTemplate(
        '{{ range .Messages }}{{ if eq .Role "assistant" }}{{ if .Thinking }}<think>\n{{ .Thinking }}\n</think>'  # noqa: E501
        "{{ end }}{{ .Content }}{{ end }}{{ end }}"
    )
    assert infer_thinking_tags(think) == ("<think>", "</think>")
    assert template_capabilities(think) == ["thinking"]
    assert template_capabilities(PromptTemplate(GEMMA3)) == []
    # .Thinking outside `range .Messages` does not count
    assert infer_thinking_tags(PromptTemplate("<think>{{ .Thinking }}</think>{{ .Messages }}")) == ("", "")
    assert tool_call_tag(PromptTemplate(CHATML)) == "{"


def test_bare_template_accepted() -> None:
    t = parse("{{ range .Messages }}<think>{{ .Thinking }}</think>{{ end }}")
    assert infer_thinking_tags(t) == ("<think>", "</think>")
    assert tool_call_tag(parse("{{ if .ToolCalls }}[TOOL_CALLS] {{ .ToolCalls }}{{ end }}")) == "[TOOL_CALLS]"
    assert tool_call_tag(parse("{{ .Prompt }}")) == "{"


def test_capabilities_property_uses_analysis() -> None:
    assert PromptTemplate("{{ .Tools }}{{ .Suffix }}").capabilities == ["tools", "insert"]


def test_prompt_reexports() -> None:
    for name in ("infer_thinking_tags", "template_capabilities", "tool_call_tag"):
        assert getattr(prompt, name) is getattr(analysis, name)
        assert name in prompt.__all__
