"""qwen3-vl-instruct / qwen3-vl-thinking: Ollama's Qwen3VLRenderer prompts."""

from __future__ import annotations

import pytest

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

INSTRUCT = "qwen3-vl-instruct"
T = "qwen3-vl-thinking"

TOOLS_SYSTEM = (
    "<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user "
    "query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    '{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather", '
    '"parameters": {"type": "object", "required": ["location"], "properties": {"location": '
    '{"type": "string", "description": "The city"}}}}}'
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
)

CASES = [
    Case(
        "instruct_basic",
        INSTRUCT,
        [system("You are helpful."), user("Hello")],
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
        "<|im_start|>assistant\n",
    ),
    Case(
        "instruct_prefill_keeps_think_tags_as_text",
        INSTRUCT,
        [user("Story?"), assistant("abc<think>poetry</think>")],
        "<|im_start|>user\nStory?<|im_end|>\n<|im_start|>assistant\nabc<think>poetry</think>",
    ),
    Case(
        "instruct_images_tagged_in_order",
        INSTRUCT,
        [user("Describe these.", images=2), assistant("One."), user("And this?", images=1)],
        "<|im_start|>user\n[img-0][img-1] Describe these.<|im_end|>\n<|im_start|>assistant\nOne.<|im_end|>\n"
        "<|im_start|>user\n[img-2] And this?<|im_end|>\n<|im_start|>assistant\n",
    ),
    Case(
        "instruct_tools_calls_and_grouped_results",
        INSTRUCT,
        [
            system("Be brief."),
            user("Weather in Paris and Rome?"),
            assistant(
                "Checking.",
                tool_calls=[
                    call("get_weather", {"location": "Paris", "unit": "c"}),
                    call("get_weather", {"location": "Rome"}),
                ],
            ),
            tool_result("18", name="get_weather"),
            tool_result("25", name="get_weather"),
        ],
        TOOLS_SYSTEM
        + "<|im_start|>user\nWeather in Paris and Rome?<|im_end|>\n<|im_start|>assistant\nChecking.\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Paris", "unit": "c"}}'
        "\n</tool_call>\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Rome"}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\n18\n</tool_response>\n<tool_response>\n25\n</tool_response>"
        "<|im_end|>\n<|im_start|>assistant\n",
        tools=[weather_tool()],
    ),
    Case(
        "instruct_user_tool_response_is_kept_verbatim",
        INSTRUCT,
        [
            user("Q"),
            assistant("ok", tool_calls=[call("f", {"n": 1})]),
            user("\n<tool_response>\n1\n</tool_response> x\n"),
        ],
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nok\n"
        '<tool_call>\n{"name": "f", "arguments": {"n": 1}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n\n<tool_response>\n1\n</tool_response> x\n<|im_end|>\n<|im_start|>assistant\n",
    ),
    Case(
        "thinking_generation_prompt",
        T,
        [user("Hi")],
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n",
    ),
    Case(
        "thinking_off_by_request",
        T,
        [user("Hi")],
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        think=False,
    ),
    Case(
        "thinking_reasoning_after_the_last_query_is_kept",
        T,
        [
            user("Q"),
            assistant("", thinking="\nplan\n", tool_calls=[call("f", {"a": "b"})]),
            tool_result("r"),
            assistant("\nAnswer", thinking="done"),
        ],
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nplan"
        '<tool_call>\n{"name": "f", "arguments": {"a": "b"}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\nr\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n<think>\ndone\n</think>\n\nAnswer",
        note="with empty content Go leaves the think block open before the tool call",
    ),
    Case(
        "thinking_history_before_the_last_query_is_dropped",
        T,
        [user("Q1"), assistant("A1", thinking="t1"), user("Q2"), assistant("A2")],
        "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
        "<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA2",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)
