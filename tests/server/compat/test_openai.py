"""OpenAI chat completions, completions and embeddings: requests to Ollama's, answers back."""

from __future__ import annotations

import base64
import json
import random
import struct
from typing import Any

import pytest
from openai.types import Completion, CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from pyollama.errors import BadRequest
from pyollama.runner.types import Chunk, TokenLogprob, ToolCall
from pyollama.server.compat import openai as oa
from pyollama.server.planner import ToolChoice
from pyollama.server.schemas import DebugInfo, EmbedResponse, Message, ToolCallFunction, ToolCallIn

from .sse import data_frames

PNG = base64.b64encode(b"\x89PNG fake").decode()
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def chat(**body: Any) -> oa.ChatTranslation:
    body.setdefault("model", "m")
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    return oa.chat_request(json.dumps(body).encode())


def chat_error(**body: Any) -> str:
    with pytest.raises(BadRequest) as exc:
        chat(**body)
    return exc.value.message


def user(content: Any, **extra: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content, **extra}]


# --- chat requests ---------------------------------------------------------------------------------


def test_minimal_chat_keeps_openai_defaults_apart() -> None:
    t = chat()
    assert t.request.model == "m"
    assert t.request.messages == [Message(role="user", content="hi")]
    assert t.request.stream is False
    assert t.request.options is None  # nothing the request set
    assert t.defaults == {"temperature": 1.0, "top_p": 1.0}  # under the Modelfile, not over it
    assert t.tool_choice == ToolChoice()
    assert (t.stream, t.include_usage) == (False, False)
    assert t.request.think is None and t.request.format is None and t.request.tools is None


def test_sampling_options_the_request_sets() -> None:
    t = chat(temperature=0.2, top_p=0.5, seed=7, frequency_penalty=0.1, presence_penalty=0.3, max_tokens=12)
    assert t.request.options == {
        "num_predict": 12,
        "temperature": 0.2,
        "seed": 7,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.3,
        "top_p": 0.5,
    }
    assert t.defaults == {}


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    assert chat(max_completion_tokens=5).request.options == {"num_predict": 5}
    assert chat(max_tokens=9, max_completion_tokens=5).request.options == {"num_predict": 5}


@pytest.mark.parametrize(
    ("stop", "want"),
    [("x", ["x"]), (["a", 1, "b"], ["a", "b"]), ([], None), (5, None), (None, None)],
)
def test_chat_stop(stop: Any, want: list[str] | None) -> None:
    options = chat(stop=stop).request.options or {}
    assert options.get("stop") == want


@pytest.mark.parametrize(
    ("fmt", "want"),
    [
        ({"type": "json_object"}, "json"),
        (
            {"type": " JSON_Schema ", "json_schema": {"name": "x", "schema": {"type": "object"}}},
            {"type": "object"},
        ),
        ({"type": "json_schema"}, None),
        ({"type": "json_schema", "json_schema": {"name": "x"}}, None),
        ({"type": "text"}, None),
    ],
)
def test_response_format(fmt: dict[str, Any], want: Any) -> None:
    assert chat(response_format=fmt).request.format == want


@pytest.mark.parametrize(
    ("effort", "think"),
    [
        ("none", False),
        ("minimal", "low"),
        ("low", "low"),
        ("medium", "medium"),
        ("high", "high"),
        ("max", "max"),
        ("xhigh", "max"),
        ("ultra", "max"),
        ("", None),
    ],
)
def test_reasoning_effort(effort: str, think: Any) -> None:
    assert chat(reasoning_effort=effort).request.think == think
    assert chat(reasoning={"effort": effort}).request.think == think


def test_reasoning_object_wins_even_when_empty() -> None:
    assert chat(reasoning={"effort": "high"}, reasoning_effort="low").request.think == "high"
    assert chat(reasoning={}, reasoning_effort="low").request.think is None
    assert chat(reasoning=None, reasoning_effort="low").request.think == "low"


