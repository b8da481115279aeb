"""Anthropic Messages and count_tokens: requests to Ollama chats, Messages and the event stream back."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
from anthropic.types import Message as AnthropicMessage
from anthropic.types import RawMessageStreamEvent
from pydantic import TypeAdapter

from pyollama.errors import BadRequest
from pyollama.runner.types import Chunk, ToolCall
from pyollama.server.compat import anthropic as an
from pyollama.server.planner import ToolChoice
from pyollama.server.schemas import Message, ToolCallFunction, ToolCallIn

from .sse import events

PNG = base64.b64encode(b"\x89PNG fake").decode()
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
EVENT = TypeAdapter(RawMessageStreamEvent)
TOOL = {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {}}}
DONE: dict[str, Any] = {
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 10,
    "prompt_eval_cached_count": 4,
    "eval_count": 3,
}
USAGE = {"input_tokens": 6, "output_tokens": 3, "cache_read_input_tokens": 4}


def translate(**body: Any) -> an.MessagesTranslation:
    body.setdefault("model", "m")
    body.setdefault("max_tokens", 64)
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    return an.messages_request(json.dumps(body).encode())


def messages(msgs: list[dict[str, Any]], **body: Any) -> list[Message]:
    return translate(messages=msgs, **body).request.messages or []


def error(**body: Any) -> str:
    with pytest.raises(BadRequest) as exc:
        translate(**body)
    return exc.value.message


# --- requests --------------------------------------------------------------------------------------


def test_minimal_request() -> None:
    t = translate()
    assert t.request.model == "m"
    assert t.request.messages == [Message(role="user", content="hi")]
    assert t.request.options == {"num_predict": 64}
    assert (t.request.stream, t.stream, t.request.think, t.think_requested) == (False, False, None, False)
    assert t.tool_choice == ToolChoice() and t.request.tools is None


def test_sampling_and_stream() -> None:
    t = translate(
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        stop_sequences=["\n\nHuman:"],
        stream=True,
        metadata={"user_id": "u"},
    )
    assert t.request.options == {
        "num_predict": 64,
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "stop": ["\n\nHuman:"],
    }
    assert (t.stream, t.request.stream) == (True, True)
    assert translate(stop_sequences=[]).request.options == {"num_predict": 64}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": ""}, "model is required"),
        ({"max_tokens": 0}, "max_tokens is required and must be positive"),
        ({"max_tokens": -1}, "max_tokens is required and must be positive"),
        ({"max_tokens": None}, "max_tokens is required and must be positive"),
        ({"messages": []}, "messages is required"),
        ({"messages": [{"role": "user"}]}, "unexpected end of JSON input"),
        ({"messages": [{"role": "user", "content": [{"type": "image"}]}]}, "invalid image source"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image", "source": {"type": "url", "url": "https://x"}}],
                    }
                ]
            },
            "invalid image source type: url. Only base64 images are supported.",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image", "source": {"type": "base64", "data": "ab*="}}],
                    }
                ]
            },
            "invalid base64 image data: illegal base64 data at input byte 2",
        ),
        (
            {
                "messages": [
                    {"role": "assistant", "content": [{"type": "tool_use", "name": "f", "input": {}}]}
                ]
            },
            "tool_use block missing required 'id' field",
        ),
        (
            {"messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "input": {}}]}]},
            "tool_use block missing required 'name' field",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "image"}]}
                        ],
                    }
                ]
            },
            "invalid tool_result image source",
        ),
        (
            {"tools": [{"name": "f", "input_schema": "object"}]},
            'invalid input_schema for tool "f": '
            "json: cannot unmarshal string into Go value of type api.ToolFunctionParameters",
        ),
    ],
)
def test_request_errors(body: dict[str, Any], message: str) -> None:
    assert error(**body) == message


def test_body_errors() -> None:
    with pytest.raises(BadRequest, match=r"^EOF$"):
        an.messages_request(b"")
    with pytest.raises(BadRequest, match=r"\$\.messages\[0\]\.content"):
        an.messages_request(b'{"model":"m","max_tokens":1,"messages":[{"role":"user","content":5}]}')


@pytest.mark.parametrize(
    ("system", "want"),
    [
        ("be brief", [Message(role="system", content="be brief")]),
        (
            [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}],
            [Message(role="system", content="ab")],
        ),
        ("", []),
        ([], []),
    ],
)
def test_system(system: Any, want: list[Message]) -> None:
    assert messages([{"role": "user", "content": "hi"}], system=system) == [
        *want,
        Message(role="user", content="hi"),
    ]


def test_content_blocks() -> None:
    msgs: list[dict[str, Any]] = [
        {
            "role": "User",
            "content": [{"type": "text", "text": "look "}, IMAGE, {"type": "text", "text": "here"}],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "they want weather", "signature": "sig"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "sunny"}, IMAGE],
                },
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "warm", "is_error": True},
                {"type": "tool_result", "tool_use_id": "toolu_3"},
                {"type": "text", "text": "thanks"},
            ],
        },
        {"role": "assistant", "content": None},
    ]
    assert messages(msgs) == [
        Message(role="user", content="look here", images=[PNG]),
        Message(
            role="assistant",
            content="Checking.",
            thinking="they want weather",
            tool_calls=[
                ToolCallIn(
                    id="toolu_1", function=ToolCallFunction(name="get_weather", arguments={"city": "Paris"})
                )
            ],
        ),
        Message(role="tool", content="sunny", images=[PNG], tool_call_id="toolu_1"),
        Message(role="tool", content="warm", tool_call_id="toolu_2"),
        Message(role="tool", tool_call_id="toolu_3"),
        Message(role="user", content="thanks"),
    ]


def test_web_search_history_blocks() -> None:
    msgs = [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "q"},
                },
                {
                    "type": "web_search_tool_result",
                    "tool_use_id": "srvtoolu_1",
                    "content": [{"type": "web_search_result", "title": "T", "url": "https://u"}],
                },
                {
                    "type": "web_search_tool_result",
                    "tool_use_id": "s2",
                    "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"},
                },
            ],
        }
    ]
    assert messages(msgs) == [
        Message(
            role="assistant",
            tool_calls=[
                ToolCallIn(
                    id="srvtoolu_1", function=ToolCallFunction(name="web_search", arguments={"query": "q"})
                )
            ],
        ),
        Message(role="tool", content="- T: https://u\n", tool_call_id="srvtoolu_1"),
        Message(role="tool", content="web_search_tool_result_error: max_uses_exceeded", tool_call_id="s2"),
    ]


def test_tools() -> None:
    t = translate(
        tools=[TOOL, {"name": "bare"}, {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]
    )
    assert t.request.tools == [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather", "parameters": TOOL["input_schema"]},
        },
        {
            "type": "function",
            "function": {"name": "bare", "parameters": {"type": "object", "properties": {}}},
        },
    ]


@pytest.mark.parametrize(
    ("body", "think"),
    [
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}}, True),
        ({"thinking": {"type": "disabled"}}, False),
        ({"output_config": {"effort": " XHigh "}}, "high"),
        ({"output_config": {"effort": "low"}}, "low"),
        ({"output_config": {"effort": "max"}}, "max"),
        ({"output_config": {"effort": "minimal"}}, None),
        ({"thinking": {"type": "disabled"}, "output_config": {"effort": "high"}}, False),
        ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}}, "medium"),
    ],
)
def test_thinking(body: dict[str, Any], think: Any) -> None:
    t = translate(**body)
    assert t.request.think == think
    assert t.think_requested is (think is True or isinstance(think, str))


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ({"type": "auto"}, ToolChoice()),
        ({"type": "any", "disable_parallel_tool_use": True}, ToolChoice(mode="required")),
        ({"type": "tool", "name": "get_weather"}, ToolChoice(mode="required", name="get_weather")),
        ({"type": "none"}, ToolChoice(mode="none")),
    ],
)
def test_tool_choice(value: dict[str, Any], want: ToolChoice) -> None:
    assert translate(tools=[TOOL], tool_choice=value).tool_choice == want


@pytest.mark.parametrize(
    ("value", "tools", "message"),
    [
        ("auto", [TOOL], 'invalid tool_choice: expected an object with a "type", got string'),
        (
            {"type": "required"},
            [TOOL],
            'invalid tool_choice type: "required" (must be "auto", "any", "tool" or "none")',
        ),
        ({"type": "tool"}, [TOOL], 'tool_choice of type "tool" needs the tool\'s name'),
        ({"name": "get_weather"}, [TOOL], 'invalid tool_choice: the object has no "type"'),
        ({"type": 1}, [TOOL], 'invalid tool_choice type: number (must be "auto", "any", "tool" or "none")'),
        (
            {"type": "tool", "name": "nope"},
            [TOOL],
            'tool_choice names function "nope", which is not in tools',
        ),
        ({"type": "any"}, None, "tool_choice requires tools: none were given"),
    ],
)
def test_tool_choice_errors(value: Any, tools: Any, message: str) -> None:
    assert error(tools=tools, tool_choice=value) == message


def test_estimated_input_tokens() -> None:
    # Ollama's bytes/4: "abcd" (4) + "user" (4) + "hello world!" (12) = 20 -> 5
    assert (
        translate(
            system="abcd", messages=[{"role": "user", "content": "hello world!"}]
        ).estimated_input_tokens
        == 5
    )
    assert translate(messages=[{"role": "user", "content": ""}]).estimated_input_tokens == 1
    with_tool = translate(messages=[{"role": "user", "content": ""}], tools=[{"name": "abcdefgh"}])
    assert with_tool.estimated_input_tokens == 3  # "user" + "abcdefgh"


def test_count_tokens() -> None:
    body = {
        "model": "m",
        "system": "s",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [TOOL],
        "thinking": {"type": "enabled"},
    }
    t = an.count_tokens_request(json.dumps(body).encode())
    assert t.request.messages == [Message(role="system", content="s"), Message(role="user", content="hi")]
    assert t.request.options is None and t.request.stream is False
    assert t.request.tools and t.think_requested
    assert an.count_tokens_response(17) == {"input_tokens": 17}
    with pytest.raises(BadRequest, match=r"^messages is required$"):
        an.count_tokens_request(b'{"model":"m"}')
    with pytest.raises(BadRequest, match=r"^model is required$"):
        an.count_tokens_request(b'{"messages":[{"role":"user","content":"x"}]}')


# --- non-streamed Message --------------------------------------------------------------------------


def response(chunk: Chunk) -> dict[str, Any]:
    body = an.messages_response(chunk, message_id="msg_1", model="m", rng=random.Random(0))
    AnthropicMessage.model_validate(body)
    return body


def test_message_text() -> None:
    assert response(Chunk(content="Hello", **DONE)) == {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn",
        "usage": USAGE,
    }


def test_message_thinking_and_tool_use() -> None:
    calls = [
        ToolCall(name="get_weather", arguments={"city": "Paris"}, id="call_1"),
        ToolCall(name="f", arguments={}, index=1),
    ]
    body = response(Chunk(thinking="hmm", content="Checking.", tool_calls=calls, **DONE))
    assert body["content"][:3] == [
        {"type": "thinking", "thinking": "hmm", "signature": ""},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
    ]
    assert body["content"][3]["id"].startswith("call_")
    assert body["stop_reason"] == "tool_use"


def test_message_length_and_empty() -> None:
    assert response(Chunk(content="a", **{**DONE, "done_reason": "length"}))["stop_reason"] == "max_tokens"
    empty = response(Chunk(done=True, done_reason="stop"))
    assert empty["content"] == [] and empty["usage"] == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    assert "stop_reason" not in an.messages_response(Chunk(done=True), message_id="m", model="m")


def test_stop_reason() -> None:
    assert [an.stop_reason(r, False) for r in ("stop", "length", "unload", "")] == [
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "",
    ]
    assert an.stop_reason("length", True) == "tool_use"


# --- stream ----------------------------------------------------------------------------------------


def stream(chunks: list[Chunk], input_tokens: int = 7) -> list[tuple[str, dict[str, Any]]]:
    w = an.MessagesStreamWriter(
        message_id="msg_1", model="m", input_tokens=input_tokens, rng=random.Random(0)
    )
    evs = events(b"".join(w.feed(c) for c in chunks))
    for _, data in evs:
        EVENT.validate_python(data)
    return evs


def shape(evs: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    out: list[Any] = []
    for name, data in evs:
        if name == "content_block_start":
            out.append((name, data["index"], data["content_block"]["type"]))
        elif name == "content_block_delta":
            delta = data["delta"]
            out.append(
                (
                    name,
                    data["index"],
                    delta["type"],
                    delta.get("text", delta.get("thinking", delta.get("partial_json"))),
                )
            )
        elif name == "content_block_stop":
            out.append((name, data["index"]))
        else:
            out.append(name)
    return out


def test_stream_text_only() -> None:
    evs = stream([Chunk(content="Hel"), Chunk(), Chunk(content="lo"), Chunk(**DONE)])
    assert shape(evs) == [
        "message_start",
        ("content_block_start", 0, "text"),
        ("content_block_delta", 0, "text_delta", "Hel"),
        ("content_block_delta", 0, "text_delta", "lo"),
        ("content_block_stop", 0),
        "message_delta",
        "message_stop",
    ]
    assert evs[0][1]["message"] == {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "usage": {"input_tokens": 7, "output_tokens": 0},
    }
    assert evs[1][1]["content_block"] == {"type": "text", "text": ""}
    assert evs[-2][1] == {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": USAGE}


def test_stream_thinking_then_text() -> None:
    evs = stream([Chunk(thinking="Let me"), Chunk(thinking=" see", content="Yes"), Chunk(**DONE)])
    assert shape(evs) == [
        "message_start",
        ("content_block_start", 0, "thinking"),
        ("content_block_delta", 0, "thinking_delta", "Let me"),
        ("content_block_delta", 0, "thinking_delta", " see"),
        ("content_block_stop", 0),
        ("content_block_start", 1, "text"),
        ("content_block_delta", 1, "text_delta", "Yes"),
        ("content_block_stop", 1),
        "message_delta",
        "message_stop",
    ]
    assert evs[1][1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}


def test_stream_thinking_only_is_closed_at_the_end() -> None:
    assert shape(stream([Chunk(thinking="t"), Chunk(**DONE)]))[1:] == [
        ("content_block_start", 0, "thinking"),
        ("content_block_delta", 0, "thinking_delta", "t"),
        ("content_block_stop", 0),
        "message_delta",
        "message_stop",
    ]


def test_stream_tool_calls() -> None:
    calls = [ToolCall(name="get_weather", arguments={"city": "Paris"}, id="call_1")]
    evs = stream(
        [
            Chunk(thinking="t"),
            Chunk(content="Checking."),
            Chunk(tool_calls=calls),
            Chunk(tool_calls=calls),
            Chunk(**DONE),
        ]
    )
    assert shape(evs) == [
        "message_start",
        ("content_block_start", 0, "thinking"),
        ("content_block_delta", 0, "thinking_delta", "t"),
        ("content_block_stop", 0),
        ("content_block_start", 1, "text"),
        ("content_block_delta", 1, "text_delta", "Checking."),
        ("content_block_stop", 1),
        ("content_block_start", 2, "tool_use"),
        ("content_block_delta", 2, "input_json_delta", '{"city":"Paris"}'),
        ("content_block_stop", 2),
        "message_delta",
        "message_stop",
    ]
    assert evs[7][1]["content_block"] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "get_weather",
        "input": {},
    }
    assert evs[-2][1]["delta"] == {"stop_reason": "tool_use"}


def test_stream_length_cached_tokens_and_counts() -> None:
    evs = stream(
        [
            Chunk(content="a", prompt_eval_count=12, prompt_eval_cached_count=2),
            Chunk(**{**DONE, "done_reason": "length"}),
        ]
    )
    assert evs[0][1]["message"]["usage"]["input_tokens"] == 10  # the chunk's own count beats the estimate
    assert evs[-2][1] == {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": USAGE}


def test_stream_empty_generation() -> None:
    assert shape(stream([Chunk(**DONE)])) == ["message_start", "message_delta", "message_stop"]


def test_stream_error_event() -> None:
    w = an.MessagesStreamWriter(message_id="msg_1", model="m")
    evs = events(w.error("boom"))
    assert evs == [("error", {"type": "error", "error": {"type": "api_error", "message": "boom"}})]


def test_ids() -> None:
    mid = an.message_id(random.Random(0))
    assert mid == an.message_id(random.Random(0)) and mid.startswith("msg_") and len(mid) == 28


def test_sdk_accumulates_the_stream() -> None:
    """The SDK's own accumulator rebuilds the Message from our events."""
    from anthropic.lib.streaming._messages import accumulate_event

    calls = [
        ToolCall(name="f", arguments={"a": 1}, id="c1"),
        ToolCall(name="g", arguments={}, id="c2", index=1),
    ]
    chunks = [
        Chunk(thinking="Let me"),
        Chunk(thinking=" see", content="Yes"),
        Chunk(content=" sir"),
        Chunk(tool_calls=calls),
        Chunk(**DONE),
    ]
    snapshot: Any = None
    buffers: dict[int, bytes] = {}
    for _, data in stream(chunks):
        snapshot = accumulate_event(
            event=EVENT.validate_python(data), current_snapshot=snapshot, json_bufs=buffers
        )
    got = [
        (b.type, getattr(b, "thinking", None) or getattr(b, "text", None) or b.input)
        for b in snapshot.content
    ]
    assert got == [("thinking", "Let me see"), ("text", "Yes sir"), ("tool_use", {"a": 1}), ("tool_use", {})]
    assert snapshot.stop_reason == "tool_use"
    assert (
        snapshot.usage.input_tokens,
        snapshot.usage.output_tokens,
        snapshot.usage.cache_read_input_tokens,
    ) == (6, 3, 4)
