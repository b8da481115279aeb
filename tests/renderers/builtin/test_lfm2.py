"""lfm2 / lfm2-thinking: Ollama's LFM2Renderer prompts."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin._api import decode_tool
from pyollama.renderers.builtin.lfm2 import BOS, lfm2_json
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

R, T = "lfm2", "lfm2-thinking"
GEN = "<|im_start|>assistant\n"
CALL_PARIS = '<|tool_call_start|>[get_weather(location="Paris")]<|tool_call_end|>'


def paris() -> dict[str, object]:
    return call("get_weather", {"location": "Paris"})


CASES = [
    Case("user_only", R, [user("Hello")], BOS + "<|im_start|>user\nHello<|im_end|>\n" + GEN, think=False),
    Case(
        "system_and_user",
        R,
        [system("Be helpful."), user("Hi")],
        BOS + "<|im_start|>system\nBe helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" + GEN,
    ),
    Case(
        "tool_list_joins_the_first_system_message",
        R,
        [system("Follow instructions."), user("Do work")],
        BOS + "<|im_start|>system\nFollow instructions.\nList of tools: <|tool_list_start|>["
        '{"name": "tool_a", "parameters": {"type": "object", "properties": null}}, '
        '{"name": "tool_b", "description": "<b>", "parameters": {"type": "object", "properties": '
        '{"q": {"type": "string", "description": "\\u003cq\\u003e"}}}}'
        "]<|tool_list_end|><|im_end|>\n<|im_start|>user\nDo work<|im_end|>\n" + GEN,
        tools=[
            function_tool("tool_a"),
            function_tool("tool_b", "<b>", {"q": {"type": "string", "description": "<q>"}}),
        ],
        note="HTML escaping is off, except inside the ordered property map, which marshals itself",
    ),
    Case(
        "calls_sorted_and_results_wrapped",
        R,
        [
            user("Call"),
            assistant(tool_calls=[call("f", {"b": [1, 2.5], "a": "x<y"}), paris()]),
            tool_result("22C"),
        ],
        BOS + "<|im_start|>user\nCall<|im_end|>\n<|im_start|>assistant\n"
        '<|tool_call_start|>[f(a="x<y",b=[1, 2.5]),get_weather(location="Paris")]<|tool_call_end|>'
        "<|im_end|>\n"
        "<|im_start|>tool\n<|tool_response_start|>22C<|tool_response_end|><|im_end|>\n" + GEN,
    ),
    Case(
        "call_with_content_is_a_prefill",
        R,
        [user("Call"), assistant("Checking now.", tool_calls=[paris()])],
        BOS + "<|im_start|>user\nCall<|im_end|>\n<|im_start|>assistant\n" + CALL_PARIS + "\nChecking now.",
    ),
    Case(
        "thinking_stripped_from_earlier_turns_when_off",
        T,
        [user("Q1"), assistant("<think>r1</think>A1"), user("Q2"), assistant("<think>r2</think>A2")],
        BOS + "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
        "<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>r2</think>A2",
        think=False,
    ),
    Case(
        "thinking_field_rebuilt_and_kept_when_on",
        T,
        [user("Q1"), assistant("A1", thinking="r1"), user("Q2")],
        BOS + "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n<think>r1</think>A1<|im_end|>\n"
        "<|im_start|>user\nQ2<|im_end|>\n" + GEN,
        think=True,
    ),
    Case(
        "thinking_precedes_tool_calls",
        T,
        [user("Weather?"), assistant(thinking="Check it.", tool_calls=[paris()]), tool_result("22C")],
        BOS
        + "<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n<think>Check it.</think>"
        + CALL_PARIS
        + "<|im_end|>\n<|im_start|>tool\n<|tool_response_start|>22C<|tool_response_end|><|im_end|>\n"
        + GEN,
        think=True,
    ),
    Case(
        "non_thinking_variant_never_writes_think_tags",
        R,
        [user("Hi"), assistant("Hello", thinking="reasoning")],
        BOS + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello",
    ),
    Case(
        "other_roles_verbatim",
        R,
        [{"role": "developer", "content": "Do X"}, user("Hi")],
        BOS + "<|im_start|>developer\nDo X<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" + GEN,
    ),
    Case("no_messages", R, [], BOS + GEN),
    Case(
        "images_count_the_system_message_too",
        R,
        [
            {"role": "system", "content": "S", "images": ["aGk="]},
            user("Look", images=2),
            user("[img] again", images=1),
        ],
        BOS + "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n[img-1][img-2] Look<|im_end|>\n"
        "<|im_start|>user\n[img-3] again<|im_end|>\n" + GEN,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)


def test_lfm2_json_spacing_and_escaping() -> None:
    tool = decode_tool(
        {
            "type": "function",
            "function": {"name": "echo", "description": "<html>", "parameters": {"type": "object"}},
        }
    )
    assert lfm2_json(tool) == (
        '{"type": "function", "function": {"name": "echo", "description": "<html>", '
        '"parameters": {"type": "object", "properties": null}}}'
    )
    assert lfm2_json({"k": "a:b, c", "n": [1, {"z": None}]}) == '{"k": "a:b, c", "n": [1, {"z": null}]}'
