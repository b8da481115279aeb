"""End-to-end: a real `pyollama serve` with SmolLM2 and Gemma-3-270M, driven by the official
`ollama` client and by raw HTTP (NDJSON bytes, statuses, error messages, OpenAI routes). Slow."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.server.daemon import Daemon, create_from_file, need_engine
from tests.template.test_prompt import EXPECTED, GEMMA3

pytestmark = pytest.mark.slow
RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
FAST = {"num_predict": 12, "temperature": 0, "seed": 1}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Iterator[Daemon]:
    need_engine()
    home = tmp_path_factory.mktemp("e2e-api")
    d = Daemon(home, home / "models", {"PYOLLAMA_CONTEXT_LENGTH": "2048", "PYOLLAMA_NUM_PARALLEL": "2"})
    try:
        create_from_file(d.url, "smol", smollm2_path)
        yield d
    finally:
        assert d.stop() == 0, d.log_text()[-3000:]


@pytest.fixture(scope="module")
def client(daemon: Daemon) -> Iterator[Any]:
    import ollama

    with ollama.Client(host=daemon.url) as c:
        yield c


def ndjson(body: bytes) -> list[dict[str, Any]]:
    assert body.endswith(b"\n") and b"\n\n" not in body, body[-200:]
    return [json.loads(line) for line in body.split(b"\n")[:-1]]


# --- model management ------------------------------------------------------------------------------


def test_tags_show_after_create_via_blobs(client: Any) -> None:
    names = [m.model for m in client.list().models]
    assert "smol:latest" in names
    show = client.show("smol")
    assert show.details.family == "llama" and show.details.quantization_level == "Q4_1"
    assert show.modelinfo["llama.embedding_length"] == 576
    assert "completion" in (show.capabilities or [])


def test_copy_and_delete(client: Any) -> None:
    import ollama

    client.copy("smol", "smol-copy:v1")
    assert "smol-copy:v1" in [m.model for m in client.list().models]
    client.delete("smol-copy:v1")
    assert "smol-copy:v1" not in [m.model for m in client.list().models]
    with pytest.raises(ollama.ResponseError) as exc:
        client.delete("smol-copy:v1")
    assert exc.value.status_code == 404 and exc.value.error == "model 'smol-copy:v1' not found"


# --- generate / chat ------------------------------------------------------------------------------


def test_generate_stream_with_client(client: Any) -> None:
    parts = list(client.generate(model="smol", prompt="Why is the sky blue?", options=FAST, stream=True))
    assert all(not p.done for p in parts[:-1]) and parts[-1].done
    final = parts[-1]
    assert final.done_reason == "length" and final.eval_count == 12
    assert final.prompt_eval_count > 0 and final.total_duration > 0 and final.eval_duration > 0
    assert final.context and len(final.context) >= final.prompt_eval_count
    assert "".join(p.response for p in parts).strip()


def test_generate_not_streamed_with_client(client: Any) -> None:
    r = client.generate(model="smol", prompt="Why is the sky blue?", options=FAST)
    assert r.done and r.response.strip() and r.eval_count == 12 and r.context


async def test_generate_stream_raw_ndjson(daemon: Daemon) -> None:
    body = {"model": "smol", "prompt": "Name a colour.", "options": FAST}
    async with aiohttp.ClientSession() as s, s.post(daemon.url + "/api/generate", json=body) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "application/x-ndjson"
        lines = ndjson(await r.read())
    for line in lines[:-1]:
        assert list(line) == ["model", "created_at", "response", "done"] and line["done"] is False
    for line in lines:
        assert RFC3339_NANO.match(line["created_at"]), line["created_at"]
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "length"
    for key in (
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
    ):
        assert isinstance(final[key], int) and final[key] > 0, key
    assert isinstance(final["context"], list)


def test_chat_stream_and_not(client: Any) -> None:
    msgs = [{"role": "user", "content": "Say hello."}]
    parts = list(client.chat(model="smol", messages=msgs, options=FAST, stream=True))
    assert parts[-1].done and parts[-1].eval_count == 12
    assert all(p.message.role == "assistant" for p in parts)
    text = "".join(p.message.content for p in parts)
    r = client.chat(model="smol", messages=msgs, options=FAST)
    assert r.message.content == text  # temperature 0, same seed


async def test_chat_raw_ndjson(daemon: Daemon) -> None:
    body = {"model": "smol", "messages": [{"role": "user", "content": "Hi"}], "options": FAST}
    async with aiohttp.ClientSession() as s, s.post(daemon.url + "/api/chat", json=body) as r:
        lines = ndjson(await r.read())
    assert all(set(x) >= {"model", "created_at", "message", "done"} for x in lines)
    assert lines[-1]["done_reason"] in ("stop", "length") and 0 < lines[-1]["eval_count"] <= 12
    assert "context" not in lines[-1]


# --- embeddings ------------------------------------------------------------------------------------


def test_embed_and_legacy_embeddings(client: Any) -> None:
    r = client.embed(model="smol", input=["hello world", "goodbye"])
    assert len(r.embeddings) == 2
    for v in r.embeddings:
        assert len(v) == 576 and math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-4)
    assert r.embeddings[0] != r.embeddings[1]
    legacy = client.embeddings(model="smol", prompt="hello world")
    assert len(legacy.embedding) == 576
    norm = math.sqrt(sum(x * x for x in legacy.embedding))
    assert not math.isclose(norm, 1.0, rel_tol=1e-3)  # the legacy route is not normalised (Ollama)
    unit = [x / norm for x in legacy.embedding]
    assert all(math.isclose(a, b, abs_tol=1e-4) for a, b in zip(unit, r.embeddings[0], strict=True))
    cut = client.embed(model="smol", input="hello world", dimensions=64)
    assert len(cut.embeddings[0]) == 64


# --- errors ----------------------------------------------------------------------------------------


async def test_errors_raw(daemon: Daemon) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(daemon.url + "/api/generate", data=b"{not json") as r:
            assert r.status == 400 and "error" in await r.json()
        async with s.post(daemon.url + "/api/generate", data=b"") as r:
            assert r.status == 400 and (await r.json())["error"] == "missing request body"
        body = {"model": "smol", "prompt": "x", "options": {"num_ctx": "big"}}
        async with s.post(daemon.url + "/api/generate", json=body) as r:
            assert r.status == 400 and "$.options.num_ctx" in (await r.json())["error"]
        async with s.post(daemon.url + "/api/generate", json={"model": "smol", "prompt": 5}) as r:
            assert r.status == 400 and "$.prompt" in (await r.json())["error"]
        async with s.post(daemon.url + "/api/chat", json={"model": "nope", "messages": []}) as r:
            assert r.status == 404 and (await r.json())["error"] == "model 'nope' not found"
        think: dict[str, Any] = {"model": "smol", "prompt": "x", "think": True}
        async with s.post(daemon.url + "/api/generate", json=think) as r:
            assert r.status == 400 and (await r.json())["error"] == '"smol" does not support thinking'
        async with s.get(daemon.url + "/api/generate") as r:
            assert r.status == 405
        async with s.get(daemon.url + "/api/status") as r:
            assert (await r.json())["cloud"]["disabled"] is True


def test_errors_through_client(client: Any) -> None:
    import ollama

    with pytest.raises(ollama.ResponseError) as exc:
        client.generate(model="missing-model", prompt="x")
    assert exc.value.status_code == 404 and exc.value.error == "model 'missing-model' not found"


async def test_too_long_prompt_rejected_or_shifted(daemon: Daemon) -> None:
    long = "one two three four five six seven eight nine ten " * 120  # ~1200 tokens
    opts = {"num_ctx": 256, "num_predict": 4, "temperature": 0}
    async with aiohttp.ClientSession() as s:
        body = {"model": "smol", "prompt": long, "stream": False, "shift": False, "options": opts}
        async with s.post(daemon.url + "/api/generate", json=body) as r:
            assert r.status == 400
            assert (await r.json())["error"].startswith("the prompt is longer than the context length")
        body = {"model": "smol", "prompt": long, "stream": False, "options": opts}
        async with s.post(daemon.url + "/api/generate", json=body) as r:
            out = await r.json()
            assert r.status == 200, out
            assert out["done"] and out["prompt_eval_count"] < 256


# --- OpenAI / Anthropic compatible routes ---------------------------------------------------------


async def test_openai_routes(daemon: Daemon) -> None:
    msgs = [{"role": "user", "content": "Say hi."}]
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer ignored"}) as s:
        body = {"model": "smol", "messages": msgs, "max_tokens": 8, "temperature": 0}
        async with s.post(daemon.url + "/v1/chat/completions", json=body) as r:
            out = await r.json()
            assert r.status == 200, out
        assert out["object"] == "chat.completion" and out["model"] == "smol"
        assert out["choices"][0]["message"]["role"] == "assistant" and out["usage"]["completion_tokens"] <= 8
        async with s.post(daemon.url + "/v1/chat/completions", json={**body, "stream": True}) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream")
            text = (await r.read()).decode()
        events = [e for e in text.split("\n\n") if e.strip()]
        assert events[-1] == "data: [DONE]"
        chunks = [json.loads(e[6:]) for e in events[:-1]]
        assert all(c["object"] == "chat.completion.chunk" and c["model"] == "smol" for c in chunks)
        body2 = {"model": "smol", "prompt": "Once upon a time", "max_tokens": 6, "temperature": 0}
        async with s.post(daemon.url + "/v1/completions", json=body2) as r:
            out = await r.json()
            assert r.status == 200 and out["object"] == "text_completion" and out["choices"][0]["text"]
        async with s.post(daemon.url + "/v1/embeddings", json={"model": "smol", "input": ["a", "b"]}) as r:
            out = await r.json()
            assert r.status == 200 and len(out["data"]) == 2 and len(out["data"][0]["embedding"]) == 576
        async with s.get(daemon.url + "/v1/models") as r:
            assert "smol:latest" in {m["id"] for m in (await r.json())["data"]}
        async with s.get(daemon.url + "/v1/models/smol") as r:
            assert (await r.json())["id"] == "smol:latest"
        async with s.post(daemon.url + "/v1/chat/completions", json={**body, "model": "nope"}) as r:
            assert r.status == 404 and (await r.json())["error"]["type"] == "not_found_error"
        anth = {"model": "smol", "max_tokens": 8, "messages": msgs}
        async with s.post(daemon.url + "/v1/messages", json=anth) as r:
            out = await r.json()
            assert r.status == 200, out
            assert out["type"] == "message" and out["model"] == "smol" and out["content"]


# --- Gemma with a Go TEMPLATE, two models resident, keep_alive 0 ---------------------------------


@pytest.fixture(scope="module")
def gemma(daemon: Daemon, gemma_path: Path) -> str:
    params = {"stop": ["<end_of_turn>"]}
    create_from_file(daemon.url, "gemma-go", gemma_path, template=GEMMA3, parameters=params)
    return "gemma-go"


async def test_gemma_go_template_renders_exactly(daemon: Daemon, gemma: str, client: Any) -> None:
    assert client.show(gemma).template == GEMMA3
    async with aiohttp.ClientSession() as s:
        body = {"model": gemma, "prompt": "Why is the sky blue?", "_debug_render_only": True}
        async with s.post(daemon.url + "/api/generate", json=body) as r:
            out = await r.json()
        assert out["_debug_info"] == {
            "rendered_template": "<start_of_turn>user\nWhy is the sky blue?<end_of_turn>\n"
            "<start_of_turn>model\n\n",
            "image_count": 0,
        }
        convo = [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello, how are you?"},
            {"role": "assistant", "content": "I'm doing great. How can I help you today?"},
            {"role": "user", "content": "I'd like to show off how chat templating works!"},
        ]
        body = {"model": gemma, "messages": convo, "_debug_render_only": True}
        async with s.post(daemon.url + "/api/chat", json=body) as r:
            out = await r.json()
        assert out["_debug_info"]["rendered_template"] == EXPECTED["gemma3"]["system-user-assistant-user"]
    r = client.chat(model=gemma, messages=convo[1:2], options={"num_predict": 16, "temperature": 0})
    assert r.done and r.message.content.strip() and "<start_of_turn>" not in r.message.content


def test_two_models_resident_then_keep_alive_zero_unloads(client: Any, gemma: str) -> None:
    client.generate(model="smol", prompt="hi", options={"num_predict": 2})
    client.generate(model=gemma, prompt="hi", options={"num_predict": 2})
    loaded = {m.model for m in client.ps().models}
    assert {"smol:latest", "gemma-go:latest"} <= loaded
    for m in client.ps().models:
        assert m.size > 0 and m.size_vram == 0 and m.context_length == 2048 and m.expires_at is not None
    r = client.generate(model=gemma, prompt="", keep_alive=0)
    assert r.done_reason == "unload"
    client.generate(model="smol", prompt="hi", options={"num_predict": 2}, keep_alive=0)
    assert client.ps().models == []
