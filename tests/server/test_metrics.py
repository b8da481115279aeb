"""/metrics: scraped and parsed with prometheus_client's own text parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pyollama.config import Settings
from pyollama.runner.fake import FakeRunnerFactory
from tests.server.conftest import ClientMaker


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as (name, sorted labels) -> value."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: Any) -> dict[Any, float]:
    r = await client.get("/metrics")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=")
    return parse(await r.text())


async def test_requests_tokens_and_models(client: Any) -> None:
    r = await client.post("/api/generate", json={"model": "m1", "prompt": "a b c", "stream": False})
    assert r.status == 200
    r = await client.post("/api/chat", json={"model": "m1", "messages": [{"role": "user", "content": "x y"}]})
    assert r.status == 200
    await r.read()
    r = await client.post("/api/generate", json={"model": "nope", "prompt": "x"})
    assert r.status == 404
    await client.get("/api/tags")
    await client.get("/no/such/path")
    m = await scrape(client)
    ok = {"model": "m1", "status": "200", "method": "POST"}
    assert value(m, "pyollama_requests_total", route="/api/generate", **ok) == 1
    assert value(m, "pyollama_requests_total", route="/api/chat", **ok) == 1
    # failed requests carry no model: random names cannot grow the label set
    assert (
        value(m, "pyollama_requests_total", route="/api/generate", method="POST", model="", status="404") == 1
    )
    assert value(m, "pyollama_requests_total", route="/api/tags", method="GET", model="", status="200") == 1
    assert value(m, "pyollama_requests_total", route="unmatched", method="GET", model="", status="404") == 1
    assert (
        value(m, "pyollama_request_duration_seconds_count", route="/api/chat", model="m1", status="200") == 1
    )
    assert (
        value(
            m,
            "pyollama_request_duration_seconds_bucket",
            route="/api/chat",
            model="m1",
            status="200",
            le="+Inf",
        )
        == 1
    )
    # tokens: the fake echoes the prompt word by word
    assert value(m, "pyollama_generated_tokens_total", model="m1:latest") == 3 + 2
    assert value(m, "pyollama_prompt_tokens_total", model="m1:latest") > 0
    assert value(m, "pyollama_time_to_first_token_seconds_count", model="m1:latest") == 2
    assert value(m, "pyollama_generations_total", model="m1:latest", reason="stop") == 2
    # the scheduler, read at scrape time
    assert value(m, "pyollama_models_loaded") == 1
    assert value(m, "pyollama_queue_depth") == 0
    assert value(m, "pyollama_model_slots_in_use", model="m1:latest") == 0
    assert value(m, "pyollama_model_slots", model="m1:latest") >= 1
    assert value(m, "pyollama_model_memory_bytes", model="m1:latest") > 0


async def test_slots_in_use_and_queue_while_streaming(make_client: ClientMaker) -> None:
    import asyncio

    fac = FakeRunnerFactory(token_delay=0.05)
    client = await make_client(fac=fac, settings=Settings(num_parallel=1))
    body = {"model": "m1", "prompt": " ".join(["w"] * 40)}
    first = asyncio.ensure_future(client.post("/api/generate", json=body))
    second = asyncio.ensure_future(client.post("/api/generate", json=body))
    for _ in range(200):
        m = await scrape(client)
        if value(m, "pyollama_model_slots_in_use", model="m1:latest") == 1 and value(
            m, "pyollama_queue_depth"
        ):
            break
        await asyncio.sleep(0.01)
    assert value(m, "pyollama_model_slots_in_use", model="m1:latest") == 1
    assert value(m, "pyollama_queue_depth") == 1
    for fut in (first, second):
        (await fut).close()


async def test_metrics_embed_and_each_app_its_own(make_client: ClientMaker) -> None:
    a = await make_client()
    b = await make_client(fac=FakeRunnerFactory())
    await a.post("/api/embed", json={"model": "emb", "input": ["one two", "three"]})
    ma, mb = await scrape(a), await scrape(b)
    assert value(ma, "pyollama_prompt_tokens_total", model="emb:latest") == 3
    assert value(mb, "pyollama_prompt_tokens_total", model="emb:latest") == 0


async def test_metrics_off(make_client: ClientMaker) -> None:
    client = await make_client(settings=Settings(metrics="off"))
    assert (await client.get("/metrics")).status == 404


async def test_loopback_only(make_client: ClientMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyollama.server import metrics

    client = await make_client()
    monkeypatch.setattr(metrics, "loopback_client", lambda request: False)
    assert (await client.get("/metrics")).status == 403
    any_client = await make_client(settings=Settings(metrics="any"))
    assert (await any_client.get("/metrics")).status == 200


def test_setting_parse() -> None:
    for raw, want in [
        ("0", "off"),
        ("false", "off"),
        ("1", "loopback"),
        ("any", "any"),
        ("LOOPBACK", "loopback"),
    ]:
        assert Settings.from_env({"OLLAMA_METRICS": raw}).metrics == want
    assert Settings.from_env({}).metrics == "loopback"


@pytest.mark.slow
def test_real_daemon_metrics(tmp_path: Path, smollm2_path: Path) -> None:
    import httpx

    from tests.server.daemon import Daemon, create_from_file, need_engine

    need_engine()
    d = Daemon(tmp_path, tmp_path / "models")
    try:
        create_from_file(d.url, "smol", smollm2_path)
        with httpx.Client(base_url=d.url, timeout=120) as c:
            body = {
                "model": "smol",
                "prompt": "Hi",
                "stream": False,
                "options": {"num_predict": 5, "temperature": 0},
            }
            r = c.post("/api/generate", json=body)
            assert r.status_code == 200
            n = r.json()["eval_count"]
            with c.stream(
                "POST",
                "/api/chat",
                json={
                    "model": "smol",
                    "messages": [{"role": "user", "content": "Hi"}],
                    "options": {"num_predict": 3},
                },
            ) as s:
                for _ in s.iter_lines():
                    pass
            m = parse(c.get("/metrics").text)
        assert (
            value(
                m, "pyollama_requests_total", route="/api/generate", method="POST", model="smol", status="200"
            )
            == 1
        )
        assert (
            value(m, "pyollama_requests_total", route="/api/chat", method="POST", model="smol", status="200")
            == 1
        )
        assert value(m, "pyollama_generated_tokens_total", model="smol:latest") >= n + 1
        assert value(m, "pyollama_prompt_tokens_total", model="smol:latest") > 0
        assert value(m, "pyollama_time_to_first_token_seconds_count", model="smol:latest") == 2
        assert value(m, "pyollama_models_loaded") == 1
        assert value(m, "pyollama_model_memory_bytes", model="smol:latest") > 50_000_000
    finally:
        d.stop()
