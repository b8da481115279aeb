"""The Responses API: requests to Ollama chats, Response objects and the event stream back."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from pyollama.errors import BadRequest
from pyollama.runner.types import Chunk, ToolCall
from pyollama.server.compat import responses as rs
from pyollama.server.planner import ToolChoice
from pyollama.server.schemas import Message, ToolCallFunction, ToolCallIn

from .sse import events

PNG = base64.b64encode(b"\x89PNG fake").decode()
EVENT = TypeAdapter(ResponseStreamEvent)
FN = {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}
DONE: dict[str, Any] = {
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 10,
    "prompt_eval_cached_count": 4,
    "eval_count": 3,
}
USAGE = {
    "input_tokens": 10,
    "output_tokens": 3,
    "total_tokens": 13,
    "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
    "output_tokens_details": {"reasoning_tokens": 0},
}


def translate(**body: Any) -> rs.ResponsesTranslation:
    body.setdefault("model", "m")
    return rs.responses_request(json.dumps(body).encode())


def messages(input: Any, **body: Any) -> list[Message]:
    return translate(input=input, **body).request.messages or []


def error(**body: Any) -> str:
    with pytest.raises(BadRequest) as exc:
        translate(**body)
    return exc.value.message


def call(name: str, args: str, call_id: str) -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": args}


def tool_call(name: str, args: dict[str, Any], call_id: str) -> ToolCallIn:
    return ToolCallIn(id=call_id, function=ToolCallFunction(name=name, arguments=args))


# --- requests --------------------------------------------------------------------------------------


def test_string_input_with_instructions_and_defaults() -> None:
    t = translate(input="hello", instructions="be brief")
    assert t.request.messages == [
        Message(role="system", content="be brief"),
        Message(role="user", content="hello"),
    ]
    assert t.request.options is None
    assert t.defaults == {"temperature": 1.0}  # no top_p default, as Ollama
    assert (t.stream, t.request.stream, t.tool_choice) == (False, False, ToolChoice())


def test_sampling_and_reasoning_fields() -> None:
    t = translate(
        input="x",
        temperature=0.3,
        top_p=0.9,
        max_output_tokens=50,
        reasoning={"effort": "minimal"},
        stream=True,
    )
    assert t.request.options == {"temperature": 0.3, "top_p": 0.9, "num_predict": 50}
    assert t.defaults == {}
    assert (t.request.think, t.stream, t.request.stream) == ("low", True, True)
    assert error(input="x", reasoning={"effort": "extreme"}).startswith('invalid reasoning value: "extreme"')


def test_ignored_stateful_fields() -> None:
    t = translate(
        input="x", previous_response_id="resp_1", conversation={"id": "c"}, include=["a"], background=True
    )
    assert t.request.messages == [Message(role="user", content="x")]


def test_message_items() -> None:
    items = [
        {"type": "message", "role": "developer", "content": "rules"},
        {
            "role": "user",
            "content": [{"type": "input_text", "text": "look "}, {"type": "input_text", "text": "here"}],
        },
        {
            "role": "user",
            "content": [
                {"type": "input_image", "detail": "auto", "image_url": f"data:image/png;base64,{PNG}"}
            ],
        },
        {"role": "user", "content": [{"type": "input_image", "detail": "auto", "file_id": "f1"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "seen"}]},
    ]
    assert messages(items) == [
        Message(role="developer", content="rules"),
        Message(role="user", content="look here"),
        Message(role="user", images=[PNG]),
        Message(role="user"),
        Message(role="assistant", content="seen"),
    ]


@pytest.mark.parametrize(
    ("input", "message"),
    [
        (
            5,
            "input must be a string or array: "
            "json: cannot unmarshal number into Go value of type []json.RawMessage",
        ),
        (
            ["x"],
            "input[0]: json: cannot unmarshal string into Go value of type "
            'struct { Type string "json:\\"type\\""; Role string "json:\\"role\\"" }',
        ),
        ([{"content": "x"}], "input[0]: input item missing required 'type' field"),
        ([{"type": "item_reference", "id": "x"}], 'input[0]: unknown input item type: "item_reference"'),
        (
            [{"role": "user", "content": 5}],
            "input[0]: content must be a string or array: "
            "json: cannot unmarshal number into Go value of type []json.RawMessage",
        ),
        (
            [{"role": "user", "content": [{"type": "input_video"}]}],
            "input[0]: content[0]: unknown content type: input_video",
        ),
        (
            [{"role": "user", "content": [{"type": "input_file", "file_data": "x"}]}],
            "file inputs are not currently supported",
        ),
        (
            [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}],
            "image URLs are not currently supported, please use base64 encoded data instead",
        ),
        (
            [call("f", "x", "c")],
            "failed to parse function call arguments: invalid character 'x' looking for beginning of value",
        ),
        (
            [call("f", "[1]", "c")],
            "failed to parse function call arguments: "
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
        (
            [{"type": "function_call_output", "call_id": "c", "output": [{"type": "bogus"}]}],
            "input[0]: output[0]: unknown content type: bogus",
        ),
    ],
)
def test_input_errors(input: Any, message: str) -> None:
    assert error(input=input) == message


def test_function_calls_and_outputs() -> None:
    items = [
        {"role": "user", "content": "weather?"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "thinking it over"},
        call("get_weather", '{"city":"Paris"}', "c1"),
        call("get_time", "", "c2"),
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        {
            "type": "function_call_output",
            "call_id": "c2",
            "output": [
                {"type": "input_text", "text": "noon"},
                {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
            ],
        },
        {"type": "web_search_call", "id": "ws", "status": "completed"},
        {"type": "reasoning", "encrypted_content": "trailing"},
    ]
    assert messages(items) == [
        Message(role="user", content="weather?"),
        Message(
            role="assistant",
            thinking="thinking it over",
            tool_calls=[tool_call("get_weather", {"city": "Paris"}, "c1"), tool_call("get_time", {}, "c2")],
        ),
        Message(role="tool", content="sunny", tool_call_id="c1"),
        Message(role="tool", content="noon", images=[PNG], tool_call_id="c2"),
        Message(role="assistant", thinking="trailing"),
    ]


def test_function_call_joins_the_assistant_message_before_it() -> None:
    items = [
        {"type": "reasoning", "encrypted_content": "r1"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "checking"}]},
        {"type": "reasoning", "encrypted_content": "r2"},
        call("f", "{}", "c1"),
    ]
    assert messages(items) == [
        Message(role="assistant", content="checking", thinking="r2", tool_calls=[tool_call("f", {}, "c1")])
    ]


def test_assistant_message_between_call_and_output_merges_into_the_call() -> None:
    items = [
        {"role": "assistant", "content": "before"},
        call("f", "{}", "c1"),
        {"role": "assistant", "content": "replayed"},
        {"type": "function_call_output", "call_id": "c1", "output": "ok"},
        {"role": "assistant", "content": "after"},
    ]
    assert messages(items) == [
        Message(role="assistant", content="before\nreplayed", tool_calls=[tool_call("f", {}, "c1")]),
        Message(role="tool", content="ok", tool_call_id="c1"),
        Message(role="assistant", content="after"),
    ]


def test_tools() -> None:
    namespace = {
        "type": "namespace",
        "name": "fs",
        "tools": [{"type": "function", "name": "read"}, {"type": "function", "name": "fs.write"}],
    }
    t = translate(input="x", tools=[FN, namespace, {"type": "web_search"}])
    assert t.request.tools == [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}},
        },
        {
            "type": "function",
            "function": {"name": "fs.read", "parameters": {"type": "object", "properties": {}}},
        },
        {
            "type": "function",
            "function": {"name": "fs.write", "parameters": {"type": "object", "properties": {}}},
        },
    ]
    assert translate(input="x", tools=[{"type": "web_search"}]).request.tools is None


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ({"format": {"type": "json_schema", "name": "s", "schema": {"type": "object"}}}, {"type": "object"}),
        ({"format": {"type": "json_schema", "name": "s"}}, None),
        ({"format": {"type": "text"}}, None),
        ({}, None),
    ],
)
def test_text_format(text: dict[str, Any], want: Any) -> None:
    assert translate(input="x", text=text).request.format == want


def test_tool_choice() -> None:
    assert translate(input="x", tools=[FN], tool_choice="required").tool_choice == ToolChoice(mode="required")
    named = ToolChoice(mode="required", name="get_weather")
    assert (
        translate(input="x", tools=[FN], tool_choice={"type": "function", "name": "get_weather"}).tool_choice
        == named
    )
    chat_shape = {"type": "function", "function": {"name": "get_weather"}}
    assert translate(input="x", tools=[FN], tool_choice=chat_shape).tool_choice == named
    assert error(input="x", tools=[FN], tool_choice={"type": "file_search"}) == (
        'invalid tool_choice type: "file_search" (only "function" is supported)'
    )
    assert error(input="x", tools=[FN], tool_choice={"type": "function", "name": "nope"}) == (
        'tool_choice names function "nope", which is not in tools'
    )


# --- non-streamed Response -------------------------------------------------------------------------


def response(chunk: Chunk, **body: Any) -> dict[str, Any]:
    t = translate(**{"input": "x", **body})
    obj = rs.response_object(
        chunk,
        t,
        response_id="resp_42",
        item_id="msg_7",
        created_at=100,
        completed_at=101,
        rng=random.Random(0),
    )
    Response.model_validate(obj)
    return obj


def test_response_content_only() -> None:
    obj = response(Chunk(content="Hello", **DONE))
    assert obj["output"] == [
        {
            "id": "msg_7",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}],
        }
    ]
    assert {
        k: obj[k] for k in ("id", "object", "created_at", "completed_at", "status", "model", "usage")
    } == {
        "id": "resp_42",
        "object": "response",
        "created_at": 100,
        "completed_at": 101,
        "status": "completed",
        "model": "m",
        "usage": USAGE,
    }
    assert (obj["tool_choice"], obj["truncation"], obj["temperature"], obj["top_p"]) == (
        "auto",
        "disabled",
        1.0,
        1.0,
    )
    assert (obj["text"], obj["reasoning"], obj["instructions"], obj["tools"]) == (
        {"format": {"type": "text"}},
        None,
        None,
        [],
    )
    assert (obj["store"], obj["background"], obj["service_tier"], obj["metadata"]) == (
        False,
        False,
        "default",
        {},
    )


def test_response_echoes_the_request() -> None:
    namespace = {
        "type": "namespace",
        "name": "fs",
        "description": "Files",
        "tools": [{"type": "function", "name": "read"}],
    }
    fmt = {"type": "json_schema", "name": "s", "schema": {"type": "object"}, "strict": True}
    obj = response(
        Chunk(content="{}", **DONE),
        instructions="sys",
        tools=[FN, namespace],
        tool_choice={"type": "function", "name": "get_weather"},
        text={"format": fmt},
        reasoning={"effort": "high"},
        temperature=0.5,
        top_p=0.8,
        truncation="auto",
        background=True,
        max_output_tokens=9,
    )
    assert obj["instructions"] == "sys"
    assert obj["tools"][0] == {
        "type": "function",
        "name": "get_weather",
        "description": "Weather",
        "strict": None,
        "parameters": {"type": "object"},
    }
    assert obj["tools"][1]["tools"] == [
        {"type": "function", "name": "read", "description": None, "strict": None, "parameters": None}
    ]
    assert obj["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert obj["text"] == {"format": fmt}
    assert obj["reasoning"] == {"effort": "high"}
    assert (
        obj["temperature"],
        obj["top_p"],
        obj["truncation"],
        obj["background"],
        obj["max_output_tokens"],
    ) == (0.5, 0.8, "auto", True, 9)


def test_response_reasoning_and_tool_calls() -> None:
    calls = [
        ToolCall(name="get_weather", arguments={"city": "Paris"}, id="call_1"),
        ToolCall(name="f", arguments={}, index=1),
    ]
    obj = response(Chunk(thinking="hmm", tool_calls=calls, **DONE), tools=[FN])
    out = obj["output"]
    assert out[0] == {
        "id": "rs_resp_42",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "hmm"}],
        "encrypted_content": "hmm",
    }
    assert out[1] == {
        "id": "fc_resp_42_0",
        "type": "function_call",
        "status": "completed",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    assert out[2]["id"] == "fc_resp_42_1" and out[2]["call_id"].startswith("call_")
    assert len(out) == 3  # no empty message beside tool calls


def test_response_keeps_text_before_tool_calls() -> None:
    obj = response(
        Chunk(content="Let me check.", tool_calls=[ToolCall(name="f", arguments={}, id="c")], **DONE)
    )
    assert [item["type"] for item in obj["output"]] == ["message", "function_call"]


# --- stream ----------------------------------------------------------------------------------------


def stream(chunks: list[Chunk], **body: Any) -> list[tuple[str, dict[str, Any]]]:
    t = translate(**{"input": "x", "stream": True, **body})
    w = rs.ResponsesStreamWriter(
        t, response_id="resp_42", item_id="msg_7", clock=lambda: 100.0, rng=random.Random(0)
    )
    raw = b"".join(w.feed(c) for c in chunks)
    got = events(raw)
    for i, (_, data) in enumerate(got):
        assert data["sequence_number"] == i
        assert list(data) == sorted(data)  # Go marshals these maps: keys sorted
        EVENT.validate_python(data)
    return got


def names(evs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name.removeprefix("response.") for name, _ in evs]


def test_stream_content_only() -> None:
    evs = stream([Chunk(content="Hel"), Chunk(), Chunk(content="lo"), Chunk(**DONE)])
    assert names(evs) == [
        "created",
        "in_progress",
        "output_item.added",
        "content_part.added",
        "output_text.delta",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "completed",
    ]
    created = evs[0][1]["response"]
    assert (created["status"], created["output"], created["usage"], created["created_at"]) == (
        "in_progress",
        [],
        None,
        100,
    )
    assert evs[2][1]["item"] == {
        "id": "msg_7",
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    assert [e[1]["delta"] for e in evs[4:6]] == ["Hel", "lo"]
    assert evs[6][1]["text"] == "Hello"
    done = evs[-1][1]["response"]
    Response.model_validate(done)
    assert (done["status"], done["completed_at"], done["usage"]) == ("completed", 100, USAGE)
    assert done["output"] == [
        {
            "id": "msg_7",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}],
        }
    ]


def test_stream_thinking_then_content() -> None:
    evs = stream(
        [Chunk(thinking="Let me"), Chunk(thinking=" see", content="Yes"), Chunk(**DONE)],
        reasoning={"effort": "low"},
    )
    assert names(evs) == [
        "created",
        "in_progress",
        "output_item.added",
        "reasoning_summary_text.delta",
        "reasoning_summary_text.delta",
        "reasoning_summary_text.done",
        "output_item.done",
        "output_item.added",
        "content_part.added",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "completed",
    ]
    rs_id = evs[2][1]["item"]["id"]
    assert rs_id.startswith("rs_") and evs[2][1]["output_index"] == 0
    assert evs[5][1] == {**evs[5][1], "item_id": rs_id, "text": "Let me see", "output_index": 0}
    assert evs[7][1]["output_index"] == 1
    assert evs[0][1]["response"]["reasoning"] == {"effort": "low", "summary": None}
    done = evs[-1][1]["response"]
    assert [item["type"] for item in done["output"]] == ["reasoning", "message"]
    assert done["output"][0]["encrypted_content"] == "Let me see"


def test_stream_tool_calls() -> None:
    calls = [ToolCall(name="get_weather", arguments={"city": "Paris"}, id="call_1")]
    evs = stream([Chunk(tool_calls=calls), Chunk(content="ignored after a call"), Chunk(**DONE)], tools=[FN])
    assert names(evs) == [
        "created",
        "in_progress",
        "output_item.added",
        "function_call_arguments.delta",
        "function_call_arguments.done",
        "output_item.done",
        "completed",
    ]
    added = evs[2][1]["item"]
    assert (added["status"], added["arguments"], added["call_id"], added["name"]) == (
        "in_progress",
        "",
        "call_1",
        "get_weather",
    )
    assert evs[3][1]["delta"] == evs[4][1]["arguments"] == '{"city":"Paris"}'
    done = evs[-1][1]["response"]
    assert [(i["type"], i["status"]) for i in done["output"]] == [("function_call", "completed")]


def test_stream_text_before_tool_call_is_its_own_item() -> None:
    calls = [ToolCall(name="f", arguments={}, id="c1")]
    evs = stream([Chunk(content="Checking."), Chunk(tool_calls=calls), Chunk(**DONE)])
    assert names(evs)[2:] == [
        "output_item.added",
        "content_part.added",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "output_item.added",
        "function_call_arguments.delta",
        "function_call_arguments.done",
        "output_item.done",
        "completed",
    ]
    assert evs[7][1]["output_index"] == 0 and evs[8][1]["output_index"] == 1
    assert [i["type"] for i in evs[-1][1]["response"]["output"]] == ["message", "function_call"]


def test_stream_length_and_empty_generation() -> None:
    evs = stream([Chunk(content="a"), Chunk(**{**DONE, "done_reason": "length"})])
    assert evs[-1][1]["response"]["status"] == "completed"  # as Ollama: never "incomplete"
    evs = stream([Chunk(**DONE)])
    assert names(evs) == ["created", "in_progress", "completed"]
    assert evs[-1][1]["response"]["output"] == []


def test_stream_error_is_response_failed() -> None:
    t = translate(input="x", stream=True)
    w = rs.ResponsesStreamWriter(t, response_id="resp_1", item_id="msg_1", clock=lambda: 5.0)
    evs = events(w.error("boom"))
    assert [n for n, _ in evs] == ["response.created", "response.in_progress", "response.failed"]
    failed = evs[-1][1]["response"]
    assert (failed["status"], failed["error"]) == ("failed", {"code": "server_error", "message": "boom"})
    EVENT.validate_python(evs[-1][1])


def test_ids() -> None:
    assert rs.response_id(random.Random(1)) == rs.response_id(random.Random(1))
    assert rs.response_id(random.Random(1)).startswith("resp_")
    assert rs.message_item_id(random.Random(1)).startswith("msg_")


def test_sdk_accumulates_the_stream() -> None:
    """The SDK's own stream state rebuilds the Response from our events."""
    from openai import omit
    from openai.lib.streaming.responses._responses import ResponseStreamState

    calls = [ToolCall(name="get_weather", arguments={"city": "Paris"}, id="c1")]
    chunks = [
        Chunk(thinking="hm"),
        Chunk(content="Yes"),
        Chunk(content=" sir"),
        Chunk(tool_calls=calls),
        Chunk(**DONE),
    ]
    state = ResponseStreamState(input_tools=omit, text_format=omit)
    final = None
    for _, data in stream(chunks, tools=[FN]):
        for event in state.handle_event(EVENT.validate_python(data)):
            if event.type == "response.completed":
                final = event.response
    assert final is not None
    assert final.output_text == "Yes sir"
    assert [item.type for item in final.output] == ["reasoning", "message", "function_call"]
