"""Every route against FakeRunner: wire shape, statuses and Ollama's error strings."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from pyollama.runner.fake import FakeRunner, FakeRunnerFactory
from pyollama.runner.types import Chunk
from tests.server.conftest import ClientMaker, default_models, model, ndjson

RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
Client = TestClient[Any, Any]


async def test_root_and_version(client: Client) -> None:
    r = await client.get("/")
    assert r.status == 200 and await r.text() == "Ollama is running"
    r = await client.head("/")
    assert r.status == 200
    r = await client.get("/api/version")
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert await r.read() == b'{"version":"0.0.0-test"}'


async def test_404_and_405_texts(client: Client) -> None:
    r = await client.get("/nope")
    assert r.status == 404 and await r.text() == "404 page not found"
    r = await client.get("/api/generate")
    assert r.status == 405 and await r.text() == "405 method not allowed"


async def test_generate_stream_ndjson(client: Client) -> None:
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "hello big world"})
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/x-ndjson"
    lines = ndjson(await r.read())
    assert [x["response"] for x in lines[:-1]] == ["hello", " big", " world"]
    for x in lines[:-1]:
        assert list(x) == ["model", "created_at", "response", "done"]
        assert x["done"] is False and x["model"] == "m1"
        assert RFC3339_NANO.match(x["created_at"])
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop" and final["response"] == ""
    assert list(final)[:6] == ["model", "created_at", "response", "done", "done_reason", "context"]
    for k in ("total_duration", "load_duration", "prompt_eval_count", "eval_count", "eval_duration"):
        assert isinstance(final[k], int) and final[k] > 0
    assert isinstance(final["context"], list) and final["context"]


async def test_generate_not_streamed(client: Client) -> None:
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "a b c", "stream": False})
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    body = await r.json()
    assert body["response"] == "a b c" and body["done"] is True and body["done_reason"] == "stop"


async def test_generate_num_predict_length(client: Client) -> None:
    r = await client.post(
        "/api/generate",
        json={"model": "m1", "prompt": "a b c d", "stream": False, "options": {"num_predict": 2}},
    )
    body = await r.json()
    assert body["response"] == "a b" and body["done_reason"] == "length"


async def test_generate_raw_has_no_context(client: Client, factory: FakeRunnerFactory) -> None:
    r = await client.post(
        "/api/generate", json={"model": "m1", "prompt": "x y", "raw": True, "stream": False}
    )
    body = await r.json()
    assert "context" not in body
    assert factory.runners[0].completions[-1].prompt == "x y"


async def test_generate_raw_conflicts(client: Client) -> None:
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "x", "raw": True, "system": "s"})
    assert r.status == 400
    assert await r.json() == {"error": "raw mode does not support template, system, or context"}


async def test_generate_go_template_uses_complete(client: Client, factory: FakeRunnerFactory) -> None:
    r = await client.post("/api/generate", json={"model": "tmpl", "prompt": "hi", "stream": False})
    assert r.status == 200
    req = factory.runners[0].completions[-1]
    assert req.prompt == "SYS|hi"
    assert req.options["temperature"] == 0.1  # Modelfile PARAMETER layered under the request


async def test_generate_options_layering(client: Client, factory: FakeRunnerFactory) -> None:
    await client.post(
        "/api/generate",
        json={"model": "tmpl", "prompt": "hi", "stream": False, "options": {"temperature": 0.5, "top_k": 3}},
    )
    opts = factory.runners[0].completions[-1].options
    assert opts["temperature"] == 0.5 and opts["top_k"] == 3


async def test_generate_plain_model_uses_chat(client: Client, factory: FakeRunnerFactory) -> None:
    await client.post(
        "/api/generate", json={"model": "m1", "prompt": "hi", "system": "be nice", "stream": False}
    )
    msgs = factory.runners[0].chats[-1].messages
    assert msgs == [{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"}]


async def test_bad_json_and_types(client: Client) -> None:
    r = await client.post("/api/generate", data=b"{nope")
    assert r.status == 400 and "error" in await r.json()
    r = await client.post("/api/generate", data=b"")
    assert r.status == 400 and await r.json() == {"error": "missing request body"}
    r = await client.post("/api/generate", json={"model": "m1", "prompt": 3})
    assert r.status == 400 and "$.prompt" in (await r.json())["error"]
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "x", "options": {"num_ctx": "big"}})
    assert r.status == 400
    assert (await r.json())["error"] == 'option "num_ctx" must be of type integer - at `$.options.num_ctx`'


async def test_unknown_option_ignored(client: Client) -> None:
    r = await client.post(
        "/api/generate",
        json={
            "model": "m1",
            "prompt": "x",
            "stream": False,
            "options": {"penalize_newline": True, "numa": False},
        },
    )
    assert r.status == 200


async def test_keep_alive_parsing(client: Client) -> None:
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "x", "keep_alive": "300"})
    assert r.status == 400 and await r.json() == {"error": 'time: missing unit in duration "300"'}
    for ka in ("10m", 30, 1.5, -1, "-1m"):
        r = await client.post(
            "/api/generate", json={"model": "m1", "prompt": "x", "keep_alive": ka, "stream": False}
        )
        assert r.status == 200, ka


async def test_unknown_model_and_missing_model(client: Client) -> None:
    r = await client.post("/api/generate", json={"model": "nope", "prompt": "x"})
    assert r.status == 404 and await r.json() == {"error": "model 'nope' not found"}
    r = await client.post("/api/chat", json={"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    assert r.status == 404 and await r.json() == {"error": "model 'nope' not found"}
    r = await client.post("/api/chat", json={"messages": []})
    assert r.status == 400 and await r.json() == {"error": "model is required"}
    r = await client.post("/api/embed", json={"model": "nope", "input": "x"})
    assert r.status == 404
    assert await r.json() == {"error": 'model "nope" not found, try pulling it first'}


async def test_capability_errors(client: Client) -> None:
    r = await client.post("/api/generate", json={"model": "emb", "prompt": "x"})
    assert r.status == 400 and await r.json() == {"error": '"emb" does not support generate'}
    r = await client.post(
        "/api/chat",
        json={
            "model": "m1",
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f"}}],
        },
    )
    assert r.status == 400 and await r.json() == {"error": '"m1" does not support tools'}
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "x", "think": True})
    assert r.status == 400 and await r.json() == {"error": '"m1" does not support thinking'}
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "x", "top_logprobs": 21})
    assert r.status == 400 and await r.json() == {"error": "top_logprobs must be between 0 and 20"}


async def test_chat_stream_and_not(client: Client, factory: FakeRunnerFactory) -> None:
    body = {"model": "m1", "messages": [{"role": "USER", "content": "one two"}]}
    r = await client.post("/api/chat", json=body)
    lines = ndjson(await r.read())
    assert lines[0]["message"] == {"role": "assistant", "content": "one"}
    assert list(lines[0]) == ["model", "created_at", "message", "done"]
    assert list(lines[-1])[:5] == ["model", "created_at", "message", "done_reason", "done"]
    assert lines[-1]["message"] == {"role": "assistant", "content": ""}
    assert factory.runners[0].chats[-1].messages[0]["role"] == "user"
    r = await client.post("/api/chat", json={**body, "stream": False})
    out = await r.json()
    assert out["message"] == {"role": "assistant", "content": "one two"} and out["done"] is True


async def test_chat_go_template_renders(client: Client, factory: FakeRunnerFactory) -> None:
    r = await client.post(
        "/api/chat", json={"model": "tmpl", "stream": False, "messages": [{"role": "user", "content": "q"}]}
    )
    assert r.status == 200
    assert factory.runners[0].completions[-1].prompt == "SYS|q"


async def test_load_and_unload_requests(client: Client, factory: FakeRunnerFactory) -> None:
    r = await client.post("/api/generate", json={"model": "m1"})
    body = await r.json()
    assert body["done_reason"] == "load" and body["response"] == "" and body["done"] is True
    assert len(factory.live()) == 1
    ps = await (await client.get("/api/ps")).json()
    assert [m["name"] for m in ps["models"]] == ["m1:latest"]
    r = await client.post("/api/generate", json={"model": "m1", "keep_alive": 0})
    assert (await r.json())["done_reason"] == "unload"
    assert (await (await client.get("/api/ps")).json()) == {"models": []}
    r = await client.post("/api/chat", json={"model": "m2", "messages": []})
    out = await r.json()
    assert out["done_reason"] == "load" and out["message"] == {"role": "assistant", "content": ""}
    r = await client.post("/api/chat", json={"model": "m2", "messages": [], "keep_alive": 0})
    assert (await r.json())["done_reason"] == "unload"


async def test_an_embedding_model_can_be_unloaded(client: Client, factory: FakeRunnerFactory) -> None:
    """keep_alive 0 with nothing to generate unloads before the capability check (`ollama stop`)."""
    r = await client.post("/api/embed", json={"model": "emb", "input": "x"})
    assert r.status == 200 and len(factory.live()) == 1
    cases: list[tuple[str, dict[str, Any]]] = [("/api/generate", {}), ("/api/chat", {"messages": []})]
    for route, body in cases:
        r = await client.post(route, json={"model": "emb", "keep_alive": 0, **body})
        assert r.status == 200 and (await r.json())["done_reason"] == "unload"
        assert (await (await client.get("/api/ps")).json()) == {"models": []}
    r = await client.post("/api/generate", json={"model": "emb"})
    assert r.status == 400 and await r.json() == {"error": '"emb" does not support generate'}
    r = await client.post("/api/generate", json={"model": "nope", "keep_alive": 0})
    assert r.status == 404


async def test_keep_alive_zero_unloads_after_request(client: Client, factory: FakeRunnerFactory) -> None:
    r = await client.post(
        "/api/generate", json={"model": "m1", "prompt": "x", "keep_alive": 0, "stream": False}
    )
    assert r.status == 200
    assert (await (await client.get("/api/ps")).json()) == {"models": []}


async def test_ps_shape(client: Client) -> None:
    await client.post("/api/generate", json={"model": "m1", "prompt": "x", "stream": False})
    await client.post("/api/generate", json={"model": "m2", "prompt": "x", "stream": False, "keep_alive": -1})
    ps = (await (await client.get("/api/ps")).json())["models"]
    assert [m["name"] for m in ps] == ["m2:latest", "m1:latest"]  # forever sorts first
    m = ps[1]
    assert list(m) == [
        "name",
        "model",
        "size",
        "digest",
        "details",
        "expires_at",
        "size_vram",
        "context_length",
    ]
    assert m["size_vram"] == 0 and m["context_length"] == 4096 and m["size"] > 1000
    assert RFC3339_NANO.match(m["expires_at"])
    assert ps[0]["expires_at"][:2] == "23"  # far future, as Ollama's "Forever"


async def test_embed(client: Client) -> None:
    r = await client.post("/api/embed", json={"model": "emb", "input": ["a", "b"]})
    body = await r.json()
    assert len(body["embeddings"]) == 2
    for v in body["embeddings"]:
        assert abs(sum(x * x for x in v) - 1) < 1e-6
    assert list(body) == ["model", "embeddings", "total_duration", "load_duration", "prompt_eval_count"]
    r = await client.post("/api/embed", json={"model": "emb", "input": "a", "dimensions": 4})
    v = (await r.json())["embeddings"][0]
    assert len(v) == 4 and abs(sum(x * x for x in v) - 1) < 1e-6
    r = await client.post("/api/embed", json={"model": "emb", "input": []})
    assert await r.json() == {"model": "emb", "embeddings": []}
    r = await client.post("/api/embed", json={"model": "emb", "input": 5})
    assert r.status == 400 and await r.json() == {"error": "invalid input type"}
    r = await client.post("/api/embed", json={"model": "m1", "input": "generative too"})
    assert r.status == 200


async def test_embeddings_legacy(client: Client) -> None:
    r = await client.post("/api/embeddings", json={"model": "emb", "prompt": "hello"})
    body = await r.json()
    assert list(body) == ["embedding"] and len(body["embedding"]) == 8
    assert abs(sum(x * x for x in body["embedding"]) - 1) > 1e-3  # raw, as Ollama's legacy route
    r = await client.post("/api/embeddings", json={"model": "emb", "prompt": ""})
    assert await r.json() == {"embedding": []}


async def test_tags_show_copy_delete(client: Client) -> None:
    tags = await (await client.get("/api/tags")).json()
    assert "m1:latest" in [m["name"] for m in tags["models"]]
    r = await client.post("/api/show", json={"model": "m1"})
    assert r.status == 200 and (await r.json())["model_info"] == {}
    r = await client.post("/api/show", json={"model": "nope"})
    assert r.status == 404 and await r.json() == {"error": "model 'nope' not found"}
    r = await client.post("/api/show", json={})
    assert r.status == 400 and await r.json() == {"error": "model is required"}
    r = await client.post("/api/copy", json={"source": "m1", "destination": "m1copy"})
    assert r.status == 200 and await r.read() == b""
    r = await client.post("/api/copy", json={"source": "zz", "destination": "m1copy"})
    assert r.status == 404 and await r.json() == {"error": 'model "zz" not found'}
    r = await client.delete("/api/delete", json={"model": "m1copy"})
    assert r.status == 200
    r = await client.delete("/api/delete", json={"model": "m1copy"})
    assert r.status == 404 and await r.json() == {"error": "model 'm1copy' not found"}


async def test_create_streams_statuses(client: Client) -> None:
    r = await client.post("/api/create", json={"model": "new", "from": "m1"})
    lines = ndjson(await r.read())
    assert lines[-1] == {"status": "success"}
    r = await client.post("/api/create", json={"model": "new2", "from": "m1", "stream": False})
    assert await r.json() == {"status": "success"}
    r = await client.post("/api/create", json={"model": "new3"})
    assert r.status == 400 and await r.json() == {"error": "neither 'from' or 'files' was specified"}


async def test_error_after_first_byte_is_a_final_line(client: Client) -> None:
    r = await client.post("/api/create", json={"model": "x", "from": "boom"})
    assert r.status == 200
    lines = ndjson(await r.read())
    assert lines[-1] == {"error": "template error: boom"}


async def test_blobs(client: Client) -> None:
    data = b"some gguf bytes" * 1000
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = await client.head(f"/api/blobs/{digest}")
    assert r.status == 404
    r = await client.head("/api/blobs/sha256:xyz")
    assert r.status == 400
    r = await client.post(f"/api/blobs/{digest}", data=data)
    assert r.status == 201
    r = await client.post(f"/api/blobs/{digest}", data=data)
    assert r.status == 200
    r = await client.head(f"/api/blobs/{digest}")
    assert r.status == 200
    bad = "sha256:" + "0" * 64
    r = await client.post(f"/api/blobs/{bad}", data=data)
    assert r.status == 400
    assert await r.json() == {"error": f'digest mismatch, expected "{bad}", got "{digest}"'}


async def test_cors(client: Client) -> None:
    r = await client.get("/api/version", headers={"Origin": "http://localhost:3000"})
    assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    r = await client.get("/api/version", headers={"Origin": "https://evil.example"})
    assert r.status == 403
    r = await client.options(
        "/api/chat", headers={"Origin": "app://x", "Access-Control-Request-Method": "POST"}
    )
    assert r.status == 204 and "POST" in r.headers["Access-Control-Allow-Methods"]


async def test_cors_extra_origins(make_client: ClientMaker) -> None:
    from pyollama.config import Settings

    c = await make_client(settings=Settings.from_env({"OLLAMA_ORIGINS": "chrome-extension://*"}))
    r = await c.get("/api/version", headers={"Origin": "chrome-extension://abc"})
    assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "chrome-extension://abc"


async def test_host_guard(make_client: ClientMaker) -> None:
    c = await make_client(host_guard=True)
    allowed = ("localhost:11434", "127.0.0.1", "192.168.1.5:11434", "10.1.2.3", "172.31.0.1", "[fd00::1]:1")
    for host in (*allowed, "foo.localhost", "[::1]:11434", "0.0.0.0", "[::ffff:10.0.0.1]"):
        r = await c.get("/api/version", headers={"Host": host})
        assert r.status == 200, host
    # Go's IsPrivate is RFC 1918/4193 only: link-local, documentation and reserved ranges are not local
    for host in ("evil.example.com", "169.254.169.254", "192.0.2.1", "198.18.0.1", "240.0.0.1", "[fe80::1]"):
        r = await c.get("/api/version", headers={"Host": host})
        assert r.status == 403 and await r.read() == b"", host


def test_json_lines_have_no_spaces() -> None:
    from pyollama.server.schemas import GenerateResponse, encode_line

    line = encode_line(GenerateResponse(model="m", created_at="t", response="", done=False))
    assert line == b'{"model":"m","created_at":"t","response":"","done":false}\n'
    assert json.loads(line)


async def test_unexpected_error_before_the_first_byte_is_ollama_shaped(make_client: ClientMaker) -> None:
    """An exception outside the hierarchy (a bug, a full disk) is still a 500 `{"error": ...}`."""

    def reply(prompt: str) -> str:
        raise OSError(28, "No space left on device")

    c = await make_client(fac=FakeRunnerFactory(reply=reply))
    r = await c.post("/api/generate", json={"model": "m1", "prompt": "x"})
    assert r.status == 500
    assert await r.json() == {"error": "[Errno 28] No space left on device"}
    r = await c.post(
        "/v1/chat/completions", json={"model": "m1", "messages": [{"role": "user", "content": "x"}]}
    )
    assert r.status == 500
    assert (await r.json())["error"]["message"] == "[Errno 28] No space left on device"
    assert (await c.get("/api/version")).status == 200  # still serving


async def test_unexpected_error_mid_stream_is_a_last_line(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Any, text: str, options: dict[str, Any], prompt_tokens: int) -> Any:
        yield Chunk(content="partial", tokens=[1])
        raise KeyError("boom")

    monkeypatch.setattr(FakeRunner, "_stream", broken)
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "x"})
    assert r.status == 200
    lines = ndjson(await r.read())
    assert lines[0]["response"] == "partial"
    assert lines[-1] == {"error": "'boom'"}


async def test_ollama_sampling_defaults_under_modelfile_under_request(
    make_client: ClientMaker, factory: FakeRunnerFactory
) -> None:
    """llama.cpp's own top_p 0.95 / min_p 0.05 never apply: Ollama's defaults do."""
    models = default_models()
    models["tuned:latest"] = model("tuned:latest", "/blobs/tuned", parameters={"temperature": 0.2})
    c = await make_client(models=models)
    await c.post("/api/generate", json={"model": "m1", "prompt": "x", "stream": False})
    opts = factory.runners[-1].chats[-1].options
    assert (opts["temperature"], opts["top_p"], opts["min_p"], opts["top_k"]) == (0.8, 0.9, 0.0, 40)
    body = {"model": "tuned", "prompt": "x", "stream": False, "options": {"top_p": 0.5}}
    await c.post("/api/generate", json=body)
    opts = factory.runners[-1].chats[-1].options
    assert (opts["temperature"], opts["top_p"], opts["min_p"]) == (0.2, 0.5, 0.0)
    # the OpenAI routes: temperature and top_p 1.0 unless the request or the Modelfile says otherwise
    msgs = [{"role": "user", "content": "x"}]
    await c.post("/v1/chat/completions", json={"model": "m1", "messages": msgs})
    sent = factory.runners[0].chats[-1].options
    assert (sent["temperature"], sent["top_p"], sent["min_p"]) == (1.0, 1.0, 0.0)
    await c.post("/v1/chat/completions", json={"model": "tuned", "messages": msgs})
    sent = factory.runners[-1].chats[-1].options
    assert (sent["temperature"], sent["top_p"]) == (0.2, 1.0)


async def test_num_parallel_per_model_and_per_request(
    make_client: ClientMaker, factory: FakeRunnerFactory
) -> None:
    """pyollama's per-model slot count: a Modelfile PARAMETER, or a request option (a reload)."""
    models = default_models()
    models["wide:latest"] = model("wide:latest", "/blobs/wide", parameters={"num_parallel": 2})
    c = await make_client(models=models)
    await c.post("/api/generate", json={"model": "wide", "prompt": "x", "stream": False})
    assert factory.loads[-1][1].num_parallel == 2
    body = {"model": "wide", "prompt": "x", "stream": False, "options": {"num_parallel": 3}}
    await c.post("/api/generate", json=body)
    assert factory.loads[-1][1].num_parallel == 3 and len(factory.loads) == 2
    body["options"] = {"num_parallel": "many"}
    r = await c.post("/api/generate", json=body)
    assert r.status == 400
    assert await r.json() == {
        "error": 'option "num_parallel" must be of type integer - at `$.options.num_parallel`'
    }