def test_bad_reasoning_effort() -> None:
    assert chat_error(reasoning_effort="huge") == (
        'invalid reasoning value: "huge" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", '
        '"max", or "none")'
    )


def test_logprobs_stream_options_and_debug_render() -> None:
    t = chat(
        logprobs=True,
        top_logprobs=3,
        stream=True,
        stream_options={"include_usage": True},
        _debug_render_only=True,
    )
    assert (t.request.logprobs, t.request.top_logprobs, t.request.debug_render_only) == (True, 3, True)
    assert (t.request.stream, t.stream, t.include_usage) == (True, True, True)
    assert chat(stream=False, stream_options={"include_usage": True}).include_usage is True
    assert chat(logprobs=None, top_logprobs=None).request.logprobs is False


def test_tools_pass_through() -> None:
    assert chat(tools=TOOLS).request.tools == TOOLS
    assert chat(tools=[]).request.tools is None


def test_content_parts_become_messages_of_their_own() -> None:
    parts = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": f"data:;base64,{PNG}"},
        {"type": "input_audio", "input_audio": {"data": PNG, "format": "wav"}},
    ]
    assert chat(messages=user(parts)).request.messages == [
        Message(role="user", content="look"),
        Message(role="user", images=[PNG]),
        Message(role="user", images=[PNG]),
        Message(role="user", images=[PNG]),
    ]


@pytest.mark.parametrize("kind", ["jpeg", "jpg", "png", "webp"])
def test_image_mime_types(kind: str) -> None:
    parts = [{"type": "image_url", "image_url": {"url": f"data:image/{kind};base64,{PNG}"}}]
    assert chat(messages=user(parts)).request.messages == [Message(role="user", images=[PNG])]


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            "image URLs are not currently supported, please use base64 encoded data instead",
        ),
        (
            {"type": "image_url", "image_url": "http://x/a.png"},
            "image URLs are not currently supported, please use base64 encoded data instead",
        ),
        ({"type": "image_url", "image_url": {"url": f"data:image/gif;base64,{PNG}"}}, "invalid image input"),
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, "invalid image input"),
        ({"type": "image_url", "image_url": {"url": 5}}, "invalid message format"),
        ({"type": "image_url"}, "invalid message format"),
        ({"type": "text", "text": 5}, "invalid message format"),
        ({"type": "video"}, "invalid message format"),
        ("just text", "invalid message format"),
        ({"type": "input_audio", "input_audio": "x"}, "invalid input_audio format"),
        ({"type": "input_audio", "input_audio": {}}, "invalid input_audio format: missing data"),
        (
            {"type": "input_audio", "input_audio": {"data": "abc*"}},
            "invalid input_audio base64 data: illegal base64 data at input byte 3",
        ),
    ],
)
def test_content_part_errors(part: Any, message: str) -> None:
    assert chat_error(messages=user([part])) == message


def test_assistant_tool_calls_and_tool_results() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "reasoning": "need a tool",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "Tool", "name": "explicit", "tool_call_id": "c1", "content": "warm"},
    ]
    got = chat(messages=messages).request.messages
    assert got == [
        Message(role="user", content="weather?"),
        Message(
            role="assistant",
            thinking="need a tool",
            tool_calls=[
                ToolCallIn(
                    id="c1", function=ToolCallFunction(name="get_weather", arguments={"city": "Paris"})
                )
            ],
        ),
        Message(role="tool", content="sunny", tool_name="get_weather", tool_call_id="c1"),
        Message(role="Tool", content="warm", tool_name="explicit", tool_call_id="c1"),
    ]


def test_tool_name_lookup_takes_the_last_matching_call() -> None:
    call = {"type": "function", "function": {"name": "first", "arguments": "{}"}, "id": "dup"}
    later = {**call, "function": {"name": "second", "arguments": "{}"}}
    messages = [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "assistant", "content": "", "tool_calls": [later]},
        {"role": "tool", "tool_call_id": "dup", "content": "r"},
    ]
    got = chat(messages=messages).request.messages
    assert got is not None
    assert got[-1].tool_name == "second"


