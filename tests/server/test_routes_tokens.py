"""/api/tokenize, /api/detokenize, /api/rerank and /v1/rerank over FakeRunner (fast) and through a
real daemon with real models (slow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyollama.runner.fake import FakeRunnerFactory
from pyollama.server.models import ModelInfo
from tests.server.conftest import ClientMaker, default_models, model


def _models() -> dict[str, ModelInfo]:
    return {
        **default_models(),
        "rr:latest": model("rr:latest", "/blobs/rr", capabilities=("embedding", "rerank")),
    }


async def test_tokenize_round_trip(client: Any, factory: FakeRunnerFactory) -> None:
    r = await client.post("/api/tokenize", json={"model": "m1", "content": "héllo"})
    assert r.status == 200
    body = await r.json()
    assert body == {"model": "m1", "tokens": list("héllo".encode())}
    r = await client.post("/api/detokenize", json={"model": "m1", "tokens": body["tokens"]})
    assert await r.json() == {"model": "m1", "content": "héllo"}
    assert len(factory.loads) == 1  # one load shared by both


async def test_tokenize_loads_with_keep_alive(client: Any) -> None:
    r = await client.post("/api/tokenize", json={"model": "m1", "content": "x", "keep_alive": "1h"})
    assert r.status == 200
    ps = await (await client.get("/api/ps")).json()
    assert [m["name"] for m in ps["models"]] == ["m1:latest"]
    r = await client.post("/api/tokenize", json={"model": "m1", "content": "", "keep_alive": 0})
    assert (await r.json())["tokens"] == []


async def test_tokenize_errors(client: Any) -> None:
    r = await client.post("/api/tokenize", json={"content": "x"})
    assert r.status == 400 and await r.json() == {"error": "model is required"}
    r = await client.post("/api/tokenize", json={"model": "nope", "content": "x"})
    assert r.status == 404 and await r.json() == {"error": "model 'nope' not found"}
    r = await client.post("/api/tokenize", json={"model": "m1", "content": 3})
    assert r.status == 400 and "$.content" in (await r.json())["error"]
    r = await client.post("/api/detokenize", json={"model": "m1", "tokens": [1, 999999]})
    assert r.status == 400 and "between 0 and 255" in (await r.json())["error"]
    r = await client.post("/api/detokenize", json={"model": "m1", "tokens": []})
    assert await r.json() == {"model": "m1", "content": ""}


async def test_rerank_sorted_and_cut(make_client: ClientMaker, factory: FakeRunnerFactory) -> None:
    client = await make_client(models=_models())
    docs = ["nothing here", "red fox", "the quick red fox", "quick"]
    r = await client.post("/api/rerank", json={"model": "rr", "query": "quick red fox", "documents": docs})
    assert r.status == 200
    body = await r.json()
    assert body["model"] == "rr"
    assert [x["index"] for x in body["results"]] == [2, 1, 3, 0]
    scores = [x["relevance_score"] for x in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert "document" not in body["results"][0]
    assert body["prompt_eval_count"] > 0
    r = await client.post(
        "/api/rerank",
        json={
            "model": "rr",
            "query": "quick red fox",
            "documents": docs,
            "top_n": 2,
            "return_documents": True,
        },
    )
    results = (await r.json())["results"]
    assert [(x["index"], x["document"]) for x in results] == [(2, "the quick red fox"), (1, "red fox")]
    assert factory.loads[0][1].pooling == "rank"


async def test_rerank_refused_for_other_models(make_client: ClientMaker) -> None:
    client = await make_client(models=_models())
    r = await client.post("/api/rerank", json={"model": "m1", "query": "q", "documents": ["a"]})
    assert r.status == 400 and await r.json() == {"error": '"m1" does not support reranking'}
    r = await client.post("/v1/rerank", json={"model": "emb", "query": "q", "documents": ["a"]})
    assert r.status == 400
    assert (await r.json())["error"]["message"] == '"emb" does not support reranking'
    r = await client.post("/api/rerank", json={"model": "rr", "documents": ["a"]})
    assert r.status == 400 and await r.json() == {"error": "query is required"}
    r = await client.post("/api/rerank", json={"model": "rr", "query": "q", "documents": ["a"], "top_n": -1})
    assert r.status == 400


async def test_v1_rerank_shape(make_client: ClientMaker) -> None:
    client = await make_client(models=_models())
    body = {
        "model": "rr",
        "query": "red fox",
        "documents": ["blue", {"text": "a red fox"}],
        "top_n": 5,
        "return_documents": True,
    }
    r = await client.post("/v1/rerank", json=body)
    assert r.status == 200
    out = await r.json()
    assert out["object"] == "list" and out["model"] == "rr"
    assert out["usage"]["prompt_tokens"] == out["usage"]["total_tokens"] > 0
    assert out["results"][0] == {"index": 1, "relevance_score": 1.0, "document": {"text": "a red fox"}}
    assert out["results"][1]["index"] == 0
    r = await client.post("/v1/rerank", json={"model": "rr", "query": "q", "documents": []})
    assert r.status == 400


# --- real daemon, real models ---------------------------------------------------------------------

TEXTS = ["Hello, world!", "  two  spaces\tand a tab\nnew line", "naïve café — 日本語 🙂", "x"]


@pytest.mark.slow
def test_real_tokenize_round_trip(tmp_path: Path, smollm2_path: Path, gemma_path: Path) -> None:
    import httpx

    from tests.server.daemon import Daemon, create_from_file, need_engine

    need_engine()
    d = Daemon(tmp_path, tmp_path / "models")
    try:
        create_from_file(d.url, "smol", smollm2_path)
        create_from_file(d.url, "gemma", gemma_path)
        with httpx.Client(base_url=d.url, timeout=120) as c:
            for name in ("smol", "gemma"):
                for text in TEXTS:
                    r = c.post("/api/tokenize", json={"model": name, "content": text})
                    assert r.status_code == 200, r.text
                    tokens = r.json()["tokens"]
                    assert tokens and all(isinstance(t, int) for t in tokens)
                    r = c.post("/api/detokenize", json={"model": name, "tokens": tokens})
                    assert r.json() == {"model": name, "content": text}
            # gemma adds BOS when asked to
            plain = c.post("/api/tokenize", json={"model": "gemma", "content": "hi"}).json()["tokens"]
            special = c.post(
                "/api/tokenize", json={"model": "gemma", "content": "hi", "add_special": True}
            ).json()["tokens"]
            assert special[1:] == plain and len(special) == len(plain) + 1
            r = c.post("/api/rerank", json={"model": "smol", "query": "q", "documents": ["a"]})
            assert r.status_code == 400 and r.json() == {"error": '"smol" does not support reranking'}
    finally:
        d.stop()


@pytest.mark.slow
def test_real_rerank_tiny_bert(tmp_path: Path) -> None:
    import httpx

    from tests.conftest import VOCAB_DIR
    from tests.gguf_factory import make_tiny_reranker
    from tests.server.daemon import Daemon, create_from_file, need_engine

    need_engine()
    vocab = VOCAB_DIR / "ggml-vocab-bert-bge.gguf"
    if not vocab.exists():
        pytest.skip("vendor/llama.cpp is not fetched")
    path = make_tiny_reranker(tmp_path / "tiny-reranker.gguf", vocab)
    d = Daemon(tmp_path, tmp_path / "models")
    try:
        create_from_file(d.url, "rr", path)
        with httpx.Client(base_url=d.url, timeout=120) as c:
            show = c.post("/api/show", json={"model": "rr"}).json()
            assert "rerank" in show["capabilities"]
            docs = ["a panda is a bear", "paris is in france", "hello", "bears eat bamboo"]
            r = c.post("/api/rerank", json={"model": "rr", "query": "what is a panda?", "documents": docs})
            assert r.status_code == 200, r.text
            body = r.json()
            assert sorted(x["index"] for x in body["results"]) == [0, 1, 2, 3]
            scores = [x["relevance_score"] for x in body["results"]]
            assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
            assert body["prompt_eval_count"] > 0
            # the same pairs score the same through the Jina/Cohere route
            r = c.post(
                "/v1/rerank", json={"model": "rr", "query": "what is a panda?", "documents": docs, "top_n": 2}
            )
            v1 = r.json()
            assert [x["index"] for x in v1["results"]] == [x["index"] for x in body["results"][:2]]
            assert v1["results"][0]["relevance_score"] == pytest.approx(scores[0], rel=1e-4)
            ps = c.get("/api/ps").json()
            assert [m["name"] for m in ps["models"]] == ["rr:latest"]
    finally:
        d.stop()