async def test_micro_batch_follows_num_batch(client: Client, factory: FakeRunnerFactory) -> None:
    """An embedding input must fit one micro-batch: -ub is num_batch, as Ollama passes it."""
    await client.post("/api/embed", json={"model": "emb", "input": "x"})
    assert factory.loads[-1][1].num_batch == factory.loads[-1][1].num_ubatch == 2048
    await client.post("/api/generate", json={"model": "m1", "prompt": "x", "options": {"num_batch": 1024}})
    assert factory.loads[-1][1].num_batch == factory.loads[-1][1].num_ubatch == 1024


async def test_suffix_without_a_go_template_is_fill_in_the_middle(
    make_client: ClientMaker, factory: FakeRunnerFactory
) -> None:
    """The GGUF template path cannot render a suffix: the engine's /infill builds the FIM prompt."""
    models = default_models()
    models["coder:latest"] = model("coder:latest", "/blobs/coder", capabilities=("completion", "insert"))
    c = await make_client(models=models)
    body = {"model": "coder", "prompt": "def f(", "suffix": "    return x", "stream": False}
    r = await c.post("/api/generate", json=body)
    assert r.status == 200
    req = factory.runners[-1].completions[-1]
    assert (req.prompt, req.suffix) == ("def f(", "    return x")
    r = await c.post("/api/generate", json={**body, "model": "m1"})
    assert r.status == 400 and await r.json() == {"error": '"m1" does not support insert'}


