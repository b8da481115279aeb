"""gemma4 / gemma4-small / gemma4-large: Ollama's Gemma4Renderer message loop."""

from __future__ import annotations

import pytest

from pyollama.renderers.builtin.gemma4 import strip_thinking
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

R, LARGE = "gemma4", "gemma4-large"
Q = '<|"|>'
GEN = "<|turn>model\n"
EMPTY_THOUGHT = "<|channel>thought\n<channel|>"

BASH = function_tool(
    "bash", "Run", {"command": {"type": "string", "description": "Cmd"}}, required=["command"]
)
BASH_DECL = (
    "<|tool>declaration:bash{description:"
    + Q
    + "Run"
    + Q
    + ",parameters:{properties:{command:{description:"
    + Q
    + "Cmd"
    + Q
    + ",type:"
    + Q
    + "STRING"
    + Q
    + "}},required:["
    + Q
    + "command"
    + Q
    + "],type:"
    + Q
    + "OBJECT"
    + Q
    + "}}<tool|>"
)


def turn(role: str, text: str) -> str:
    return f"<|turn>{role}\n{text}<turn|>\n"


def ls(cmd: str = "ls", **kw: str) -> dict[str, object]:
    return call("bash", {"command": cmd}, **kw)


def resp(name: str, value: str) -> str:
    return f"<|tool_response>response:{name}{{value:{Q}{value}{Q}}}<tool_response|>"


def bash_call(cmd: str = "ls") -> str:
    return "<|tool_call>call:bash{command:" + Q + cmd + Q + "}<tool_call|>"


