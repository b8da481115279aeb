"""Prompt fitting (shift / too long), `_debug_render_only`, think validation, /api/status."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from pyollama.errors import BadRequest
from pyollama.runner.fake import FakeRunner, FakeRunnerFactory
from pyollama.runner.types import LoadOptions
from pyollama.server.planner.fit import PROMPT_TOO_LONG, fit_messages, fit_text, shift_tokens, surely_fits
from tests.server.conftest import ClientMaker, model

Client = TestClient[Any, Any]


def test_shift_keeps_head_and_tail() -> None:
    tokens = list(range(100))
    out = shift_tokens(tokens, num_ctx=40, num_keep=4, bos=True)
    # target = 40 - (40 - 5) // 2 = 23 tokens: BOS + 4 kept, then the last 18
    assert len(out) == 23
    assert out[:5] == [0, 1, 2, 3, 4] and out[5:] == tokens[-18:]
    assert surely_fits(10, 20) and not surely_fits(16, 20)


async def test_fit_text_shift_or_reject() -> None:
    runner = FakeRunner("/m", LoadOptions())  # tokens are bytes, no BOS

    async def tok(text: str) -> list[int]:
        return await runner.tokenize(text, add_special=True)

    async def no_bos() -> bool:
        return False

    kw: dict[str, Any] = {"tokenize": tok, "bos": no_bos, "num_ctx": 32, "num_keep": 4}
    assert await fit_text("short", **{**kw, "num_ctx": 64}, shift=False) == "short"
    long = "x" * 100
    out = await fit_text(long, **kw, shift=True)
    assert isinstance(out, list) and len(out) == 32 - (32 - 4) // 2
    with pytest.raises(BadRequest) as err:
        await fit_text(long, **kw, shift=False)
    assert err.value.message == PROMPT_TOO_LONG


async def test_fit_messages_drops_oldest_keeps_system_and_last() -> None:
    runner = FakeRunner("/m", LoadOptions())
    msgs = [{"role": "system", "content": "S"}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"message number {i} " * 3}
        for i in range(10)
    ]

    async def render(ms: list[dict[str, Any]]) -> str:
        return await runner.apply_template(ms)

    async def count(text: str) -> int:
        return len(await runner.tokenize(text))

    fitted, text = await fit_messages(msgs, render=render, count=count, num_ctx=120, truncate=True)
    assert fitted[0] == msgs[0] and fitted[-1] == msgs[-1] and len(fitted) < len(msgs)
    assert text == await runner.apply_template(fitted) and len(text.encode()) <= 120
    # a bound that proves the chat fits skips rendering altogether
    kept, none = await fit_messages(
        msgs, render=render, count=count, num_ctx=10_000, truncate=True, bound=len
    )
    assert kept == msgs and none is None


async def test_fit_messages_keeps_tool_results_with_their_call() -> None:
    msgs: list[dict[str, Any]] = [
        {"role": "user", "content": "u" * 50},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]},
        {"role": "tool", "content": "r1" * 20},
        {"role": "tool", "content": "r2"},
        {"role": "user", "content": "q"},
    ]

    async def render(ms: list[dict[str, Any]]) -> str:
        return "".join(str(m["content"]) for m in ms)

    async def count(text: str) -> int:
        return len(text)

    fitted, _ = await fit_messages(msgs, render=render, count=count, num_ctx=60, truncate=True)
    assert fitted[0]["role"] == "assistant"  # not a bare tool result
    assert fitted[-1] == msgs[-1]


async def test_generate_too_long_prompt(make_client: ClientMaker, factory: FakeRunnerFactory) -> None:
    c = await make_client()
    long = " ".join(f"w{i}" for i in range(200))
    r = await c.post(
        "/api/generate",
        json={
            "model": "m1",
            "prompt": long,
            "raw": True,
            "stream": False,
            "shift": False,
            "options": {"num_ctx": 64},
        },
    )
    assert r.status == 400 and (await r.json())["error"] == PROMPT_TOO_LONG
    r = await c.post(
        "/api/generate",
        json={"model": "m1", "prompt": long, "raw": True, "stream": False, "options": {"num_ctx": 64}},
    )
    assert r.status == 200
    sent = factory.runners[-1].completions[-1].prompt
    assert isinstance(sent, list) and len(sent) == 64 - (64 - 4) // 2


async def test_chat_too_long_single_message(make_client: ClientMaker, factory: FakeRunnerFactory) -> None:
    c = await make_client()
    msg = [{"role": "user", "content": "y" * 500}]
    r = await c.post(
        "/api/chat",
        json={"model": "m1", "messages": msg, "stream": False, "shift": False, "options": {"num_ctx": 64}},
    )
    assert r.status == 400 and (await r.json())["error"] == PROMPT_TOO_LONG
    r = await c.post(
        "/api/chat", json={"model": "m1", "messages": msg, "stream": False, "options": {"num_ctx": 64}}
    )
    assert r.status == 200
    assert isinstance(factory.runners[-1].completions[-1].prompt, list)


async def test_debug_render_only(client: Client, factory: FakeRunnerFactory) -> None:
    r = await client.post("/api/generate", json={"model": "tmpl", "prompt": "hi", "_debug_render_only": True})
    assert r.status == 200
    body = await r.json()
    assert body["_debug_info"] == {"rendered_template": "SYS|hi", "image_count": 0}
    assert body["done"] is False and body["response"] == ""
    r = await client.post(
        "/api/chat",
        json={"model": "m1", "messages": [{"role": "user", "content": "q"}], "_debug_render_only": True},
    )
    body = await r.json()
    assert body["_debug_info"]["rendered_template"] == "<user>q\n"
    assert list(body) == ["model", "created_at", "message", "_debug_info", "done"]
    assert all(not r.completions and not r.chats for r in factory.runners)  # nothing generated


async def test_think_validation(make_client: ClientMaker) -> None:
    models = {
        "m1:latest": model("m1:latest", "/blobs/m1"),
        "th:latest": model("th:latest", "/blobs/th", capabilities=("completion", "thinking")),
    }
    c = await make_client(models=models)
    r = await c.post(
        "/api/chat", json={"model": "m1", "messages": [{"role": "user", "content": "x"}], "think": True}
    )
    assert r.status == 400 and (await r.json())["error"] == '"m1" does not support thinking'
    r = await c.post("/api/generate", json={"model": "th", "prompt": "x", "think": "extreme"})
    assert r.status == 400 and (await r.json())["error"] == "invalid think value"
    r = await c.post("/api/generate", json={"model": "m1", "prompt": "x", "think": False, "stream": False})
    assert r.status == 200
    r = await c.post("/api/generate", json={"model": "th", "prompt": "x", "think": "high", "stream": False})
    assert r.status == 200


async def test_status(client: Client) -> None:
    r = await client.get("/api/status")
    assert r.status == 200 and await r.json() == {"cloud": {"disabled": True, "source": "none"}}
