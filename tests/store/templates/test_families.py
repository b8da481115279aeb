# ruff: noqa: E501  (the expected prompts are kept one per line, as they print)
"""Our Go templates render the prompts Ollama's built-in templates of the same names render.

The expected strings are the prompts for three conversations (written out here by hand from the
chat formats; they match what Ollama's own template files produce for the same messages).
"""

from __future__ import annotations

import pytest

from pyollama.store.templates.families import BY_NAME, FAMILIES
from pyollama.template import PromptTemplate

S = {"role": "system", "content": "Be brief."}
S2 = {"role": "system", "content": "Use French."}
U = {"role": "user", "content": "Hi"}
A = {"role": "assistant", "content": "Hello!"}
U2 = {"role": "user", "content": "2+2?"}

TURNS = {
    "chatml": "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
    "llama3-instruct": "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "gemma-instruct": "<start_of_turn>user\nBe brief.\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n",
    "gemma3-instruct": "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n\n",
    "mistral-instruct": "[INST] Be brief.\n\nHi[/INST] Hello!</s>[INST] 2+2?[/INST]",
    "phi-3": "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\n2+2?<|end|>\n<|assistant|>\n",
    "llama2-chat": "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello!</s><s>[INST] <<SYS>><</SYS>>\n\n2+2? [/INST]",
    "zephyr": "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n<|user|>\n2+2?</s>\n<|assistant|>\n",
    "openchat": "GPT4 Correct System: Be brief.<|end_of_turn|>GPT4 Correct User: Hi<|end_of_turn|>GPT4 Correct Assistant: Hello!<|end_of_turn|>GPT4 Correct User: 2+2?<|end_of_turn|>GPT4 Correct Assistant:",
    "alpaca": "Be brief.\n\n### Instruction:\nHi\n\n### Response:\nHello!\n\n### Instruction:\n2+2?\n\n### Response:\n",
    "starcoder2-instruct": "Be brief.\n\n### Instruction\nHi\n\n### Response\nHello!<|endoftext|>\n\n### Instruction\n2+2?\n\n### Response\n",
    "magicoder": "Be brief.\n\n@@ Instruction\nHi\n\n@@ Response\nHello!\n\n@@ Instruction\n2+2?\n\n@@ Response\n",
    "chatqa": "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: 2+2?\n\nAssistant:",
    "granite-instruct": "System:\nBe brief.\n\nQuestion:\nHi\n\nAnswer:\nHello!\n\nQuestion:\n2+2?\n\nAnswer:\n",
    "falcon-instruct": "System: Be brief.\nUser:\nHi\nFalcon:\nHello!\nUser:\n2+2?\nFalcon:\n",
    "solar-instruct": "### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\nHello!</s>\n\n### User:\n2+2?\n\n### Assistant:\n",
    "alfred": "<start_system>Be brief.<end_message><start_user>Hi<end_message><start_assistant>Hello!<end_message><start_user>2+2?<end_message><start_assistant>",
    "codellama-70b-instruct": "Source: system\n\n Be brief. <step> Source: user\n\n Hi <step> Source: assistant\n\n Hello! <step> Source: user\n\n 2+2? <step> Source: assistant\nDestination: user\n\n ",
}
ONE_USER = {
    "chatml": "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "llama3-instruct": "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "gemma-instruct": "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "gemma3-instruct": "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n\n",
    "mistral-instruct": "[INST] Hi[/INST]",
    "phi-3": "<|user|>\nHi<|end|>\n<|assistant|>\n",
    "llama2-chat": "[INST] <<SYS>><</SYS>>\n\nHi [/INST]",
    "zephyr": "<|user|>\nHi</s>\n<|assistant|>\n",
    "openchat": "GPT4 Correct User: Hi<|end_of_turn|>GPT4 Correct Assistant:",
    "alpaca": "### Instruction:\nHi\n\n### Response:\n",
    "starcoder2-instruct": "### Instruction\nHi\n\n### Response\n",
    "magicoder": "@@ Instruction\nHi\n\n@@ Response\n",
    "chatqa": "User: Hi\n\nAssistant:",
    "granite-instruct": "Question:\nHi\n\nAnswer:\n",
    "falcon-instruct": "User:\nHi\nFalcon:\n",
    "solar-instruct": "### User:\nHi\n\n### Assistant:\n",
    "alfred": "<start_user>Hi<end_message><start_assistant>",
    "codellama-70b-instruct": "Source: user\n\n Hi <step> Source: assistant\nDestination: user\n\n ",
}
TWO_SYSTEMS = {
    "chatml": "<|im_start|>system\nBe brief.\n\nUse French.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "llama3-instruct": "<|start_header_id|>system<|end_header_id|>\n\nBe brief.\n\nUse French.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "gemma-instruct": "<start_of_turn>user\nBe brief.\n\nUse French.\nHi<end_of_turn>\n<start_of_turn>model\n",
    "gemma3-instruct": "<start_of_turn>user\nBe brief.\n\nUse French.\n\nHi<end_of_turn>\n<start_of_turn>model\n\n",
    "mistral-instruct": "[INST] Be brief.\n\nUse French.\n\nHi[/INST]",
    "phi-3": "<|system|>\nBe brief.\n\nUse French.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n",
    "llama2-chat": "[INST] <<SYS>>\nBe brief.\n\nUse French.\n<</SYS>>\n\nHi [/INST]",
    "zephyr": "<|system|>\nBe brief.\n\nUse French.</s>\n<|user|>\nHi</s>\n<|assistant|>\n",
    "openchat": "GPT4 Correct System: Be brief.\n\nUse French.<|end_of_turn|>GPT4 Correct User: Hi<|end_of_turn|>GPT4 Correct Assistant:",
    "alpaca": "Be brief.\n\nUse French.\n\n### Instruction:\nHi\n\n### Response:\n",
    "starcoder2-instruct": "Be brief.\n\nUse French.\n\n### Instruction\nHi\n\n### Response\n",
    "magicoder": "Be brief.\n\nUse French.\n\n@@ Instruction\nHi\n\n@@ Response\n",
    "chatqa": "System: Be brief.\n\nUse French.\n\nUser: Hi\n\nAssistant:",
    "granite-instruct": "System:\nBe brief.\n\nUse French.\n\nQuestion:\nHi\n\nAnswer:\n",
    "falcon-instruct": "System: Be brief.\n\nUse French.\nUser:\nHi\nFalcon:\n",
    "solar-instruct": "### System:\nBe brief.\n\nUse French.\n\n### User:\nHi\n\n### Assistant:\n",
    "alfred": "<start_system>Be brief.\n\nUse French.<end_message><start_user>Hi<end_message><start_assistant>",
    "codellama-70b-instruct": "Source: system\n\n Be brief.\n\nUse French. <step> Source: user\n\n Hi <step> Source: assistant\nDestination: user\n\n ",
}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_prompts(name: str) -> None:
    t = PromptTemplate(BY_NAME[name].template)
    assert t.execute([S, U, A, U2]) == TURNS[name]
    assert t.execute([U]) == ONE_USER[name]
    assert t.execute([S, S2, U]) == TWO_SYSTEMS[name]


def test_every_family_is_pinned_and_parses_as_go() -> None:
    from pyollama.template import parse

    assert set(TURNS) == set(ONE_USER) == set(TWO_SYSTEMS) == {f.name for f in FAMILIES}
    for f in FAMILIES:
        parse(f.template)
        assert f.stop and all(f.stop)


def test_stop_lists_are_ollamas() -> None:
    assert BY_NAME["chatml"].stop == ("<|im_start|>", "<|im_end|>")
    assert BY_NAME["llama3-instruct"].stop == ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
    assert BY_NAME["gemma3-instruct"].stop == ("<end_of_turn>",)
    assert BY_NAME["phi-3"].stop == ("<|end|>", "<|system|>", "<|user|>", "<|assistant|>")