def test_tool_calls_land_on_the_last_part() -> None:
    messages = [
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            "reasoning": "r",
            "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "null"}}],
        }
    ]
    got = chat(messages=messages).request.messages
    assert got == [
        Message(role="assistant", content="a"),
        Message(
            role="assistant",
            content="b",
            thinking="r",
            tool_calls=[ToolCallIn(id="c", function=ToolCallFunction(name="f"))],
        ),
    ]


@pytest.mark.parametrize(
    ("content", "kind"),
    [(None, "<nil>"), (1.5, "float64"), (True, "bool"), ({"a": 1}, "map[string]interface {}")],
)
def test_content_type_errors(content: Any, kind: str) -> None:
    assert chat_error(messages=user(content)) == f"invalid message content type: {kind}"


def test_absent_content_needs_tool_calls() -> None:
    assert chat_error(messages=[{"role": "user"}]) == "invalid message content type: <nil>"
    got = chat(messages=[{"role": "assistant", "tool_calls": []}]).request.messages
    assert got == [Message(role="assistant")]


@pytest.mark.parametrize("arguments", ["", "{bad", "[1]", None])
def test_invalid_tool_call_arguments(arguments: str | None) -> None:
    call: dict[str, Any] = {"id": "c", "function": {"name": "f"}}
    if arguments is not None:
        call["function"]["arguments"] = arguments
    messages = [{"role": "assistant", "content": "", "tool_calls": [call]}]
    assert chat_error(messages=messages) == "invalid tool call arguments"


def test_request_shape_errors() -> None:
    assert chat_error(messages=[]) == "[] is too short - 'messages'"
    with pytest.raises(BadRequest, match=r"^EOF$"):
        oa.chat_request(b"  ")
    with pytest.raises(BadRequest, match=r"\$\.messages\[0\]\.role"):
        oa.chat_request(b'{"model":"m","messages":[{"role":5,"content":"x"}]}')
    with pytest.raises(BadRequest, match="malformed"):
        oa.chat_request(b"{x")


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (None, ToolChoice()),
        ("auto", ToolChoice()),
        ("none", ToolChoice(mode="none")),
        ("required", ToolChoice(mode="required")),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            ToolChoice(mode="required", name="get_weather"),
        ),
    ],
)
def test_tool_choice(value: Any, want: ToolChoice) -> None:
    assert chat(tools=TOOLS, tool_choice=value).tool_choice == want


@pytest.mark.parametrize(
    ("value", "tools", "message"),
    [
        (
            "sometimes",
            TOOLS,
            'invalid tool_choice: "sometimes" (must be "auto", "none", "required" or a function)',
        ),
        (3, TOOLS, "invalid tool_choice: expected a string or an object, got number"),
        (
            {"type": "allowed_tools"},
            TOOLS,
            'invalid tool_choice type: "allowed_tools" (only "function" is supported)',
        ),
        (
            {"function": {"name": "x"}},
            TOOLS,
            'invalid tool_choice: the object has no "type"',
        ),
        ({"type": "function"}, TOOLS, 'tool_choice of type "function" needs the function\'s name'),
        (
            {"type": "function", "name": "get_weather"},
            TOOLS,
            'tool_choice of type "function" needs the function\'s name',
        ),
        (
            {"type": "function", "function": {"name": "nope"}},
            TOOLS,
            'tool_choice names function "nope", which is not in tools',
        ),
        ("required", None, "tool_choice requires tools: none were given"),
    ],
)
def test_tool_choice_errors(value: Any, tools: Any, message: str) -> None:
    assert chat_error(tools=tools, tool_choice=value) == message