async def test_go_template_sees_ollamas_message_fields(
    make_client: ClientMaker, factory: FakeRunnerFactory
) -> None:
    """History goes to a Go TEMPLATE as Ollama's messages: .Thinking, the call's own index, and no
    invented ids (a random id would also change the prompt, and the KV cache prefix, every turn)."""
    template = (
        "{{ range .Messages }}{{ .Role }}:{{ .Content }}|{{ .Thinking }}"
        "{{ range .ToolCalls }}[{{ .Function.Index }} {{ .ID }} {{ .Function.Name }}]{{ end }}\n{{ end }}"
    )
    models = {"t:latest": model("t:latest", "/blobs/t", template=template)}
    c = await make_client(models=models)
    history = [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": "a",
            "thinking": "hmm",
            "tool_calls": [{"function": {"index": 3, "name": "f", "arguments": {"x": 1}}}],
        },
        {"role": "tool", "content": "1", "tool_name": "f"},
        {"role": "user", "content": "next"},
    ]
    for _ in range(2):
        r = await c.post("/api/chat", json={"model": "t", "messages": history, "stream": False})
        assert r.status == 200
    prompts = [req.prompt for req in factory.runners[-1].completions]
    assert prompts[0] == prompts[1]  # the same history renders the same prompt
    assert "assistant:a|hmm[3  f]" in prompts[0]


