"""qwen3.5: Ollama's Qwen35Renderer prompts (thinking on by default, `[img-N]` tags)."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin.qwen3coder import TOOLS_POSTAMBLE
from pyollama.renderers.builtin.qwen35 import split_reasoning_content
from tests.renderers.builtin.cases import (
    Case,
    assistant,
    call,
    check,
    function_tool,
    ids,
    system,
    tool_result,
    user,
)

R = "qwen3.5"
GEN_THINK = "<|im_start|>assistant\n<think>\n"
GEN_NO_THINK = "<|im_start|>assistant\n<think>\n\n</think>\n\n"

ADD_TOOL = function_tool(
    "add", "Add two numbers", {"a": {"type": "integer"}, "b": {"type": "integer"}}, required=["a", "b"]
)
ADD_TOOL_JSON = (
    '{"type": "function", "function": {"name": "add", "description": "Add two numbers", "parameters": '
    '{"type": "object", "required": ["a", "b"], '
    '"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}}'
)
TOOLS_SYSTEM = (
    "<|im_start|>system\n# Tools\n\nYou have access to the following functions:\n\n<tools>\n"
    + ADD_TOOL_JSON
    + "\n</tools>"
    + TOOLS_POSTAMBLE
)

CASES = [
    Case("user_only_thinks_by_default", R, [user("Hi")], "<|im_start|>user\nHi<|im_end|>\n" + GEN_THINK),
    Case(
        "think_false_writes_an_empty_think_block",
        R,
        [user("Hi")],
        "<|im_start|>user\nHi<|im_end|>\n" + GEN_NO_THINK,
        think=False,
    ),
    Case(
        "system_is_trimmed",
        R,
        [system("  Be brief.\n"), user(" Hi ")],
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" + GEN_THINK,
        think="high",
    ),
    Case(
        "tools_then_system_after_the_instructions",
        R,
        [system("Be brief."), user("2+3?")],
        TOOLS_SYSTEM + "\n\nBe brief.<|im_end|>\n<|im_start|>user\n2+3?<|im_end|>\n" + GEN_THINK,
        tools=[ADD_TOOL],
    ),
    Case(
        "history_reasoning_dropped_before_the_last_query",
        R,
        [
            user("Q1"),
            assistant("A1", thinking="old thoughts"),
            user("Q2"),
        ],
        "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
        "<|im_start|>user\nQ2<|im_end|>\n" + GEN_THINK,
    ),
    Case(
        "tagged_reasoning_cut_out_of_history",
        R,
        [user("Q1"), assistant("<think>hmm</think>\n\nA1"), user("Q2")],
        "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
        "<|im_start|>user\nQ2<|im_end|>\n" + GEN_THINK,
    ),
    Case(
        "interleaved_thinking_and_tool_calls_after_the_query",
        R,
        [
            user("2+3?"),
            assistant("Adding.", thinking="Use add.", tool_calls=[call("add", {"a": 2, "b": 3})]),
            tool_result("5"),
            tool_result("extra"),
        ],
        "<|im_start|>user\n2+3?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\nUse add.\n</think>\n\nAdding.\n\n"
        "<tool_call>\n<function=add>\n<parameter=a>\n2\n</parameter>\n<parameter=b>\n3\n</parameter>\n"
        "</function>\n</tool_call><|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n5\n</tool_response>\n<tool_response>\nextra\n</tool_response>"
        "<|im_end|>\n" + GEN_THINK,
    ),
    Case(
        "user_tool_response_turn_is_not_the_last_query",
        R,
        [
            user("Q"),
            assistant("calling", thinking="t1", tool_calls=[call("f"), call("g")]),
            user("<tool_response>\nok\n</tool_response>"),
            assistant("done", thinking="t2"),
        ],
        "<|im_start|>user\nQ<|im_end|>\n"
        "<|im_start|>assistant\n<think>\nt1\n</think>\n\ncalling\n\n<tool_call>\n<function=f>\n</function>\n"
        "</tool_call>\n<tool_call>\n<function=g>\n</function>\n</tool_call><|im_end|>\n"
        "<|im_start|>user\n<tool_response>\nok\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n<think>\nt2\n</think>\n\ndone",
    ),
    Case(
        "assistant_prefill_with_thinking",
        R,
        [user("Two words."), assistant("Hello world", thinking="Keep it short.")],
        "<|im_start|>user\nTwo words.<|im_end|>\n<|im_start|>assistant\n<think>\nKeep it short.\n</think>\n\n"
        "Hello world",
    ),
    Case(
        "no_thinking_keeps_history_plain",
        R,
        [user("Q"), assistant("A", thinking="t"), tool_result("r")],
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
        "<|im_start|>user\n<tool_response>\nr\n</tool_response><|im_end|>\n" + GEN_NO_THINK,
        think=False,
    ),
    Case(
        "images_numbered_across_the_chat",
        R,
        [user("Compare", images=2), assistant("Sure."), user("And [img] this", images=1)],
        "<|im_start|>user\n[img-0][img-1] Compare<|im_end|>\n<|im_start|>assistant\nSure.<|im_end|>\n"
        "<|im_start|>user\nAnd [img-2] this<|im_end|>\n" + GEN_THINK,
    ),
    Case(
        "later_system_messages_render_in_place_and_unknown_roles_are_dropped",
        R,
        [user("Hi"), system("Now be formal."), {"role": "developer", "content": "x"}],
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>system\nNow be formal.<|im_end|>\n" + GEN_THINK,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)


def test_split_reasoning_content() -> None:
    assert split_reasoning_content("x<think> a </think>\n\nrest", "", False) == ("a", "rest")
    assert split_reasoning_content("no close <think>", "", False) == ("", "no close <think>")
    assert split_reasoning_content("before</think>after", "", False) == ("before", "after")
    assert split_reasoning_content("c</think>d", " own ", True) == ("own", "c</think>d")