def test_none_and_auto_need_no_tools() -> None:
    assert chat(tool_choice="none").tool_choice == ToolChoice(mode="none")
    assert chat(tool_choice="auto").tool_choice == ToolChoice()


# --- chat answers ----------------------------------------------------------------------------------

DONE: dict[str, Any] = {
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 10,
    "prompt_eval_cached_count": 4,
    "eval_count": 3,
}
USAGE = {
    "prompt_tokens": 10,
    "completion_tokens": 3,
    "total_tokens": 13,
    "prompt_tokens_details": {"cached_tokens": 4},
}


def completion_body(chunk: Chunk, **kw: Any) -> dict[str, Any]:
    body = oa.chat_completion(
        chunk, completion_id="chatcmpl-7", model="m", created=100, rng=random.Random(0), **kw
    )
    ChatCompletion.model_validate(body)
    return body


def test_chat_completion_content() -> None:
    body = completion_body(Chunk(content="Hello", **DONE))
    assert body == {
        "id": "chatcmpl-7",
        "object": "chat.completion",
        "created": 100,
        "model": "m",
        "system_fingerprint": "fp_ollama",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}
        ],
        "usage": USAGE,
    }
    assert list(body) == ["id", "object", "created", "model", "system_fingerprint", "choices", "usage"]


def test_chat_completion_reasoning_and_tool_calls() -> None:
    calls = [ToolCall(name="get_weather", arguments={"city": "<Paris>", "days": 2.0}, id="call_x", index=0)]
    body = completion_body(Chunk(thinking="hmm", tool_calls=calls, **DONE))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": "",
        "reasoning": "hmm",
        "tool_calls": [
            {
                "id": "call_x",
                "index": 0,
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"\\u003cParis\\u003e","days":2}'},
            }
        ],
    }


def test_chat_completion_generates_missing_call_ids() -> None:
    calls = [ToolCall(name="f", arguments={}), ToolCall(name="g", arguments={}, index=1)]
    first = completion_body(Chunk(tool_calls=calls, **DONE))["choices"][0]["message"]["tool_calls"]
    again = completion_body(Chunk(tool_calls=calls, **DONE))["choices"][0]["message"]["tool_calls"]
    assert [c["id"] for c in first] == [c["id"] for c in again]  # the rng decides
    assert all(c["id"].startswith("call_") and len(c["id"]) == 13 for c in first)
    assert [c["index"] for c in first] == [0, 1]


def test_chat_completion_length_logprobs_and_debug() -> None:
    lps = [
        TokenLogprob(
            token="Hi", logprob=-0.1, bytes=[72, 105], top_logprobs=[TokenLogprob(token="Hi", logprob=-0.1)]
        )
    ]
    body = completion_body(Chunk(content="Hi", logprobs=lps, **{**DONE, "done_reason": "length"}))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["logprobs"] == {
        "content": [
            {
                "token": "Hi",
                "logprob": -0.1,
                "bytes": [72, 105],
                "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": None}],
            }
        ]
    }
    info = DebugInfo(rendered_template="<prompt>", image_count=1)
    debug = oa.chat_completion(Chunk(done=True), completion_id="c", model="m", created=1, debug_info=info)
    assert debug["_debug_info"] == {"rendered_template": "<prompt>", "image_count": 1}
    assert debug["choices"][0]["finish_reason"] is None


def stream(chunks: list[Chunk], include_usage: bool = False) -> list[Any]:
    w = oa.ChatStreamWriter(
        completion_id="chatcmpl-7", model="m", created=100, include_usage=include_usage, rng=random.Random(0)
    )
    frames = data_frames(b"".join(w.feed(c) for c in chunks))
    for f in frames[:-1]:
        ChatCompletionChunk.model_validate(f)
        assert (f["id"], f["object"], f["created"], f["model"], f["system_fingerprint"]) == (
            "chatcmpl-7",
            "chat.completion.chunk",
            100,
            "m",
            "fp_ollama",
        )
    assert frames[-1] == "[DONE]"
    return frames


