"""deepseek3.1: Ollama's DeepSeek3Renderer prompts."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin.deepseek3 import BOS
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

R = "deepseek3.1"
U, A = "<｜User｜>", "<｜Assistant｜>"  # noqa: RUF001
EOS = "<｜end▁of▁sentence｜>"  # noqa: RUF001
CALLS_BEGIN, CALLS_END = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"  # noqa: RUF001
CALL_BEGIN, CALL_END, SEP = "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁sep｜>"  # noqa: RUF001
OUT_BEGIN, OUT_END = "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>"  # noqa: RUF001

TOOLS = (
    "\n\n## Tools\nYou have access to the following tools:\n"
    "\n### get_weather\nDescription: Get the current weather\n\nParameters: "
    '{"type":"object","required":["location"],"properties":'
    '{"location":{"type":"string","description":"The city"}}}\n'
    "\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n"
    + CALLS_BEGIN
    + CALL_BEGIN
    + "tool_call_name"
    + SEP
    + "tool_call_arguments"
    + CALL_END
    + "{{additional_tool_calls}}"
    + CALLS_END
    + "\n\nWhere:\n\n"
    "- `tool_call_name` must be an exact match to one of the available tools\n"
    "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n"
    "- For multiple tool calls, chain them directly without separators or spaces\n"
)

CASES = [
    Case("user_only", R, [user("Hello")], BOS + U + "Hello" + A + "</think>"),
    Case("thinking_on", R, [user("Hello")], BOS + U + "Hello" + A + "<think>", think=True),
    Case(
        "all_system_messages_go_first",
        R,
        [system("One."), user("Hi"), system("Two.")],
        BOS + "One.\n\nTwo." + U + "Hi" + A + "</think>",
    ),
    Case(
        "history_drops_reasoning_and_strips_think_tags",
        R,
        [user("Q1"), assistant("<think>hmm</think>A1", thinking="hmm"), user("Q2")],
        BOS + U + "Q1" + A + "</think>A1" + EOS + U + "Q2" + A + "<think>",
        think=True,
    ),
    Case(
        "current_turn_with_thinking_opens_think",
        R,
        [user("Q"), assistant("A", thinking="t")],
        BOS + U + "Q" + A + "<think>A" + EOS,
        think=True,
    ),
    Case(
        "tools_calls_and_results",
        R,
        [
            system("Be brief."),
            user("Weather?"),
            assistant("Sure.", tool_calls=[call("get_weather", {"location": "Paris"}), call("now")]),
            tool_result("22C"),
            assistant("It is 22C."),
            user("Thanks"),
        ],
        BOS
        + "Be brief."
        + TOOLS
        + U
        + "Weather?"
        + A
        + "</think>Sure."
        + CALLS_BEGIN
        + CALL_BEGIN
        + "get_weather"
        + SEP
        + '{"location":"Paris"}'
        + CALL_END
        + CALL_BEGIN
        + "now"
        + SEP
        + "{}"
        + CALL_END
        + CALLS_END
        + EOS
        + OUT_BEGIN
        + "22C"
        + OUT_END
        + "It is 22C."
        + EOS
        + U
        + "Thanks"
        + A
        + "</think>",
        tools=[weather_tool()],
    ),
    Case(
        "trailing_tool_result_has_no_generation_prompt",
        R,
        [user("Q"), assistant(tool_calls=[call("f", {"x": 1.5})]), tool_result("r")],
        BOS
        + U
        + "Q"
        + A
        + "</think>"
        + CALLS_BEGIN
        + CALL_BEGIN
        + "f"
        + SEP
        + '{"x":1.5}'
        + CALL_END
        + CALLS_END
        + EOS
        + OUT_BEGIN
        + "r"
        + OUT_END,
    ),
    Case("no_messages", R, [], BOS),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)