async def test_images_follow_their_tags_through_a_go_template(
    make_client: ClientMaker, factory: FakeRunnerFactory
) -> None:
    """Generate tags its images too, and history fitting drops old images with their messages."""
    import base64

    template = "{{ range .Messages }}{{ .Role }}:{{ .Content }}\n{{ end }}"
    models = {
        "v:latest": model("v:latest", "/blobs/v", template=template, capabilities=("completion", "vision"))
    }
    c = await make_client(models=models)
    a, b = base64.b64encode(b"image A").decode(), base64.b64encode(b"image B").decode()
    r = await c.post("/api/generate", json={"model": "v", "prompt": "what?", "images": [a], "stream": False})
    assert r.status == 200
    req = factory.runners[-1].completions[-1]
    assert req.prompt == "user:[img-0]what?\n" and req.images == [b"image A"]
    history = [
        {"role": "user", "content": "old " * 60, "images": [a]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "new", "images": [b]},
    ]
    body = {"model": "v", "messages": history, "stream": False, "options": {"num_ctx": 64}}
    r = await c.post("/api/chat", json=body)
    assert r.status == 200
    req = factory.runners[-1].completions[-1]
    assert "old" not in req.prompt and "[img-0]new" in req.prompt
    assert req.images == [b"image B"]  # image A left with its message
