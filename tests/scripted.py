"""Test data for scripted models: a Qwen3-style chat template (Jinja and Ollama Go) and scripts.

The templates are ours, written to the shape of Qwen3's (ChatML turns, a `# Tools` section with the
tools as JSON inside `<tools></tools>`, tool calls as `<tool_call>\\n{"name": ..., "arguments": ...}
\\n</tool_call>`, tool results in `<tool_response>`, `<think>` reasoning switched by
`enable_thinking`), so that llama.cpp's chat-format detection and Ollama's tag inference recognise
them. `make_chat_model` writes a scripted model (tests/gguf_factory.py) that answers through them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gguf_factory import make_scripted_model

# --- triggers: where the model starts a script ------------------------------------------------------

ASSISTANT = "<|im_start|>assistant\n"  # the generation prompt (thinking on, or not set)
NO_THINK = "</think>\n\n"  # the end of the think-off generation prompt
AFTER_TOOL = "</tool_response><|im_end|>\n<|im_start|>assistant\n"  # answering a tool result

# --- scripts -------------------------------------------------------------------------------------------

THINKING = "The user greets me. I should greet them back."
ANSWER = "Hello! How can I help you today?"
THINK_ANSWER = f"<think>\n{THINKING}\n</think>\n\n{ANSWER}"

TOOL_THINKING = "The user wants the weather, so I call get_weather."
TOOL_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
TOOL_CALL_2 = (
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "London", "unit": "celsius"}}\n</tool_call>'
)
TWO_TOOL_CALLS = TOOL_CALL + "\n" + TOOL_CALL_2
THINK_TOOL_CALL = f"<think>\n{TOOL_THINKING}\n</think>\n\n{TOOL_CALL}"
# what the engine parses out of them: (name, arguments)
TOOL_CALL_PARSED = [("get_weather", {"city": "Paris"})]
TWO_TOOL_CALLS_PARSED = [*TOOL_CALL_PARSED, ("get_weather", {"city": "London", "unit": "celsius"})]

TOOL_ANSWER = "It is sunny and 22 degrees in Paris."  # after the tool result
JSON_ANSWER = '{"city": "Paris", "temperature": 22, "sunny": true}'
JSON_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "temperature": {"type": "integer"},
        "sunny": {"type": "boolean"},
    },
    "required": ["city", "temperature", "sunny"],
}

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


def chat_entries(
    answer: str, *, thinking: str | None = None, after_tool: str | None = None
) -> list[tuple[str, str]]:
    """(trigger, script) entries for a model behind QWEN3_JINJA / QWEN3_GO.

    After the assistant header it emits `<think>\\n{thinking}\\n</think>\\n\\n{answer}` (or just the
    answer when `thinking` is None); after the think-off header, the answer; after a tool result,
    `after_tool` (when given; else the assistant-header script again).
    """
    first = f"<think>\n{thinking}\n</think>\n\n{answer}" if thinking is not None else answer
    entries = [(ASSISTANT, first), (NO_THINK, answer)]
    if after_tool is not None:
        entries.append((AFTER_TOOL, after_tool))
    return entries


def make_chat_model(
    path: Path,
    answer: str,
    *,
    thinking: str | None = None,
    after_tool: str | None = None,
    template: str | None = None,
) -> Path:
    """A scripted model with the Qwen3-style Jinja template (see `chat_entries` for what it says)."""
    return make_scripted_model(
        path,
        chat_entries(answer, thinking=thinking, after_tool=after_tool),
        chat_template=QWEN3_JINJA if template is None else template,
        name=path.stem,
    )


# --- the Jinja template (GGUF tokenizer.chat_template; llama.cpp renders it) ------------------------------

QWEN3_JINJA = """\
{%- set ns = namespace(last_user=-1) %}
{%- for m in messages %}
    {%- if m.role == 'user' %}
        {%- set ns.last_user = loop.index0 %}
    {%- endif %}
{%- endfor %}
{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages and messages[0].role == 'system' %}
        {{- messages[0].content + '\\n\\n' }}
    {%- endif %}
    {{- '# Tools\\n\\nThese functions can be called; their JSON signatures are inside ' }}
    {{- '<tools></tools>:\\n<tools>' }}
    {%- for tool in tools %}
        {{- '\\n' + (tool | tojson) }}
    {%- endfor %}
    {{- '\\n</tools>\\n\\nTo call one, answer with its name and arguments as a JSON object inside ' }}
    {{- '<tool_call></tool_call> tags:\\n<tool_call>\\n' }}
    {{- '{"name": <function-name>, "arguments": <args-json-object>}' }}
    {{- '\\n</tool_call><|im_end|>\\n' }}
{%- elif messages and messages[0].role == 'system' %}
    {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
{%- endif %}
{%- for m in messages %}
    {%- set content = m.content if m.content is string else '' %}
    {%- if m.role == 'user' or (m.role == 'system' and not loop.first) %}
        {{- '<|im_start|>' + m.role + '\\n' + content + '<|im_end|>\\n' }}
    {%- elif m.role == 'assistant' %}
        {%- set reasoning = m.reasoning_content if m.reasoning_content is string else '' %}
        {%- if not reasoning and '</think>' in content %}
            {%- set reasoning = content.split('</think>')[0].split('<think>')[-1] %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {{- '<|im_start|>assistant\\n' }}
        {%- if reasoning and loop.index0 > ns.last_user %}
            {{- '<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n' }}
        {%- endif %}
        {{- content }}
        {%- if m.tool_calls %}
            {%- for call in m.tool_calls %}
                {%- set fn = call.function if call.function is defined else call %}
                {%- if content or not loop.first %}
                    {{- '\\n' }}
                {%- endif %}
                {{- '<tool_call>\\n{"name": "' + fn.name + '", "arguments": ' }}
                {%- if fn.arguments is string %}
                    {{- fn.arguments }}
                {%- else %}
                    {{- fn.arguments | tojson }}
                {%- endif %}
                {{- '}\\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- elif m.role == 'tool' %}
        {%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' + content + '\\n</tool_response>' }}
        {%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
"""

# --- the Ollama Go template (Modelfile TEMPLATE; Ollama's server renders it) --------------------------
# The same turns as QWEN3_JINJA. Differences: tools and arguments print as Go's compact JSON, and
# each tool result gets its own user turn. `{{ .Thinking }}` (a field of the range's dot, not of
# `$m`) between `<think>` and `</think>` inside `range .Messages` is how Ollama infers the thinking tags,
# and the text opening the `{{ if .ToolCalls }}` block (`<tool_call>`) is its tool-call tag.

QWEN3_GO = """\
{{- $lastUser := -1 }}
{{- range $i, $m := .Messages }}{{ if eq $m.Role "user" }}{{ $lastUser = $i }}{{ end }}{{ end }}
{{- if .Tools }}<|im_start|>system
{{ if .System }}{{ .System }}

{{ end }}# Tools

These functions can be called; their JSON signatures are inside <tools></tools>:
<tools>
{{- range .Tools }}
{{ . }}
{{- end }}
</tools>

To call one, answer with its name and arguments as a JSON object inside <tool_call></tool_call> tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call><|im_end|>
{{ else if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ if and .Thinking (gt $i $lastUser) }}<think>
{{ .Thinking }}
</think>

{{ end }}{{ .Content }}
{{- if .ToolCalls }}<tool_call>
{{- range $j, $call := .ToolCalls }}{{ if $j }}
</tool_call>
<tool_call>{{ end }}
{"name": "{{ $call.Function.Name }}", "arguments": {{ $call.Function.Arguments }}}
{{- end }}
</tool_call>{{ end }}{{ if not $last }}<|im_end|>
{{ end }}
{{- else if eq .Role "tool" }}<|im_start|>user
<tool_response>
{{ .Content }}
</tool_response><|im_end|>
{{ end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
{{ if and $.IsThinkSet (not $.Think) }}<think>

</think>

{{ end }}
{{- end }}
{{- end }}"""
