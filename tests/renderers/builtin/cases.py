"""Prompt cases for the built-in renderer tests: wire dicts built from short helpers.

Each test module lists `CASES` (renderer name, chat, expected prompt) and checks them with
`check`; the expected prompts are the ones Ollama's Go renderers give for the same chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyollama.renderers import Think, renderer_for_name

Msg = dict[str, Any]


@dataclass(frozen=True)
class Case:
    id: str
    renderer: str
    messages: list[Msg]
    expected: str
    tools: list[dict[str, Any]] | None = None
    think: Think = None
    note: str = field(default="", compare=False)


def render(case: Case) -> str:
    r = renderer_for_name(case.renderer)
    assert r is not None, case.renderer
    return r.render(case.messages, case.tools, case.think)


def check(case: Case) -> None:
    got = render(case)
    assert got == case.expected, f"\n--- got ---\n{got!r}\n--- want ---\n{case.expected!r}"


def ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


# --- messages ------------------------------------------------------------------------------------

IMG = "aGVsbG8="  # any base64: only the count of images matters to a prompt


def system(content: str) -> Msg:
    return {"role": "system", "content": content}


def user(content: str, *, images: int = 0) -> Msg:
    m: Msg = {"role": "user", "content": content}
    if images:
        m["images"] = [IMG] * images
    return m


def assistant(
    content: str = "", *, thinking: str = "", tool_calls: list[Msg] | None = None, images: int = 0
) -> Msg:
    m: Msg = {"role": "assistant", "content": content}
    if thinking:
        m["thinking"] = thinking
    if tool_calls:
        m["tool_calls"] = tool_calls
    if images:
        m["images"] = [IMG] * images
    return m


def tool_result(content: str, *, name: str = "", call_id: str = "", images: int = 0) -> Msg:
    m: Msg = {"role": "tool", "content": content}
    if name:
        m["tool_name"] = name
    if call_id:
        m["tool_call_id"] = call_id
    if images:
        m["images"] = [IMG] * images
    return m


def call(name: str, arguments: dict[str, Any] | None = None, *, id: str = "") -> Msg:
    tc: Msg = {"function": {"name": name, "arguments": arguments or {}}}
    if id:
        tc["id"] = id
    return tc


# --- tools ---------------------------------------------------------------------------------------


def function_tool(
    name: str,
    description: str = "",
    properties: dict[str, Any] | None = None,
    *,
    required: list[str] | None = None,
    type: str = "object",
) -> dict[str, Any]:
    """A tool as a client sends it (`properties` None: the schema has no `properties` key)."""
    params: dict[str, Any] = {"type": type} if type else {}
    if required:
        params["required"] = required
    if properties is not None:
        params["properties"] = properties
    fn: dict[str, Any] = {"name": name}
    if description:
        fn["description"] = description
    fn["parameters"] = params
    return {"type": "function", "function": fn}


def weather_tool() -> dict[str, Any]:
    return function_tool(
        "get_weather",
        "Get the current weather",
        {"location": {"type": "string", "description": "The city"}},
        required=["location"],
    )
