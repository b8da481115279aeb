"""Ollama's prompt rendering: real model templates byte for byte, legacy templates, collate,
generate's paths, capabilities and chat history fitted to num_ctx."""

from __future__ import annotations

from typing import Any

import pytest

from pyollama.template.prompt import (
    PromptTemplate,
    chat_prompt,
    chat_prompt_async,
    collate,
    render_generate,
)

# Ollama's built-in templates (template/*.gotmpl)
GEMMA3 = """{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<start_of_turn>user
{{- if and (eq $i 1) $.System }}
{{ $.System }}
{{ end }}
{{ .Content }}<end_of_turn>
{{ else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}<end_of_turn>
{{ end }}
{{- if $last }}<start_of_turn>model
{{ end }}
{{- end }}
"""

GEMMA = """{{- $system := "" }}
{{- range .Messages }}
{{- if eq .Role "system" }}
{{- if not $system }}{{ $system = .Content }}
{{- else }}{{ $system = printf "%s\\n\\n%s" $system .Content }}
{{- end }}
{{- continue }}
{{- else if eq .Role "user" }}<start_of_turn>user
{{- if $system }}
{{ $system }}
{{- $system = "" }}
{{- end }}
{{- else if eq .Role "assistant" }}<start_of_turn>model
{{- end }}
{{ .Content }}<end_of_turn>
{{ end }}<start_of_turn>model
"""

CHATML = """{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
"""

LLAMA3 = """{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- end }}<|start_header_id|>assistant<|end_header_id|>

"""

MISTRAL = """[INST] {{ range $index, $_ := .Messages }}
{{- if eq .Role "system" }}{{ .Content }}

{{ else if eq .Role "user" }}{{ .Content }}[/INST]
{{- else if eq .Role "assistant" }} {{ .Content }}</s>[INST] {{ end }}
{{- end }}"""

PHI3 = """{{- range .Messages }}<|{{ .Role }}|>
{{ .Content }}<|end|>
{{ end }}<|assistant|>
"""

PHI3_LEGACY = """{{ if .System }}<|system|>
{{ .System }}<|end|>
{{ end }}{{ if .Prompt }}<|user|>
{{ .Prompt }}<|end|>
{{ end }}<|assistant|>
{{ .Response }}<|end|>"""

CHATML_LEGACY = """{{ if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ .Response }}<|im_end|>
"""

SYS = {"role": "system", "content": "You are a helpful assistant."}
U1 = {"role": "user", "content": "Hello, how are you?"}
A1 = {"role": "assistant", "content": "I'm doing great. How can I help you today?"}
U2 = {"role": "user", "content": "I'd like to show off how chat templating works!"}
CONVOS = {"user": [U1], "user-assistant-user": [U1, A1, U2], "system-user-assistant-user": [SYS, U1, A1, U2]}

# expected outputs, as in Ollama's template/testdata
EXPECTED: dict[str, dict[str, str]] = {
    "gemma3": {
        "user": "<start_of_turn>user\nHello, how are you?<end_of_turn>\n<start_of_turn>model\n\n",
        "user-assistant-user": "<start_of_turn>user\nHello, how are you?<end_of_turn>\n<start_of_turn>model\n"
        "I'm doing great. How can I help you today?<end_of_turn>\n<start_of_turn>user\n"
        "I'd like to show off how chat templating works!<end_of_turn>\n<start_of_turn>model\n\n",
        "system-user-assistant-user": "<start_of_turn>user\nYou are a helpful assistant.\n\nHello, how are you?"  # noqa: E501
        "<end_of_turn>\n<start_of_turn>model\nI'm doing great. How can I help you today?<end_of_turn>\n"
        "<start_of_turn>user\nI'd like to show off how chat templating works!<end_of_turn>\n"
        "<start_of_turn>model\n\n",
    },
    "gemma": {
        "user": "<start_of_turn>user\nHello, how are you?<end_of_turn>\n<start_of_turn>model\n",
        "system-user-assistant-user": "<start_of_turn>user\nYou are a helpful assistant.\nHello, how are you?"
        "<end_of_turn>\n<start_of_turn>model\nI'm doing great. How can I help you today?<end_of_turn>\n"
        "<start_of_turn>user\nI'd like to show off how chat templating works!<end_of_turn>\n"
        "<start_of_turn>model\n",
    },
    "chatml": {
        "user": "<|im_start|>user\nHello, how are you?<|im_end|>\n<|im_start|>assistant\n",
        "system-user-assistant-user": "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nHello, how are you?<|im_end|>\n<|im_start|>assistant\n"
        "I'm doing great. How can I help you today?<|im_end|>\n<|im_start|>user\n"
        "I'd like to show off how chat templating works!<|im_end|>\n<|im_start|>assistant\n",
    },
    "llama3": {
        "system-user-assistant-user": "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant."  # noqa: E501
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello, how are you?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nI'm doing great. How can I help you today?<|eot_id|>"  # noqa: E501
        "<|start_header_id|>user<|end_header_id|>\n\nI'd like to show off how chat templating works!<|eot_id|>"  # noqa: E501
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    },
    "mistral": {
        "system-user-assistant-user": "[INST] You are a helpful assistant.\n\nHello, how are you?[/INST] "
        "I'm doing great. How can I help you today?</s>[INST] I'd like to show off how chat templating works![/INST]",  # noqa: E501
    },
    "phi3": {
        "system-user-assistant-user": "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\n"
        "Hello, how are you?<|end|>\n<|assistant|>\nI'm doing great. How can I help you today?<|end|>\n"
        "<|user|>\nI'd like to show off how chat templating works!<|end|>\n<|assistant|>\n",
    },
}
SOURCES = {
    "gemma3": GEMMA3,
    "gemma": GEMMA,
    "chatml": CHATML,
    "llama3": LLAMA3,
    "mistral": MISTRAL,
    "phi3": PHI3,
}


