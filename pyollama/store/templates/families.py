"""pyollama's own Go templates for the chat formats Ollama ships built-in (its template/*.gotmpl).

Each renders the same prompt bytes as Ollama's template of the same name for the same messages
(tests/store/templates/ pins that with our own conversations), so a model created from a GGUF
without TEMPLATE prompts the way Ollama would prompt it. The stop lists are the facts Ollama writes
into the params layer beside the template (only `stop`: Ollama reads its .json files into a struct
with no other field, so e.g. gemma3-instruct's temperature never reaches the model).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    template: str
    stop: tuple[str, ...]


# System messages folded into one text (joined by a blank line) for formats that print the system
# prompt inside the next user turn.
_FOLD_SYSTEM = (
    '{{- if eq .Role "system" }}{{ if $sys }}{{ $sys = printf "%s\\n\\n%s" $sys .Content }}'
    "{{ else }}{{ $sys = .Content }}{{ end }}"
)

CHATML = Family(
    "chatml",
    "{{- range $m := .Messages }}<|im_start|>{{ $m.Role }}\n"
    "{{ $m.Content }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n",
    ("<|im_start|>", "<|im_end|>"),
)

LLAMA3 = Family(
    "llama3-instruct",
    "{{- range $m := .Messages }}<|start_header_id|>{{ $m.Role }}<|end_header_id|>\n\n"
    "{{ $m.Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
    ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
)

GEMMA = Family(
    "gemma-instruct",
    '{{- $sys := "" }}{{ range .Messages }}' + _FOLD_SYSTEM + "{{ else }}"
    '{{- if eq .Role "user" }}<start_of_turn>user{{ if $sys }}\n{{ $sys }}{{ $sys = "" }}{{ end }}'
    '{{- else if eq .Role "assistant" }}<start_of_turn>model{{ end }}\n'
    "{{ .Content }}<end_of_turn>\n"
    "{{ end }}{{ end }}<start_of_turn>model\n",
    ("<start_of_turn>", "<end_of_turn>"),
)

GEMMA3 = Family(
    "gemma3-instruct",
    "{{- range $i, $m := .Messages }}"
    '{{- if eq $m.Role "user" }}<start_of_turn>user\n'
    "{{ if and (eq $i 1) $.System }}{{ $.System }}\n\n{{ end }}{{ $m.Content }}<end_of_turn>\n"
    '{{ else if eq $m.Role "assistant" }}<start_of_turn>model\n{{ $m.Content }}<end_of_turn>\n{{ end }}'
    "{{- if eq (len (slice $.Messages $i)) 1 }}<start_of_turn>model\n{{ end }}"
    "{{- end }}\n",
    ("<end_of_turn>",),
)

MISTRAL = Family(
    "mistral-instruct",
    "[INST] {{ range .Messages }}"
    '{{- if eq .Role "system" }}{{ .Content }}\n\n'
    '{{ else if eq .Role "user" }}{{ .Content }}[/INST]'
    '{{ else if eq .Role "assistant" }} {{ .Content }}</s>[INST] {{ end }}'
    "{{- end }}",
    ("<|im_start|>", "<|im_end|>"),  # sic: what Ollama's mistral-instruct.json says
)

PHI3 = Family(
    "phi-3",
    "{{- range $m := .Messages }}<|{{ $m.Role }}|>\n{{ $m.Content }}<|end|>\n{{ end }}<|assistant|>\n",
    ("<|end|>", "<|system|>", "<|user|>", "<|assistant|>"),
)

LLAMA2 = Family(
    "llama2-chat",
    "{{- $sys := \"\" }}[INST] {{ range .Messages }}" + _FOLD_SYSTEM +
    "{{- else if eq .Role \"user\" }}<<SYS>>{{ if $sys }}\n{{ $sys }}\n{{ $sys = \"\" }}{{ end }}<</SYS>>\n\n"
    "{{ .Content }} [/INST]"
    "{{- else if eq .Role \"assistant\" }} {{ .Content }}</s><s>[INST] {{ end }}"
    "{{- end }}",
    ("[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"),
)  # fmt: skip

ZEPHYR = Family(
    "zephyr",
    "{{- range $m := .Messages }}<|{{ $m.Role }}|>\n{{ $m.Content }}</s>\n{{ end }}<|assistant|>\n",
    ("<|system|>", "</s>", "<|user|>", "<|assistant|>"),
)

OPENCHAT = Family(
    "openchat",
    "{{- range .Messages }}GPT4 Correct"
    '{{- if eq .Role "system" }} System:{{ else if eq .Role "user" }} User:'
    '{{- else if eq .Role "assistant" }} Assistant:{{ end }} {{ .Content }}<|end_of_turn|>'
    "{{- end }}GPT4 Correct Assistant:",
    ("<|end_of_turn|>",),
)


def _instruction_format(
    name: str, instruction: str, response: str, end: str, stop: tuple[str, ...]
) -> Family:
    """Alpaca-like formats: folded system text before the next instruction, then headed turns."""
    return Family(
        name,
        "{{- $sys := \"\" }}{{ range .Messages }}" + _FOLD_SYSTEM +
        "{{- else if eq .Role \"user\" }}{{ if $sys }}{{ $sys }}\n\n{{ $sys = \"\" }}{{ end }}"
        f"{instruction}\n{{{{ .Content }}}}\n\n"
        f"{{{{ else if eq .Role \"assistant\" }}}}{response}\n{{{{ .Content }}}}{end}\n\n{{{{ end }}}}"
        f"{{{{- end }}}}{response}\n",
        stop,
    )  # fmt: skip


ALPACA = _instruction_format(
    "alpaca", "### Instruction:", "### Response:", "", ("### Instruction:", "### Response")
)
STARCODER2 = _instruction_format(
    "starcoder2-instruct",
    "### Instruction",
    "### Response",
    "<|endoftext|>",
    ("### Instruction", "### Response", "<|endoftext|>"),
)

MAGICODER = Family(
    "magicoder",
    '{{- $sys := "" }}{{ range .Messages }}' + _FOLD_SYSTEM + "{{ else }}"
    '{{- if eq .Role "user" }}{{ if $sys }}{{ $sys }}\n\n{{ $sys = "" }}{{ end }}@@ Instruction'
    '{{- else if eq .Role "assistant" }}@@ Response{{ end }}\n{{ .Content }}\n\n'
    "{{ end }}{{ end }}@@ Response\n",
    ("@@ Instruction", "@@ Response"),
)


def _labelled(name: str, labels: tuple[str, str, str], sep: str, end: str, stop: tuple[str, ...]) -> Family:
    """`<Label><sep><content>\\n\\n` per message (system, user, assistant labels), then `end`."""
    system, user, assistant = labels
    return Family(
        name,
        "{{- range .Messages }}"
        f'{{{{- if eq .Role "system" }}}}{system}{{{{ else if eq .Role "user" }}}}{user}'
        f'{{{{- else if eq .Role "assistant" }}}}{assistant}{{{{ end }}}}{sep}{{{{ .Content }}}}\n\n'
        f"{{{{ end }}}}{end}",
        stop,
    )


CHATQA = _labelled(
    "chatqa",
    ("System:", "User:", "Assistant:"),
    " ",
    "Assistant:",
    ("System:", "User:", "Assistant:", "<|begin_of_text|>"),
)
GRANITE = _labelled(
    "granite-instruct",
    ("System:", "Question:", "Answer:"),
    "\n",
    "Answer:\n",
    ("System:", "Question:", "Answer:"),
)

FALCON = Family(
    "falcon-instruct",
    "{{- range .Messages }}"
    '{{- if eq .Role "system" }}System: {{ .Content }}\n'
    '{{ else }}{{ if eq .Role "user" }}User:{{ else if eq .Role "assistant" }}Falcon:{{ end }}\n'
    "{{ .Content }}\n{{ end }}"
    "{{- end }}Falcon:\n",
    ("User:", "Assistant:"),
)

SOLAR = Family(
    "solar-instruct",
    "{{- range .Messages }}"
    '{{- if eq .Role "assistant" }}### Assistant:\n{{ .Content }}</s>\n\n'
    '{{ else }}{{ if eq .Role "system" }}### System:{{ else if eq .Role "user" }}### User:{{ end }}\n'
    "{{ .Content }}\n\n{{ end }}"
    "{{- end }}### Assistant:\n",
    ("### System:", "### User:", "### Assistant"),
)

ALFRED = Family(
    "alfred",
    "{{- range $m := .Messages }}<start_{{ $m.Role }}>{{ $m.Content }}<end_message>"
    "{{ end }}<start_assistant>",
    ("<start_system>", "<end_message>", "<start_user>", "<start_assistant>"),
)

CODELLAMA70B = Family(
    "codellama-70b-instruct",
    '{{- range .Messages }}Source:{{ if eq .Role "system" }} system{{ else if eq .Role "user" }} user'
    '{{- else if eq .Role "assistant" }} assistant{{ end }}\n\n {{ .Content }} <step> '
    "{{ end }}Source: assistant\nDestination: user\n\n ",
    ("Source:", "Destination:", "<step>"),
)

FAMILIES: tuple[Family, ...] = (
    CHATML,
    LLAMA3,
    GEMMA,
    GEMMA3,
    MISTRAL,
    PHI3,
    LLAMA2,
    ZEPHYR,
    OPENCHAT,
    ALPACA,
    STARCODER2,
    MAGICODER,
    CHATQA,
    GRANITE,
    FALCON,
    SOLAR,
    ALFRED,
    CODELLAMA70B,
)
BY_NAME = {f.name: f for f in FAMILIES}