CASES = [
    Case("user_only", R, [user("Hello")], "<bos>" + turn("user", "Hello") + GEN),
    Case(
        "large_writes_an_empty_thought_block",
        LARGE,
        [user("Hello")],
        "<bos>" + turn("user", "Hello") + GEN + EMPTY_THOUGHT,
    ),
    Case(
        "large_thinking_has_no_empty_block",
        LARGE,
        [user("Hello")],
        "<bos><|turn>system\n<|think|>\n<turn|>\n" + turn("user", "Hello") + GEN,
        think=True,
    ),
    Case(
        "developer_is_the_system_turn_and_is_trimmed",
        "gemma4-small",
        [{"role": "developer", "content": "  Be terse.\n"}, user("  Hi  ")],
        "<bos>" + turn("system", "Be terse.") + turn("user", "Hi") + GEN,
    ),
    Case(
        "thinking_and_tools_in_the_system_turn",
        R,
        [system("Helpful."), user("Hi")],
        "<bos><|turn>system\n<|think|>\nHelpful." + BASH_DECL + "<turn|>\n" + turn("user", "Hi") + GEN,
        tools=[BASH],
        think="medium",
    ),
    Case(
        "empty_system_still_opens_the_system_turn",
        R,
        [system("   "), user("Hi")],
        "<bos>" + turn("system", "") + turn("user", "Hi") + GEN,
    ),
    Case(
        "history_thinking_stripped_from_content",
        R,
        [user("2+2?"), assistant("<|channel>thought\nmath<channel|>4"), user("3+3?")],
        "<bos>" + turn("user", "2+2?") + turn("model", "4") + turn("user", "3+3?") + GEN,
    ),
    Case(
        "tool_round_trip_folds_into_one_model_turn",
        R,
        [
            user("List"),
            assistant(tool_calls=[ls()]),
            tool_result("a.txt", name="bash"),
            assistant("Done."),
            user("Thanks"),
        ],
        "<bos><|turn>system\n"
        + BASH_DECL
        + "<turn|>\n"
        + turn("user", "List")
        + "<|turn>model\n"
        + bash_call()
        + resp("bash", "a.txt")
        + "Done.<turn|>\n"
        + turn("user", "Thanks")
        + GEN,
        tools=[BASH],
    ),
    Case(
        "pending_call_waits_for_its_response",
        R,
        [user("List"), assistant("Let me check.", tool_calls=[ls()])],
        "<bos>" + turn("user", "List") + "<|turn>model\n" + bash_call() + "Let me check.<|tool_response>",
    ),
    Case(
        "terminal_response_has_no_generation_prompt",
        R,
        [user("List"), assistant(tool_calls=[ls()]), tool_result("  out  ", name="bash")],
        "<bos>" + turn("user", "List") + "<|turn>model\n" + bash_call() + resp("bash", "  out  "),
    ),
    Case(
        "terminal_response_cues_thinking",
        R,
        [user("List"), assistant(tool_calls=[ls()]), tool_result("out", name="bash")],
        "<bos><|turn>system\n<|think|>\n<turn|>\n"
        + turn("user", "List")
        + "<|turn>model\n"
        + bash_call()
        + resp("bash", "out")
        + "<|channel>thought\n",
        think=True,
    ),
    Case(
        "responses_named_by_call_id_in_their_own_order",
        R,
        [
            user("Both"),
            assistant(thinking="Plan.", tool_calls=[ls(id="c1"), call("read", {"path": "x"}, id="c2")]),
            tool_result("X", call_id="c2"),
            tool_result("L", call_id="c1", name="ignored"),
            tool_result("?"),
            assistant("Done."),
        ],
        "<bos>"
        + turn("user", "Both")
        + "<|turn>model\n<|channel>thought\nPlan.\n<channel|>"
        + bash_call()
        + "<|tool_call>call:read{path:"
        + Q
        + "x"
        + Q
        + "}<tool_call|>"
        + resp("read", "X")
        + resp("bash", "L")
        + resp("unknown", "?")
        + "Done.<turn|>\n"
        + GEN,
    ),
    Case(
        "thinking_before_the_last_user_is_dropped",
        R,
        [user("Q1"), assistant("A1", thinking="old"), user("Q2"), assistant("A2", thinking="new")],
        "<bos>"
        + turn("user", "Q1")
        + turn("model", "A1")
        + turn("user", "Q2")
        + "<|turn>model\n<|channel>thought\nnew\n<channel|>A2<turn|>\n"
        + GEN,
    ),
    Case(
        "adjacent_assistants_share_a_model_turn",
        R,
        [
            user("Start"),
            assistant("One."),
            assistant("Two.", tool_calls=[ls()]),
            tool_result("ok", name="bash"),
            assistant("Three."),
        ],
        "<bos>"
        + turn("user", "Start")
        + "<|turn>model\nOne."
        + bash_call()
        + resp("bash", "ok")
        + "Two.Three.<turn|>\n"
        + GEN,
    ),
    Case(
        "stray_tool_messages_are_skipped",
        R,
        [tool_result("orphan", images=1), user("Hi", images=1)],
        "<bos>" + turn("user", "[img-0] Hi") + GEN,
    ),
    Case(
        "images_in_user_model_and_tool_turns",
        R,
        [
            user("Look", images=2),
            assistant("", tool_calls=[ls()]),
            tool_result("shot", name="bash", images=1),
            assistant("", images=1),
        ],
        "<bos>"
        + turn("user", "[img-0][img-1] Look")
        + "<|turn>model\n"
        + bash_call()
        + resp("bash", "[img-2] shot")
        + "[img-3]<turn|>\n"
        + GEN,
    ),
    Case(
        "empty_assistant_in_history",
        R,
        [user("Hi"), assistant(""), user("More")],
        "<bos>" + turn("user", "Hi") + turn("model", "") + turn("user", "More") + GEN,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_render(case: Case) -> None:
    check(case)


def test_strip_thinking() -> None:
    assert strip_thinking("<|channel>a<channel|>Mid<|channel>b<channel|>Done ") == "MidDone"
    assert strip_thinking(" keep <|channel>unclosed") == "keep"
    assert strip_thinking("plain") == "plain"
