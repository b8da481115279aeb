"""olmo3 / olmo3.1: Ollama's Olmo3Renderer prompts."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin.olmo3 import DEFAULT_SYSTEM, DEFAULT_SYSTEM_31, NO_FUNCTIONS, WITH_FUNCTIONS
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
    weather_tool,
)

R, R31 = "olmo3", "olmo3.1"
NO_TOOLS_SYSTEM = (
    "<|im_start|>system\n" + DEFAULT_SYSTEM + NO_FUNCTIONS + "<functions></functions><|im_end|>\n"
)
WEATHER_FUNCTIONS = (
    '<functions>[{"type": "function", "function": {"name": "get_weather", '
    '"description": "Get the current weather", "parameters": {"type": "object", "required": ["location"], '
    '"properties": {"location": {"type": "string", '
    '"description": "The city"}}}}}]</functions>'
)
GEN = "<|im_start|>assistant\n"

CASES = [
    Case("user_only", R, [user("Hi")], NO_TOOLS_SYSTEM + "<|im_start|>user\nHi<|im_end|>\n" + GEN),
    Case(
        "olmo31_default_system",
        R31,
        [user("Hi")],
        "<|im_start|>system\n" + DEFAULT_SYSTEM_31 + NO_FUNCTIONS + "<functions></functions><|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n" + GEN,
    ),
    Case(
        "custom_system_with_tools",
        R,
        [system("You are a helpful assistant."), user("Weather?")],
        "<|im_start|>system\nYou are a helpful assistant." + WEATHER_FUNCTIONS + "<|im_end|>\n"
        "<|im_start|>user\nWeather?<|im_end|>\n" + GEN,
        tools=[weather_tool()],
    ),
    Case(
        "default_system_with_tools",
        R,
        [user("Weather?")],
        "<|im_start|>system\n" + DEFAULT_SYSTEM + WITH_FUNCTIONS + WEATHER_FUNCTIONS + "<|im_end|>\n"
        "<|im_start|>user\nWeather?<|im_end|>\n" + GEN,
        tools=[weather_tool()],
    ),
    Case(
        "calls_with_sorted_json_arguments_and_environment_results",
        R,
        [
            user("Book it"),
            assistant(
                "Booking.",
                tool_calls=[call("book", {"to": "NYC", "from": "SFO", "seats": 2}), call("ping")],
            ),
            tool_result('{"ok": true}'),
        ],
        NO_TOOLS_SYSTEM + "<|im_start|>user\nBook it<|im_end|>\n"
        '<|im_start|>assistant\nBooking.<function_calls>book(from="SFO", seats=2, to="NYC")\nping()'
        "</function_calls><|im_end|>\n"
        '<|im_start|>environment\n{"ok": true}<|im_end|>\n' + GEN,
    ),
    Case(
        "content_prefill_stays_open",
        R,
        [user("Hi"), assistant("Hel")],
        NO_TOOLS_SYSTEM + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHel",
    ),
    Case(
        "empty_trailing_assistant_still_gets_a_generation_prompt",
        R,
        [user("Hi"), assistant("")],
        NO_TOOLS_SYSTEM + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" + GEN,
    ),
    Case(
        "later_system_messages_are_dropped",
        R,
        [system("First."), user("Hi"), system("Second.")],
        "<|im_start|>system\nFirst.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" + GEN,
    ),
    Case(
        "tool_json_spacing_outside_strings_only",
        R,
        [system("S")],
        "<|im_start|>system\nS"
        '<functions>[{"type": "function", "function": {"name": "t", "description": "a:b, \\u003cc\\u003e", '
        '"parameters": {"type": "object", "properties": null}}}]</functions><|im_end|>\n' + GEN,
        tools=[function_tool("t", "a:b, <c>")],
        note="marshalWithSpaces keeps json.Marshal's HTML escaping; no properties marshal as null",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)