def deltas(frames: list[Any]) -> list[Any]:
    return [
        (f["choices"][0]["delta"], f["choices"][0]["finish_reason"]) if f["choices"] else f["usage"]
        for f in frames[:-1]
    ]


def test_stream_content_only() -> None:
    frames = stream([Chunk(content="Hel"), Chunk(), Chunk(content="lo"), Chunk(**DONE)])
    assert deltas(frames) == [
        ({"role": "assistant", "content": "Hel"}, None),
        ({"content": "lo"}, None),
        ({}, "stop"),
    ]


def test_stream_thinking_then_content_splits_the_mixed_chunk() -> None:
    lps = [TokenLogprob(token="a", logprob=-1.0)]
    frames = stream(
        [Chunk(thinking="Let me"), Chunk(thinking=" see", content="Yes", logprobs=lps), Chunk(**DONE)]
    )
    assert deltas(frames) == [
        ({"role": "assistant", "content": "", "reasoning": "Let me"}, None),
        ({"reasoning": " see"}, None),
        ({"content": "Yes"}, None),
        ({}, "stop"),
    ]
    assert "logprobs" in frames[1]["choices"][0] and "logprobs" not in frames[2]["choices"][0]


def test_stream_first_mixed_chunk_has_role_on_its_reasoning_half() -> None:
    frames = stream([Chunk(thinking="t", content="c"), Chunk(**DONE)])
    assert deltas(frames)[:2] == [({"role": "assistant", "reasoning": "t"}, None), ({"content": "c"}, None)]


def test_stream_tool_calls_are_whole_deltas() -> None:
    calls = [
        ToolCall(name="f", arguments={"a": 1}, id="call_1"),
        ToolCall(name="g", arguments={}, id="call_2", index=1),
    ]
    frames = stream([Chunk(content="ok"), Chunk(tool_calls=calls), Chunk(**DONE)])
    got = deltas(frames)
    assert got[1] == (
        {
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "index": 0,
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a":1}'},
                },
                {
                    "id": "call_2",
                    "index": 1,
                    "type": "function",
                    "function": {"name": "g", "arguments": "{}"},
                },
            ],
        },
        None,
    )
    assert got[-1] == ({}, "tool_calls")


def test_stream_length_finish_and_usage() -> None:
    frames = stream([Chunk(content="a"), Chunk(**{**DONE, "done_reason": "length"})], include_usage=True)
    assert deltas(frames) == [({"role": "assistant", "content": "a"}, None), ({}, "length"), USAGE]
    assert frames[-2]["choices"] == []


def test_stream_usage_off_has_no_usage_chunk() -> None:
    frames = stream([Chunk(content="a"), Chunk(**DONE)])
    assert all("usage" not in f for f in frames[:-1])


def test_stream_done_chunk_with_content_and_empty_completion() -> None:
    assert deltas(stream([Chunk(content="all", **DONE)])) == [
        ({"role": "assistant", "content": "all"}, None),
        ({}, "stop"),
    ]
    assert deltas(stream([Chunk(**DONE)])) == [({"role": "assistant", "content": ""}, None), ({}, "stop")]
    lps = [TokenLogprob(token="x", logprob=-0.5)]
    frames = stream([Chunk(content="x"), Chunk(logprobs=lps, **DONE)])
    assert len(frames) == 4 and frames[1]["choices"][0]["logprobs"]["content"][0]["logprob"] == -0.5


def test_stream_error_frame() -> None:
    w = oa.ChatStreamWriter(completion_id="c", model="m", created=1)
    assert data_frames(w.error("boom")) == [
        {"error": {"message": "boom", "type": "api_error", "param": None, "code": None}}
    ]


def test_ids_come_from_the_rng() -> None:
    assert oa.chat_id(random.Random(3)) == oa.chat_id(random.Random(3))
    assert all(0 <= int(oa.chat_id(random.Random(i)).removeprefix("chatcmpl-")) <= 998 for i in range(20))
    assert oa.completion_id(random.Random(1)).startswith("cmpl-")