@pytest.mark.parametrize(("name", "convo"), [(n, c) for n, per in EXPECTED.items() for c in per])
def test_builtin_templates_byte_for_byte(name: str, convo: str) -> None:
    t = PromptTemplate(SOURCES[name])
    assert t.execute(CONVOS[convo]).encode() == EXPECTED[name][convo].encode()


def test_gemma3_single_user_turn_exact_bytes() -> None:
    out = PromptTemplate(GEMMA3).execute([{"role": "user", "content": "Why is the sky blue?"}])
    assert out == "<start_of_turn>user\nWhy is the sky blue?<end_of_turn>\n<start_of_turn>model\n\n"


@pytest.mark.parametrize("convo", list(CONVOS))
def test_legacy_templates_match_messages_templates(convo: str) -> None:
    """Legacy (.System/.Prompt/.Response) templates run per turn and cut at .Response."""
    assert PromptTemplate(CHATML_LEGACY).execute(CONVOS[convo]) == PromptTemplate(CHATML).execute(
        CONVOS[convo]
    )


def test_legacy_phi3_turns_concatenate() -> None:
    """Each earlier turn renders the whole template (no newline after the final `<|end|>`)."""
    assert PromptTemplate(PHI3_LEGACY).execute(CONVOS["system-user-assistant-user"]) == (
        "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello, how are you?<|end|>\n"
        "<|assistant|>\nI'm doing great. How can I help you today?<|end|>"
        "<|user|>\nI'd like to show off how chat templating works!<|end|>\n<|assistant|>\n"
    )


def test_legacy_ending_with_assistant_continues_response() -> None:
    t = PromptTemplate("[INST] {{ .Prompt }}[/INST] {{ .Response }}")
    msgs = [U1, A1, U2, {"role": "assistant", "content": "My name is"}]
    assert t.execute(msgs) == (
        "[INST] Hello, how are you?[/INST] I'm doing great. How can I help you today?"
        "[INST] I'd like to show off how chat templating works![/INST] My name is"
    )


def test_mistral_legacy_system_inside_first_turn() -> None:
    t = PromptTemplate("[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] ")
    msgs = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Hello friend!"},
        {"role": "assistant", "content": "Hello human!"},
        {"role": "user", "content": "What is your name?"},
    ]
    assert t.execute(msgs) == "[INST] S\n\nHello friend![/INST] Hello human![INST] What is your name?[/INST] "


def test_response_appended_when_template_lacks_messages_and_response() -> None:
    t = PromptTemplate("{{ .System }} {{ .Prompt }}")
    assert t.vars == ["prompt", "system"]
    assert [a for a in t.template.identifiers() if a == "Response"] == ["Response"]
    assert t.execute([{"role": "user", "content": "x"}]) == " x"


def test_default_template_is_prompt() -> None:
    t = PromptTemplate(None)
    assert str(t) == "{{ .Prompt }}"
    assert t.execute([SYS, U1]) == "Hello, how are you?"


def test_messages_path_prompt_is_no_value() -> None:
    """A messages template referencing .Prompt sees a missing key, printed as Go does."""
    assert PromptTemplate("{{ range .Messages }}{{ end }}{{ .Prompt }}").execute([U1]) == "<no value>"


def test_collate_merges_same_role_but_not_tools() -> None:
    msgs = [
        {"role": "system", "content": "a"},
        {"role": "system", "content": "b"},
        {"role": "user", "content": "Hello"},
        {"role": "user", "content": "How are you?"},
        {"role": "tool", "content": "sunny", "tool_name": "w"},
        {"role": "tool", "content": "72F", "tool_name": "t"},
    ]
    system, out = collate(msgs)
    assert system == "a\n\nb"
    assert [(m["role"], m["content"]) for m in out] == [
        ("system", "a\n\nb"),
        ("user", "Hello\n\nHow are you?"),
        ("tool", "sunny"),
        ("tool", "72F"),
    ]
    assert msgs[0]["content"] == "a"  # inputs untouched


