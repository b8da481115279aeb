"""The pieces the dialects share: error bodies, tool-call arguments, chunk collection."""

from __future__ import annotations

import random

import pytest
from anthropic.types import ErrorResponse

from pyollama.runner.types import Chunk, TokenLogprob, ToolCall
from pyollama.server.compat import common


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "invalid_request_error"), (404, "not_found_error"), (500, "api_error"), (503, "api_error")],
)
def test_openai_error_body(status: int, kind: str) -> None:
    assert common.openai_error_body(status, "nope") == (
        status,
        {"error": {"message": "nope", "type": kind, "param": None, "code": None}},
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (429, "rate_limit_error"),
        (503, "overloaded_error"),
        (529, "overloaded_error"),
        (500, "api_error"),
    ],
)
def test_anthropic_error_body(status: int, kind: str) -> None:
    got_status, body = common.anthropic_error_body(status, "nope", rng=random.Random(1))
    assert got_status == status
    assert body["type"] == "error" and body["error"] == {"type": kind, "message": "nope"}
    assert (
        body["request_id"] == common.anthropic_error_body(status, "x", rng=random.Random(1))[1]["request_id"]
    )
    assert body["request_id"].startswith("req_") and len(body["request_id"]) == 28
    ErrorResponse.model_validate(body)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unexpected end of JSON input"),
        ("  ", "unexpected end of JSON input"),
        ("x", "invalid character 'x' looking for beginning of value"),
        ("'a'", "invalid character '\\'' looking for beginning of value"),
        ("{", "unexpected end of JSON input"),
        ("[1]", "json: cannot unmarshal array into Go value of type map[string]interface {}"),
        ('"s"', "json: cannot unmarshal string into Go value of type map[string]interface {}"),
    ],
)
def test_json_object_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        common.json_object(text)
    assert str(exc.value) == message


def test_json_object() -> None:
    assert common.json_object('{"b":1,"a":2}') == {"b": 1, "a": 2}
    assert common.json_object("null") is None
    # as Go fills the arguments map: top level in order, nested maps sorted, numbers float64
    args = common.json_object('{"z": {"d": 1.0, "c": 2}, "a": 12345678901234567890}')
    assert args == {"z": {"c": 2, "d": 1}, "a": 12345678901234567000}
    assert args is not None and list(args) == ["z", "a"] and list(args["z"]) == ["c", "d"]
    with pytest.raises(ValueError, match=r"^invalid character 'x' after object key:value pair$"):
        common.json_object('{"a":1x')


def test_collect() -> None:
    lp = TokenLogprob(token="a", logprob=-1.0)
    chunks = [
        Chunk(thinking="t1"),
        Chunk(thinking="t2", content="a", logprobs=[lp]),
        Chunk(tool_calls=[ToolCall(name="f", arguments={})]),
        Chunk(
            content="b",
            done=True,
            done_reason="length",
            prompt_eval_count=5,
            prompt_eval_cached_count=2,
            eval_count=4,
        ),
    ]
    got = common.collect(chunks)
    assert (got.content, got.thinking, got.done, got.done_reason) == ("ab", "t1t2", True, "length")
    assert got.tool_calls == [ToolCall(name="f", arguments={})] and got.logprobs == [lp]
    assert (got.prompt_eval_count, got.prompt_eval_cached_count, got.eval_count) == (5, 2, 4)
    empty = common.collect([])
    assert empty.done and empty.content == "" and empty.tool_calls is None


def test_with_ids_keeps_given_ids() -> None:
    calls = [ToolCall(name="f", arguments={}, id="mine"), ToolCall(name="g", arguments={}, index=1)]
    got = common.with_ids(calls, random.Random(0))
    assert got[0].id == "mine" and got[1].id.startswith("call_") and got[1].index == 1
    assert calls[1].id == ""  # the chunk itself is left alone


def test_sse_framing() -> None:
    assert common.sse_data({"a": 1}) == b'data: {"a":1}\n\n'
    assert common.sse_event("ping", {"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'