# --- completions -----------------------------------------------------------------------------------


def complete(**body: Any) -> oa.CompletionTranslation:
    body.setdefault("model", "m")
    body.setdefault("prompt", "Once")
    return oa.completion_request(json.dumps(body).encode())


def test_completion_request_defaults() -> None:
    t = complete()
    assert (t.request.model, t.request.prompt, t.request.stream) == ("m", "Once", False)
    assert t.request.options is None
    assert t.defaults == {"temperature": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0, "top_p": 1.0}


def test_completion_request_fields() -> None:
    t = complete(
        suffix="end",
        max_tokens=4,
        temperature=0.1,
        seed=3,
        stop=["a", "b"],
        top_p=0.0,
        frequency_penalty=0.5,
        presence_penalty=0.25,
        logprobs=2,
        stream=True,
        stream_options={"include_usage": True},
        _debug_render_only=True,
    )
    assert t.request.suffix == "end"
    assert t.request.options == {
        "stop": ["a", "b"],
        "num_predict": 4,
        "temperature": 0.1,
        "seed": 3,
        "frequency_penalty": 0.5,
        "presence_penalty": 0.25,
    }
    assert t.defaults == {"top_p": 1.0}  # top_p 0 is Go's unset
    assert (t.request.logprobs, t.request.top_logprobs, t.request.debug_render_only) == (True, 2, True)
    assert (t.stream, t.include_usage) == (True, True)
    assert complete(logprobs=0).request.logprobs is False
    assert complete(stop="x").request.options == {"stop": ["x"]}


def test_completion_request_errors() -> None:
    with pytest.raises(BadRequest, match=r"^invalid type for 'stop' field: float64$"):
        complete(stop=["a", 1])
    with pytest.raises(BadRequest, match=r"\$\.prompt"):
        complete(prompt=["a", "b"])


def test_completion_body() -> None:
    lps = [
        TokenLogprob(token="Hi", logprob=-0.1, top_logprobs=[TokenLogprob(token="Hi", logprob=-0.1)]),
        TokenLogprob(token="!", logprob=-2.0),
    ]
    body = oa.completion(
        Chunk(content="Hi!", logprobs=lps, **DONE), completion_id="cmpl-1", model="m", created=9
    )
    Completion.model_validate(body)
    assert body == {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 9,
        "model": "m",
        "system_fingerprint": "fp_ollama",
        "choices": [
            {
                "text": "Hi!",
                "index": 0,
                "finish_reason": "stop",
                "logprobs": {
                    "tokens": ["Hi", "!"],
                    "token_logprobs": [-0.1, -2.0],
                    "top_logprobs": [{"Hi": -0.1}, {}],
                    "text_offset": [0, 2],
                },
            }
        ],
        "usage": USAGE,
    }


def completion_stream(chunks: list[Chunk], include_usage: bool) -> list[Any]:
    w = oa.CompletionStreamWriter(completion_id="cmpl-1", model="m", created=9, include_usage=include_usage)
    frames = data_frames(b"".join(w.feed(c) for c in chunks))
    for f in frames[:-1]:
        Completion.model_validate(
            {**f, "choices": [{**c, "finish_reason": c["finish_reason"] or "stop"} for c in f["choices"]]}
        )
        assert list(f)[:6] == ["id", "object", "created", "choices", "model", "system_fingerprint"]
    assert frames[-1] == "[DONE]"
    return frames


