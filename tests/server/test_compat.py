"""OpenAI/Anthropic-compatible routes over FakeRunner: model resolution, passthrough, SSE, errors."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.routes_compat import rename_json, rename_sse

Client = TestClient[Any, Any]


async def test_chat_completions_passthrough_and_model_name(
    client: Client, factory: FakeRunnerFactory
) -> None:
    body = {"model": "m1", "messages": [{"role": "user", "content": "hello there"}]}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    out = await r.json()
    assert out["model"] == "m1"
    assert out["choices"][0]["message"]["content"] == "hello there"
    route, sent = factory.runners[0].proxied[-1]
    assert route == "/v1/chat/completions"
    assert sent["temperature"] == 1.0 and sent["top_p"] == 1.0  # Ollama's OpenAI defaults


async def test_modelfile_parameters_under_request(client: Client, factory: FakeRunnerFactory) -> None:
    body = {"model": "tmpl", "messages": [{"role": "user", "content": "x"}], "temperature": 0.5}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status == 200
    sent = factory.runners[0].proxied[-1][1]
    assert sent["temperature"] == 0.5  # the request wins over PARAMETER temperature 0.1


async def test_chat_completions_stream_sse(client: Client) -> None:
    body = {"model": "m1", "stream": True, "messages": [{"role": "user", "content": "a b c"}]}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/event-stream"
    text = (await r.read()).decode()
    events = [e for e in text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    deltas = [json.loads(e[6:])["choices"][0]["delta"].get("content", "") for e in events[:-1]]
    assert "".join(deltas) == "a b c"


async def test_openai_errors_shape(client: Client) -> None:
    r = await client.post("/v1/chat/completions", json={"model": "nope", "messages": [{"role": "user"}]})
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
    r = await client.post("/v1/chat/completions", json={"messages": []})
    assert r.status == 400 and (await r.json())["error"]["message"] == "model is required"
    r = await client.post("/v1/chat/completions", json={"model": "m1", "messages": []})
    assert r.status == 400 and (await r.json())["error"]["message"] == "[] is too short - 'messages'"
    r = await client.post("/v1/chat/completions", json={"model": "emb", "messages": [{"role": "user"}]})
    assert r.status == 400


async def test_anthropic_error_shape(client: Client) -> None:
    r = await client.post(
        "/v1/messages", json={"model": "nope", "max_tokens": 5, "messages": [{"role": "user"}]}
    )
    assert r.status == 404
    body = await r.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert body["request_id"].startswith("req_")


async def test_messages_and_embeddings_reach_engine(client: Client, factory: FakeRunnerFactory) -> None:
    r = await client.post(
        "/v1/messages", json={"model": "m1", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert r.status == 200
    r = await client.post("/v1/messages/count_tokens", json={"model": "m1", "messages": [{"role": "user"}]})
    assert r.status == 200
    r = await client.post("/v1/embeddings", json={"model": "emb", "input": "hi"})
    assert r.status == 200
    routes = [route for runner in factory.runners for route, _ in runner.proxied]
    assert routes == ["/v1/messages", "/v1/messages/count_tokens", "/v1/embeddings"]


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


def test_rename_helpers() -> None:
    assert json.loads(rename_json(b'{"model":"x.gguf","a":1}', "m")) == {"model": "m", "a": 1}
    sse = b'event: message_start\ndata: {"message":{"model":"x"}}\n\ndata: [DONE]\n\n'
    out = rename_sse(sse, "m")
    assert b'"model":"m"' in out and out.endswith(b"data: [DONE]\n\n") and b"event: message_start" in out
