"""olmo3-think / olmo3-32b-think: Ollama's Olmo3ThinkRenderer prompts."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin.olmo3_think import FUNCTIONS_SUFFIX, SYSTEM_31, SYSTEM_32B
from tests.renderers.builtin.cases import (
    Case,
    assistant,
    call,
    check,
    ids,
    system,
    tool_result,
    user,
    weather_tool,
)

GEN = "<|im_start|>assistant\n<think>"

CASES = [
    Case(
        "default_system_31",
        "olmo3-think",
        [user("Hi")],
        "<|im_start|>system\n" + SYSTEM_31 + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" + GEN,
    ),
    Case(
        "default_system_32b",
        "olmo3-32b-think",
        [user("Hi")],
        "<|im_start|>system\n" + SYSTEM_32B + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" + GEN,
    ),
    Case(
        "custom_system_gets_the_no_functions_suffix",
        "olmo3-32b-think",
        [system("Be brief."), user("Hi")],
        "<|im_start|>system\nBe brief."
        + FUNCTIONS_SUFFIX
        + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        + GEN,
    ),
    Case(
        "tools_and_tool_messages_are_ignored_and_assistants_always_closed",
        "olmo3-think",
        [user("Q"), assistant("A", tool_calls=[call("f")]), tool_result("r"), assistant("B")],
        "<|im_start|>system\n" + SYSTEM_31 + "<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
        "<|im_start|>assistant\nA<|im_end|>\n<|im_start|>assistant\nB<|im_end|>\n" + GEN,
        tools=[weather_tool()],
        think=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)
