"""OpenAI/Anthropic routes over FakeRunner: translated into Ollama's requests and planned like them
(Modelfile applies), streamed back in each dialect, errors in each dialect's shape."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from pyollama.runner.fake import FakeRunnerFactory

Client = TestClient[Any, Any]


async def test_chat_completions_through_the_planner(client: Client, factory: FakeRunnerFactory) -> None:
    body = {"model": "m1", "messages": [{"role": "user", "content": "hello there"}]}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    out = await r.json()
    assert out["model"] == "m1" and out["object"] == "chat.completion"
    assert out["choices"][0]["message"]["content"] == "hello there"
    assert out["choices"][0]["finish_reason"] == "stop"
    sent = factory.runners[0].chats[-1]
    assert sent.options["temperature"] == 1.0 and sent.options["top_p"] == 1.0  # Ollama's OpenAI defaults


async def test_modelfile_applies_on_v1(client: Client, factory: FakeRunnerFactory) -> None:
    """SYSTEM, TEMPLATE and PARAMETERs of the Modelfile apply to /v1 as to /api/chat (Ollama
    translates; pyollama once passed the body to llama.cpp and lost them)."""
    body: dict[str, Any] = {"model": "tmpl", "messages": [{"role": "user", "content": "x"}]}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status == 200
    sent = factory.runners[0].completions[-1]
    assert sent.prompt == "SYS|x"  # the Go TEMPLATE rendered the Modelfile's SYSTEM
    assert sent.options["temperature"] == 0.1  # its PARAMETER wins over OpenAI's default
    body["temperature"] = 0.5
    await client.post("/v1/chat/completions", json=body)
    assert factory.runners[0].completions[-1].options["temperature"] == 0.5  # the request wins over both


async def test_chat_completions_stream_sse(client: Client) -> None:
    body = {"model": "m1", "stream": True, "messages": [{"role": "user", "content": "a b c"}]}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/event-stream"
    text = (await r.read()).decode()
    events = [e for e in text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "a b c"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_openai_errors_shape(client: Client) -> None:
    user = [{"role": "user", "content": "x"}]
    r = await client.post("/v1/chat/completions", json={"model": "nope", "messages": user})
    assert r.status == 404
    err = (await r.json())["error"]
    assert err == {
        "message": 'model "nope" not found, try pulling it first',
        "type": "not_found_error",
        "param": None,
        "code": None,
    }
    r = await client.post("/v1/chat/completions", data=b"{bad")
    assert r.status == 400 and (await r.json())["error"]["type"] == "invalid_request_error"
    r = await client.post("/v1/chat/completions", json={"messages": user})
    assert r.status == 400 and (await r.json())["error"]["message"] == "model is required"
    r = await client.post("/v1/chat/completions", json={"model": "m1", "messages": []})
    assert r.status == 400 and (await r.json())["error"]["message"] == "[] is too short - 'messages'"
    r = await client.post("/v1/chat/completions", json={"model": "emb", "messages": user})
    assert r.status == 400 and (await r.json())["error"]["message"] == '"emb" does not support chat'


async def test_tool_choice_none_offers_no_tools(client: Client, factory: FakeRunnerFactory) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    body = {"model": "m1", "messages": [{"role": "user", "content": "x"}], "tools": tools}
    r = await client.post("/v1/chat/completions", json={**body, "tool_choice": "none"})
    assert r.status == 200  # m1 cannot call tools, but none asks for no tools at all
    assert factory.runners[0].chats[-1].tools is None
    r = await client.post("/v1/chat/completions", json={**body, "tool_choice": "required"})
    assert r.status == 400


async def test_anthropic_error_shape(client: Client) -> None:
    r = await client.post(
        "/v1/messages",
        json={"model": "nope", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
    )
    assert r.status == 404
    body = await r.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert body["request_id"].startswith("req_")


async def test_messages_responses_count_and_embeddings(client: Client, factory: FakeRunnerFactory) -> None:
    r = await client.post(
        "/v1/messages", json={"model": "m1", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert r.status == 200
    body = await r.json()
    assert body["type"] == "message" and body["content"][0] == {"type": "text", "text": "hi"}
    assert factory.runners[0].chats[-1].options["num_predict"] == 5
    r = await client.post(
        "/v1/messages/count_tokens", json={"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert r.status == 200 and (await r.json())["input_tokens"] > 0
    r = await client.post("/v1/responses", json={"model": "m1", "input": "hello"})
    assert r.status == 200
    body = await r.json()
    assert body["object"] == "response" and body["output"][0]["content"][0]["text"] == "hello"
    r = await client.post("/v1/embeddings", json={"model": "emb", "input": "hi"})
    assert r.status == 200
    body = await r.json()
    assert body["object"] == "list" and len(body["data"][0]["embedding"]) == 8


async def test_models_list_and_retrieve(client: Client) -> None:
    r = await client.get("/v1/models")
    body = await r.json()
    assert body["object"] == "list"
    ids = {m["id"] for m in body["data"]}
    assert "m1:latest" in ids
    m = body["data"][0]
    assert m["object"] == "model" and m["owned_by"] == "library" and isinstance(m["created"], int)
    r = await client.get("/v1/models/m1")
    assert r.status == 200 and (await r.json())["id"] == "m1:latest"
    r = await client.get("/v1/models/nope")
    assert r.status == 404 and (await r.json())["error"]["message"] == 'model "nope" not found'


async def test_models_list_empty_is_null(make_client: Any) -> None:
    c = await make_client(models={})
    assert (await (await c.get("/v1/models")).json()) == {"object": "list", "data": None}
