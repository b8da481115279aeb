"""cogito: Ollama's CogitoRenderer prompts (indented JSON tools, thinking only on request)."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin.cogito import BOS, DEFAULT_PROMPT
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

R = "cogito"
U, A = "<｜User｜>", "<｜Assistant｜>"  # noqa: RUF001
EOS = "<｜end▁of▁sentence｜>"  # noqa: RUF001
CALLS_BEGIN, CALLS_END = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"  # noqa: RUF001
CALL_BEGIN, CALL_END, SEP = "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁sep｜>"  # noqa: RUF001
OUTS_BEGIN, OUTS_END = "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>"  # noqa: RUF001
OUT_BEGIN, OUT_END = "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>"  # noqa: RUF001

WEATHER_JSON = "\n".join(
    [
        "{",
        '    "type": "function",',
        '    "function": {',
        '        "name": "get_weather",',
        '        "description": "Get the current weather",',
        '        "parameters": {',
        '            "type": "object",',
        '            "required": [',
        '                "location"',
        "            ],",
        '            "properties": {',
        '                "location": {',
        '                    "type": "string",',
        '                    "description": "The city"',
        "                }",
        "            }",
        "        }",
        "    }",
        "}",
    ]
)


def weather_call(city: str) -> dict[str, object]:
    return call("get_weather", {"location": city})


CASES = [
    Case("user_only", R, [user("Hello")], BOS + DEFAULT_PROMPT + U + "Hello" + A, think=False),
    Case("think_unset_is_off", R, [user("Hello")], BOS + DEFAULT_PROMPT + U + "Hello" + A),
    Case(
        "system_appended_to_the_default_prompt",
        R,
        [system("Be brief."), user("Hi")],
        BOS + DEFAULT_PROMPT + "\n\nBe brief." + U + "Hi" + A,
    ),
    Case(
        "thinking_with_system",
        R,
        [system("Be brief."), user("Hi")],
        BOS
        + "Enable deep thinking subroutine.\n\n"
        + DEFAULT_PROMPT
        + "\n\nBe brief.\n\n"
        + U
        + "Hi"
        + A
        + "<think>\n",
        think=True,
    ),
    Case(
        "multi_turn",
        R,
        [user("Capital of France?"), assistant("Paris."), user("Thanks")],
        BOS + DEFAULT_PROMPT + U + "Capital of France?" + A + "Paris." + EOS + U + "Thanks" + A,
        think=False,
    ),
    Case(
        "tools_indented_json",
        R,
        [user("Weather?")],
        BOS
        + DEFAULT_PROMPT
        + "\nYou have the following functions available:\n```json\n"
        + WEATHER_JSON
        + "\n```\n"
        + U
        + "Weather?"
        + A,
        tools=[weather_tool()],
    ),
    Case(
        "tool_calls_and_outputs",
        R,
        [
            user("Paris and London?"),
            assistant("Checking.", tool_calls=[weather_call("Paris"), weather_call("London")]),
            tool_result("22C"),
            tool_result("15C"),
        ],
        BOS
        + DEFAULT_PROMPT
        + U
        + "Paris and London?"
        + A
        + "Checking."
        + CALLS_BEGIN
        + CALL_BEGIN
        + "function"
        + SEP
        + 'get_weather\n```json\n{"location":"Paris"}\n```'
        + CALL_END
        + "\n"
        + CALL_BEGIN
        + "function"
        + SEP
        + 'get_weather\n```json\n{"location":"London"}\n```'
        + CALL_END
        + CALLS_END
        + EOS
        + OUTS_BEGIN
        + OUT_BEGIN
        + "22C"
        + OUT_END
        + "\n"
        + OUT_BEGIN
        + "15C"
        + OUT_END
        + OUTS_END
        + A,
    ),
    Case(
        "a_level_turns_thinking_on",
        R,
        [user("Hi")],
        BOS + "Enable deep thinking subroutine.\n\n" + DEFAULT_PROMPT + U + "Hi" + A + "<think>\n",
        think="low",
    ),
    Case("no_messages", R, [], BOS + DEFAULT_PROMPT + A),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)


def test_leading_bos() -> None:
    from pyollama.renderers import renderer_for_name

    r = renderer_for_name(R)
    assert r is not None and r.leading_bos() == BOS
