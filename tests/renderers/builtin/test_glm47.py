"""glm-4.7: Ollama's GLM47Renderer prompts."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin._api import OrderedMap
from pyollama.renderers.builtin.glm47 import render_tool_arguments
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

R = "glm-4.7"
START = "[gMASK]<sop>"
TOOLS = (
    "<|system|>\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    '{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather", '
    '"parameters": {"type": "object", "required": ["location"], '
    '"properties": {"location": {"type": "string", '
    '"description": "The city"}}}}}\n'
    "</tools>\n\nFor each function call, output the function name and arguments within the following XML "
    "format:\n<tool_call>{function-name}<arg_key>{arg-key-1}</arg_key><arg_value>{arg-value-1}</arg_value>"
    "<arg_key>{arg-key-2}</arg_key><arg_value>{arg-value-2}</arg_value>...</tool_call>"
)

CASES = [
    Case("user_thinks_by_default", R, [user("Hello")], START + "<|user|>Hello<|assistant|><think>"),
    Case("think_false", R, [user("Hello")], START + "<|user|>Hello<|assistant|></think>", think=False),
    Case(
        "system_user",
        R,
        [system("Be helpful."), user("Hi")],
        START + "<|system|>Be helpful.<|user|>Hi<|assistant|><think>",
        think="high",
    ),
    Case(
        "history_keeps_reasoning",
        R,
        [user("Q1"), assistant("A1", thinking="plan"), user("Q2"), assistant("A2")],
        START
        + "<|user|>Q1<|assistant|><think>plan</think>A1<|user|>Q2<|assistant|></think>A2<|assistant|><think>",
    ),
    Case(
        "tools_calls_and_observations",
        R,
        [
            user("Weather?"),
            assistant(
                tool_calls=[
                    call("get_weather", {"location": "Tokyo", "days": 3, "opts": {"b": 1, "a": [True]}})
                ]
            ),
            tool_result('{"t":22}'),
            tool_result("second"),
        ],
        START + TOOLS + "<|user|>Weather?<|assistant|></think><tool_call>get_weather"
        "<arg_key>location</arg_key><arg_value>Tokyo</arg_value><arg_key>days</arg_key><arg_value>3</arg_value>"
        '<arg_key>opts</arg_key><arg_value>{"a":[true],"b":1}</arg_value></tool_call>'
        '<|observation|><tool_response>{"t":22}</tool_response><tool_response>second</tool_response>'
        "<|assistant|><think>",
        tools=[weather_tool()],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)


def test_tool_arguments_strings_raw_others_json() -> None:
    args = OrderedMap({"s": "<raw>", "n": None, "f": 0.25, "big": 1e21})
    assert render_tool_arguments(args) == (
        "<arg_key>s</arg_key><arg_value><raw></arg_value><arg_key>n</arg_key><arg_value>null</arg_value>"
        "<arg_key>f</arg_key><arg_value>0.25</arg_value><arg_key>big</arg_key><arg_value>1e+21</arg_value>"
    )
