# ruff: noqa: E501  (one sample template per line)
"""Detecting a built-in family from a GGUF's Jinja chat template by the markers it must print."""

from __future__ import annotations

import pytest

from pyollama.store.templates import detect, detect_family

# Short Jinja templates of our own in each family's format (not copies of any model's template)
SAMPLES = {
    "chatml": "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "llama3-instruct": "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + "
    "'<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}{% endfor %}",
    "gemma-instruct": "{% for m in messages %}{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' "
    "else m['role']) + '\\n' + m['content'] + '<end_of_turn>\\n' }}{% endfor %}",
    "gemma3-instruct": "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}{% for m in messages %}"
    "{{ '<start_of_turn>' + m['role'] + '\\n' }}{{ m['content'] }}{{ '<end_of_turn>\\n' }}{% endfor %}",
    "mistral-instruct": "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}"
    "{{ '[INST] ' + m['content'] + ' [/INST]' }}{% else %}{{ m['content'] + eos_token }}{% endif %}{% endfor %}",
    "llama2-chat": "{% for m in messages %}{{ '[INST] <<SYS>>\\n' + m['content'] + '\\n<</SYS>> [/INST]' }}"
    "{% endfor %}",
    "phi-3": "{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'] + '<|end|>\\n' }}{% endfor %}"
    "{{ '<|assistant|>\\n' }}",
    "zephyr": "{% for m in messages %}{{ '<|user|>\\n' + m['content'] + eos_token }}{% endfor %}{{ '<|assistant|>' }}",
    "openchat": "{% for m in messages %}{{ 'GPT4 Correct ' + m['role'].title() + ': ' + m['content'] + "
    "'<|end_of_turn|>' }}{% endfor %}",
    "alpaca": "{% for m in messages %}{{ '### Instruction:\\n' + m['content'] }}{% endfor %}{{ '### Response:' }}",
    "starcoder2-instruct": "{% for m in messages %}{{ '### Instruction\n' + m['content'] }}{% endfor %}"
    "{{ '### Response\n' }}",
    "magicoder": "{% for m in messages %}{{ '@@ Instruction\\n' + m['content'] }}{% endfor %}{{ '@@ Response' }}",
    "solar-instruct": "{% for m in messages %}{{ '### User:\\n' + m['content'] }}{% endfor %}{{ '### Assistant:' }}",
    "falcon-instruct": "{% for m in messages %}{{ 'User: ' + m['content'] }}{% endfor %}{{ 'Falcon:' }}",
    "granite-instruct": "{% for m in messages %}{{ 'Question:\\n' + m['content'] }}{% endfor %}{{ 'Answer:\\n' }}",
    "chatqa": "{% for m in messages %}{{ 'User: ' + m['content'] }}{% endfor %}{{ 'Assistant:' }}",
    "alfred": "{% for m in messages %}{{ '<start_user>' + m['content'] + '<end_message>' }}{% endfor %}"
    "{{ '<start_assistant>' }}",
    "codellama-70b-instruct": "{% for m in messages %}{{ 'Source: ' + m['role'] + '\\n\\n ' + m['content'] + "
    "' <step> ' }}{% endfor %}{{ 'Source: assistant\\nDestination: user\\n\\n ' }}",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_family_markers(name: str) -> None:
    f = detect_family(SAMPLES[name])
    assert f is not None and f.name == name


@pytest.mark.parametrize(
    "richer",
    [
        SAMPLES["chatml"] + "{% if tools %}{{ tools | tojson }}{% endif %}",
        SAMPLES["chatml"] + "{% for tc in message.tool_calls %}{{ tc }}{% endfor %}",
        SAMPLES["chatml"] + "{% if enable_thinking %}{{ '<think>' }}{% endif %}",
        SAMPLES["llama3-instruct"] + "{{ message.reasoning_content }}",
    ],
)
def test_templates_that_do_more_keep_the_jinja_path(richer: str) -> None:
    assert detect(richer) is None


def test_unknown_empty_and_huge_templates() -> None:
    assert detect("") is None
    assert detect("{% for m in messages %}{{ m['content'] }}{% endfor %}") is None
    assert detect(SAMPLES["chatml"] + " " * 5000) is None


def test_detect_gives_template_and_stop() -> None:
    found = detect(SAMPLES["chatml"].replace("\n", "\r\n"))
    assert found is not None
    name, text, params = found
    assert (
        name == "chatml"
        and text.startswith("{{- range")
        and params == {"stop": ["<|im_start|>", "<|im_end|>"]}
    )
