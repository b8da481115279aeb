"""qwen3-coder: Ollama's Qwen3CoderRenderer prompts."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin.qwen3coder import (
    DEFAULT_SYSTEM,
    TOOLS_POSTAMBLE,
    format_tool_call_argument,
    format_tool_definition_type,
)
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

R = "qwen3-coder"
TOOLS_HEAD = "\n\n# Tools\n\nYou have access to the following functions:\n\n<tools>"
TOOLS_TAIL = "\n</tools>" + TOOLS_POSTAMBLE


def unit_tool() -> dict[str, object]:
    return function_tool(
        "get_weather",
        "Get the weather",
        {"unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The unit"}},
        required=["unit"],
    )


UNIT_TOOL_DEF = (
    "\n<function>\n<name>get_weather</name>\n<description>Get the weather</description>\n<parameters>"
    "\n<parameter>\n<name>unit</name>\n<type>string</type>\n<description>The unit</description>"
    '\n<enum>["celsius","fahrenheit"]</enum>\n</parameter>'
    '\n<required>["unit"]</required>\n</parameters>\n</function>'
)

CASES = [
    Case(
        "system_and_user",
        R,
        [system("You are a helpful assistant."), user("Hello")],
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    ),
    Case(
        "user_only_has_no_system_turn",
        R,
        [user("Hello")],
        "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    ),
    Case(
        "first_system_wins_and_other_roles_pass_through",
        R,
        [system("First."), user("Hi"), system("Second."), {"role": "developer", "content": "Dev"}],
        "<|im_start|>system\nFirst.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>developer\nDev<|im_end|>\n<|im_start|>assistant\n",
    ),
    Case(
        "tools_call_result_and_follow_up",
        R,
        [
            system("Use tools."),
            user("Weather?"),
            assistant("Checking.", tool_calls=[call("get_weather", {"unit": "celsius"})]),
            tool_result('{"temp": 20}', name="get_weather"),
            user("Thanks"),
        ],
        "<|im_start|>system\nUse tools."
        + TOOLS_HEAD
        + UNIT_TOOL_DEF
        + TOOLS_TAIL
        + "<|im_end|>\n<|im_start|>user\nWeather?<|im_end|>\n"
        "<|im_start|>assistant\nChecking.\n\n<tool_call>\n<function=get_weather>\n<parameter=unit>\ncelsius"
        "\n</parameter>\n</function>\n</tool_call><|im_end|>\n"
        '<|im_start|>user\n<tool_response>\n{"temp": 20}\n</tool_response><|im_end|>\n'
        "<|im_start|>user\nThanks<|im_end|>\n<|im_start|>assistant\n",
        tools=[unit_tool()],
    ),
    Case(
        "tools_without_system_use_the_default_system_message",
        R,
        [user("Hi")],
        "<|im_start|>system\n"
        + DEFAULT_SYSTEM
        + TOOLS_HEAD
        + "\n<function>\n<name>ping</name>\n<parameters>\n</parameters>\n</function>"
        + TOOLS_TAIL
        + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        tools=[function_tool("ping", properties={})],
    ),
    Case(
        "parallel_calls_and_grouped_results",
        R,
        [
            user("double 1, triple 2"),
            assistant(tool_calls=[call("double", {"n": "1"}), call("triple", {"n": "2"})]),
            tool_result("2"),
            tool_result("6"),
        ],
        "<|im_start|>user\ndouble 1, triple 2<|im_end|>\n<|im_start|>assistant\n"
        "\n<tool_call>\n<function=double>\n<parameter=n>\n1\n</parameter>\n</function>\n</tool_call>"
        "\n<tool_call>\n<function=triple>\n<parameter=n>\n2\n</parameter>\n</function>\n</tool_call><|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n2\n</tool_response>\n<tool_response>\n6\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n",
    ),
    Case(
        "assistant_prefill_stays_open",
        R,
        [user("Tell me something."), assistant("Cats")],
        "<|im_start|>user\nTell me something.<|im_end|>\n<|im_start|>assistant\nCats",
    ),
    Case(
        "trailing_tool_call_turn_is_closed_without_a_generation_prompt",
        R,
        [user("go"), assistant(tool_calls=[call("run")])],
        "<|im_start|>user\ngo<|im_end|>\n<|im_start|>assistant\n"
        "\n<tool_call>\n<function=run>\n</function>\n</tool_call><|im_end|>\n",
    ),
    Case(
        "argument_values_in_client_order",
        R,
        [
            user("x"),
            assistant(
                tool_calls=[
                    call(
                        "f",
                        {
                            "z": {"b": 1, "a": "<x>"},
                            "count": 1000000,
                            "ratio": 0.5,
                            "flag": True,
                            "none": None,
                            "list": [1, "two"],
                        },
                    )
                ]
            ),
        ],
        "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n\n<tool_call>\n<function=f>"
        '\n<parameter=z>\n{"a":"\\u003cx\\u003e","b":1}\n</parameter>'
        "\n<parameter=count>\n1e+06\n</parameter>"
        "\n<parameter=ratio>\n0.5\n</parameter>"
        "\n<parameter=flag>\ntrue\n</parameter>"
        "\n<parameter=none>\nnull\n</parameter>"
        '\n<parameter=list>\n[1,"two"]\n</parameter>'
        "\n</function>\n</tool_call><|im_end|>\n",
    ),
    Case(
        "schema_extras_items_and_nested_properties",
        R,
        [user("x")],
        "<|im_start|>system\n"
        + DEFAULT_SYSTEM
        + TOOLS_HEAD
        + "\n<function>\n<name>batch</name>\n<parameters>"
        '\n<parameter>\n<name>ids</name>\n<type>array</type>\n<items>{"type":"integer"}</items>\n</parameter>'
        '\n<parameter>\n<name>opts</name>\n<type>["object","null"]</type>'
        '\n<properties>{"a":{"type":"string"},"b":{"type":"number"}}</properties>\n</parameter>'
        "\n</parameters>\n</function>"
        + TOOLS_TAIL
        + "<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n",
        tools=[
            function_tool(
                "batch",
                properties={
                    "ids": {"type": "array", "items": {"type": "integer"}, "default": []},
                    "opts": {
                        "type": ["object", "null"],
                        "properties": {"b": {"type": "number"}, "a": {"type": "string"}},
                    },
                },
            )
        ],
        note="`default` is not an api.ToolProperty field, so Go drops it; nested properties come out sorted",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)


def test_format_tool_call_argument() -> None:
    assert format_tool_call_argument("foo") == "foo"  # no quotes
    assert format_tool_call_argument({"foo": "bar"}) == '{"foo":"bar"}'
    assert format_tool_call_argument(1) == "1"
    assert format_tool_call_argument(2.5) == "2.5"
    assert format_tool_call_argument(True) == "true"
    assert format_tool_call_argument(None) == "null"
    assert format_tool_call_argument(1e21) == "1e+21"


def test_format_tool_definition_type() -> None:
    assert format_tool_definition_type(("string",)) == "string"
    assert format_tool_definition_type(("string", "number")) == '["string","number"]'
    assert format_tool_definition_type(()) == "[]"