def test_completion_stream() -> None:
    lps = [TokenLogprob(token="b", logprob=-1.0)]
    frames = completion_stream(
        [
            Chunk(content="a", logprobs=[TokenLogprob(token="a", logprob=-0.5)]),
            Chunk(),
            Chunk(content="b", logprobs=lps),
            Chunk(**DONE),
        ],
        False,
    )
    assert [(f["choices"][0]["text"], f["choices"][0]["finish_reason"]) for f in frames[:-1]] == [
        ("a", None),
        ("b", None),
        ("", "stop"),
    ]
    assert frames[1]["choices"][0]["logprobs"]["text_offset"] == [1]
    assert all("usage" not in f for f in frames[:-1])


def test_completion_stream_usage() -> None:
    frames = completion_stream([Chunk(content="a"), Chunk(**{**DONE, "done_reason": "length"})], True)
    zero = {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    assert [f["usage"] for f in frames[:-1]] == [zero, zero, USAGE]  # Ollama writes zero usage on each chunk
    assert frames[1]["choices"][0]["finish_reason"] == "length"
    assert frames[2]["choices"] == []


# --- embeddings ------------------------------------------------------------------------------------


def embed(**body: Any) -> oa.EmbeddingTranslation:
    body.setdefault("model", "e")
    return oa.embedding_request(json.dumps(body).encode())


def test_embedding_requests() -> None:
    t = embed(input=["a", "b"], dimensions=8, encoding_format="BASE64")
    assert (t.request.model, t.request.input, t.request.dimensions, t.encoding_format) == (
        "e",
        ["a", "b"],
        8,
        "BASE64",
    )
    assert embed(input="").request.input == [""]
    assert embed(input="x").request.input == "x"
    assert embed(input=[[1, 2]]).request.input == [[1, 2]]  # /api/embed says "invalid input type"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "invalid input"),
        ({"input": None}, "invalid input"),
        ({"input": []}, "invalid input"),
        (
            {"input": "x", "encoding_format": "int8"},
            "Invalid value for 'encoding_format' = int8. Supported values: ['float', 'base64'].",
        ),
    ],
)
def test_embedding_request_errors(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as exc:
        embed(**body)
    assert exc.value.message == message


def test_embedding_list_float_and_base64() -> None:
    resp = EmbedResponse(model="e", embeddings=[[0.5, -1.0], [0.25, 2.0]], prompt_eval_count=6)
    body = oa.embedding_list(resp, model="e", encoding_format="float")
    CreateEmbeddingResponse.model_validate(body)
    assert body == {
        "object": "list",
        "data": [
            {"object": "embedding", "embedding": [0.5, -1.0], "index": 0},
            {"object": "embedding", "embedding": [0.25, 2.0], "index": 1},
        ],
        "model": "e",
        "usage": {"prompt_tokens": 6, "total_tokens": 6},
    }
    b64 = oa.embedding_list(resp, model="e", encoding_format="Base64")
    raw = base64.b64decode(b64["data"][1]["embedding"])
    assert struct.unpack("<2f", raw) == (0.25, 2.0)
    assert oa.embedding_list(EmbedResponse(model="e", embeddings=[]), model="e")["data"] is None


def test_sdk_accumulates_the_stream() -> None:
    """The SDK's own stream helper rebuilds the whole answer from our chunks."""
    from openai.lib.streaming.chat import ChatCompletionStreamState

    calls = [
        ToolCall(name="f", arguments={"a": 1}, id="c1"),
        ToolCall(name="g", arguments={}, id="c2", index=1),
    ]
    chunks = [
        Chunk(thinking="hm"),
        Chunk(thinking="m", content="Yes"),
        Chunk(content=" sir"),
        Chunk(tool_calls=calls),
        Chunk(**DONE),
    ]
    state = ChatCompletionStreamState()
    for frame in stream(chunks, include_usage=True)[:-1]:
        state.handle_chunk(ChatCompletionChunk.model_validate(frame))
    final = state.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Yes sir"
    assert [(t.id, t.function.name, t.function.arguments) for t in message.tool_calls or ()] == [
        ("c1", "f", '{"a":1}'),
        ("c2", "g", "{}"),
    ]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None and final.usage.total_tokens == 13