def test_system_variable_joins_system_messages() -> None:
    t = PromptTemplate("{{ .System }}|{{ range .Messages }}{{ .Role }};{{ end }}")
    assert t.execute([SYS, {"role": "system", "content": "two"}, U1]) == (
        "You are a helpful assistant.\n\ntwo|system;user;"
    )


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the <current> weather",
            "parameters": {
                "type": "object",
                "required": ["city"],
                "properties": {
                    "city": {"type": "string", "description": "The city"},
                    "unit": {"type": "string", "enum": ["c", "f"]},
                },
            },
        },
    }
]

QWEN_LIKE = """{{- if .Tools }}<|im_start|>system
# Tools
<tools>
{{- range .Tools }}
{"type": "function", "function": {{ .Function }}}
{{- end }}
</tools><|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ if .Content }}{{ .Content }}
{{- else if .ToolCalls }}<tool_call>
{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}
{{ end }}</tool_call>
{{- end }}{{ if not $last }}<|im_end|>
{{ end }}
{{- else if eq .Role "tool" }}<|im_start|>user
<tool_response>
{{ .Content }}
</tool_response><|im_end|>
{{ end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
{{ end }}
{{- end }}"""


def test_tools_render_as_go_json() -> None:
    t = PromptTemplate(QWEN_LIKE)
    msgs = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2.0, "a": True}}}
            ],
        },
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
    ]
    out = t.execute(msgs, tools=TOOLS)
    fn = (
        '{"name":"get_weather","description":"Get the \\u003ccurrent\\u003e weather","parameters":'
        '{"type":"object","required":["city"],"properties":{"city":{"type":"string","description":"The city"},'  # noqa: E501
        '"unit":{"type":"string","enum":["c","f"]}}}}'
    )
    assert out == (
        "<|im_start|>system\n# Tools\n<tools>\n"
        '{"type": "function", "function": ' + fn + "}\n</tools><|im_end|>\n"
        "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
        "<|im_start|>assistant\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city":"Paris","days":2,"a":true}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
    )


def test_tools_printed_whole_and_json_func() -> None:
    t = PromptTemplate("{{ .Tools }}|{{ json .Tools }}|{{ range .Messages }}{{ json . }}{{ end }}")
    out = t.execute([{"role": "user", "content": "<x>"}], tools=TOOLS)
    tools_json, json2, msg = out.split("|")
    assert tools_json == json2
    assert tools_json.startswith('[{"type":"function","function":{"name":"get_weather"')
    assert msg == '{"role":"user","content":"\\u003cx\\u003e"}'
    assert PromptTemplate("{{ .Tools }}{{ .Messages }}").execute([U1]).startswith("null")


def test_tool_property_fields() -> None:
    t = PromptTemplate(
        "{{ range .Tools }}{{ .Type }} {{ .Function.Name }}"
        "{{ range $k, $v := .Function.Parameters.Properties }} {{ $k }}:{{ $v.Type }}"
        "{{ if $v.Enum }}={{ json $v.Enum }}{{ end }}{{ end }}"
        " req={{ .Function.Parameters.Required }}{{ end }}{{ .Messages }}"
    )
    out = t.execute([U1], tools=TOOLS)
    assert out.startswith('function get_weather city:string unit:string=["c","f"] req=[city]')


def test_think_values() -> None:
    t = PromptTemplate("{{ .Think }}/{{ .ThinkLevel }}/{{ .IsThinkSet }}{{ range .Messages }}{{ end }}")
    assert t.execute([U1]) == "false//false"
    assert t.execute([U1], think=True) == "true/medium/true"
    assert t.execute([U1], think=False) == "false//true"
    assert t.execute([U1], think="high") == "true/high/true"


def test_thinking_rendered_in_history() -> None:
    t = PromptTemplate(
        "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}|{{ end }}"  # noqa: E501
    )
    msgs = [U1, {"role": "assistant", "content": "A", "thinking": "hmm"}]
    assert t.execute(msgs) == "Hello, how are you?|<think>hmm</think>A|"


# --- generate ----------------------------------------------------------------------------------


def test_generate_suffix_path() -> None:
    t = PromptTemplate(
        "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>\n{{- else }}{{ .Prompt }}\n{{- end }}"
    )
    assert render_generate(t, "def add(", suffix="return x").prompt == "<PRE> def add( <SUF>return x <MID>"
    assert render_generate(t, "hello").prompt == "hello"


def test_generate_system_precedence_and_images() -> None:
    t = PromptTemplate(CHATML)
    out = render_generate(t, "hi", system="req sys", model_system="model sys")
    assert (
        out.prompt
        == "<|im_start|>system\nreq sys<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )
    out = render_generate(t, "what is [img] this", model_system="model sys", images=["AAA", "BBB"])
    assert "<|im_start|>system\nmodel sys<|im_end|>" in out.prompt
    assert "<|im_start|>user\n[img-1]what is [img-0] this<|im_end|>" in out.prompt
    assert out.images == ["AAA", "BBB"]


def test_generate_model_messages_and_context() -> None:
    t = PromptTemplate(CHATML)
    mm = [{"role": "user", "content": "m1"}, {"role": "assistant", "content": "m2"}]
    out = render_generate(t, "hi", model_messages=mm)
    assert "m1" in out.prompt and "m2" in out.prompt
    out = render_generate(t, "hi", model_messages=mm, context_text="PREV ")
    assert out.prompt.startswith("PREV <|im_start|>user\nhi") and "m1" not in out.prompt


def test_generate_legacy_template() -> None:
    t = PromptTemplate(PHI3_LEGACY)
    assert (
        render_generate(t, "hi", system="S").prompt
        == "<|system|>\nS<|end|>\n<|user|>\nhi<|end|>\n<|assistant|>\n"
    )


# --- chat history fitting ----------------------------------------------------------------------


def _count_chars(p: str) -> int:
    return len(p)


def _history(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": "SYS"}]
    for i in range(n):
        out.append({"role": "user", "content": f"u{i}"})
        out.append({"role": "assistant", "content": f"a{i}"})
    out.append({"role": "user", "content": "last"})
    return out


def test_chat_prompt_fits_everything() -> None:
    t = PromptTemplate(CHATML)
    r = chat_prompt(t, _history(3), count_tokens=_count_chars, num_ctx=10_000)
    assert r.truncated == 0
    assert r.prompt == t.execute(_history(3))


def test_chat_prompt_drops_oldest_keeps_system_and_last() -> None:
    t = PromptTemplate("{{ range .Messages }}{{ .Content }};{{ end }}")
    msgs = _history(5)  # SYS;u0;a0;...;u4;a4;last;
    r = chat_prompt(t, msgs, count_tokens=_count_chars, num_ctx=len("SYS;u3;a3;u4;a4;last;"))
    assert r.prompt == "SYS;u3;a3;u4;a4;last;"
    assert r.truncated == 7
    r = chat_prompt(t, msgs, count_tokens=_count_chars, num_ctx=1)
    assert r.prompt == "SYS;last;"
    r = chat_prompt(t, msgs, count_tokens=_count_chars, num_ctx=1, truncate=False)
    assert r.prompt.count(";") == len(msgs)


def test_chat_prompt_never_orphans_tool_results() -> None:
    t = PromptTemplate("{{ range .Messages }}{{ .Role }}:{{ .Content }};{{ end }}")
    msgs = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]},
        {"role": "tool", "content": "r1"},
        {"role": "tool", "content": "r2"},
    ]
    r = chat_prompt(t, msgs, count_tokens=_count_chars, num_ctx=1)
    assert r.prompt == "assistant:;tool:r1;tool:r2;"


def test_chat_prompt_images_tagged_after_truncation_and_counted() -> None:
    t = PromptTemplate("{{ range .Messages }}{{ .Content }};{{ end }}")
    msgs = [
        {"role": "user", "content": "old", "images": ["X"]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "see [img] and", "images": ["A", "B"]},
    ]
    r = chat_prompt(t, msgs, count_tokens=_count_chars, num_ctx=10_000)
    assert r.prompt == "[img-0]old;ok;[img-2]see [img-1] and;"
    assert r.images == ["X", "A", "B"]
    # each image costs image_tokens: the old turn no longer fits
    r = chat_prompt(t, msgs, count_tokens=_count_chars, num_ctx=90, image_tokens=40)
    assert r.prompt == "[img-1]see [img-0] and;"
    assert r.images == ["A", "B"]


async def test_chat_prompt_async_tokenizer() -> None:
    t = PromptTemplate("{{ range .Messages }}{{ .Content }};{{ end }}")

    async def count(p: str) -> int:
        return len(p)

    r = await chat_prompt_async(t, _history(5), count_tokens=count, num_ctx=1)
    assert r.prompt == "SYS;last;"
    r = await chat_prompt_async(t, _history(5), count_tokens=_count_chars, num_ctx=1)
    assert r.prompt == "SYS;last;"


def test_msgspec_structs_accepted() -> None:
    import msgspec

    class Msg(msgspec.Struct, omit_defaults=True):
        role: str
        content: str = ""

    t = PromptTemplate(CHATML)
    assert t.execute([Msg("user", "Hello, how are you?")]) == EXPECTED["chatml"]["user"]
