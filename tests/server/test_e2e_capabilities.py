"""End-to-end on the real engine with SmolLM2: logprobs, prompt-cache accounting, the Modelfile on
every route, tool calls parsed from a Go TEMPLATE's output (bare JSON and forced), images refused
without a projector. Real clients: the `ollama` package, the `openai` and `anthropic` SDKs. Slow."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.daemon import Daemon, create_from_file, need_engine

pytestmark = pytest.mark.slow
FAST = {"num_predict": 8, "temperature": 0, "seed": 1}

# ChatML as SmolLM2 was trained on, with a tool section whose call has no tag: Ollama then parses
# bare JSON objects as calls (the `{` fallback)
BARE_TOOLS = (
    "{{- if .Tools }}<|im_start|>system\nTools: {{ .Tools }}<|im_end|>\n{{ end }}"
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n"
    "{{- if .ToolCalls }}{{ range .ToolCalls }}"
    '{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}{{ end }}'
    "{{- else }}{{ .Content }}{{ end }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
)
# the same with Qwen's <tool_call> tag, and the tools listed in the system turn
TAGGED_TOOLS = (
    "{{- if .Tools }}<|im_start|>system\nYou can call: {{ range .Tools }}{{ .Function.Name }} {{ end }}"
    "<|im_end|>\n{{ end }}"
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n"
    "{{- if .ToolCalls }}<tool_call>{{ range .ToolCalls }}"
    '{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}{{ end }}</tool_call>'
    "{{- else }}{{ .Content }}{{ end }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
)
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "the weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
            "required": ["city"],
        },
    },
}
CALL_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"const": "get_weather"},
        "arguments": {"type": "object", "properties": {"city": {"enum": ["Paris"]}}, "required": ["city"]},
    },
    "required": ["name", "arguments"],
}
PNG_1x1 = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
    )
).decode()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Iterator[Daemon]:
    need_engine()
    home = tmp_path_factory.mktemp("e2e-caps")
    d = Daemon(home, home / "models", {"PYOLLAMA_CONTEXT_LENGTH": "2048", "PYOLLAMA_NUM_PARALLEL": "2"})
    try:
        create_from_file(d.url, "smol", smollm2_path)
        create_from_file(d.url, "pirate", smollm2_path, system="You are a pirate. Answer in pirate speak.")
        create_from_file(d.url, "bare", smollm2_path, template=BARE_TOOLS)
        create_from_file(d.url, "tagged", smollm2_path, template=TAGGED_TOOLS)
        yield d
    finally:
        assert d.stop() == 0, d.log_text()[-3000:]


@pytest.fixture(scope="module")
def client(daemon: Daemon) -> Iterator[Any]:
    import ollama

    with ollama.Client(host=daemon.url) as c:
        yield c


@pytest.fixture(scope="module")
def oai(daemon: Daemon) -> Iterator[Any]:
    openai = pytest.importorskip("openai")
    with openai.OpenAI(base_url=daemon.url + "/v1", api_key="unused") as c:
        yield c


def _check_logprobs(items: Any, top: int) -> None:
    assert items, "no logprobs"
    for lp in items:
        assert lp.logprob <= 0.0 and lp.token is not None
        assert len(lp.top_logprobs or []) == top
        if top:
            assert lp.top_logprobs[0].logprob >= lp.top_logprobs[-1].logprob


def test_logprobs_on_generate_and_chat(client: Any) -> None:
    r = client.generate(model="smol", prompt="Say hi", options=FAST, logprobs=True, top_logprobs=3)
    _check_logprobs(r.logprobs, 3)
    assert len(r.logprobs) == r.eval_count
    msgs = [{"role": "user", "content": "Say hi"}]
    r = client.chat(model="smol", messages=msgs, options=FAST, logprobs=True)
    _check_logprobs(r.logprobs, 0)
    # temperature 0: the sampled token is the most likely one
    r = client.chat(model="smol", messages=msgs, options=FAST, logprobs=True, top_logprobs=2)
    for lp in r.logprobs:
        assert lp.token == lp.top_logprobs[0].token


def test_logprobs_on_v1(oai: Any) -> None:
    r = oai.chat.completions.create(
        model="smol",
        messages=[{"role": "user", "content": "Say hi"}],
        max_tokens=6,
        temperature=0,
        logprobs=True,
        top_logprobs=2,
    )
    content = r.choices[0].logprobs.content
    assert content and all(t.logprob <= 0 and len(t.top_logprobs) == 2 for t in content)


def _post(daemon: Daemon, path: str, body: dict[str, Any]) -> dict[str, Any]:
    import urllib.request

    req = urllib.request.Request(daemon.url + path, data=json.dumps(body).encode())
    out: dict[str, Any] = json.loads(urllib.request.urlopen(req, timeout=120).read())
    return out


def test_prompt_cache_is_counted(daemon: Daemon, oai: Any) -> None:
    msgs = [{"role": "user", "content": "List three colours of the rainbow, please, in order."}]
    body = {"model": "smol", "messages": msgs, "options": FAST, "stream": False}
    first = _post(daemon, "/api/chat", body)
    second = _post(daemon, "/api/chat", body)
    # prompt_eval_count counts every prompt token, the cached ones included (Ollama 0.34)
    assert second["prompt_eval_count"] == first["prompt_eval_count"]
    assert second["prompt_eval_cached_count"] > 0
    r = oai.chat.completions.create(model="smol", messages=msgs, max_tokens=8, temperature=0)
    details = r.usage.prompt_tokens_details
    assert details is not None and details.cached_tokens and details.cached_tokens > 0


def test_final_line_sends_cached_count_even_when_zero(daemon: Daemon) -> None:
    body = {"model": "smol", "prompt": "unique prompt 123", "raw": True, "options": FAST, "stream": False}
    out = _post(daemon, "/api/generate", body)
    assert "prompt_eval_cached_count" in out and out["prompt_eval_count"] >= out["prompt_eval_cached_count"]


def test_modelfile_system_applies_on_v1_and_anthropic(daemon: Daemon) -> None:
    """Ollama's OpenAI and Anthropic layers translate to /api/chat, so the Modelfile's SYSTEM is in
    the prompt on every route (pyollama's passthrough to llama.cpp once lost it)."""
    msgs = [{"role": "user", "content": "hello"}]
    body = {"model": "pirate", "messages": msgs, "_debug_render_only": True}
    for path in ("/api/chat", "/v1/chat/completions"):
        out = _post(daemon, path, body)
        assert "You are a pirate" in out["_debug_info"]["rendered_template"], path
    anthropic = pytest.importorskip("anthropic")
    with anthropic.Anthropic(base_url=daemon.url, api_key="unused") as ac:
        count = ac.messages.count_tokens(model="pirate", messages=msgs)
        plain = ac.messages.count_tokens(model="smol", messages=msgs, system="You are a pirate.")
        assert count.input_tokens > 0 and plain.input_tokens > 0
        rendered = _post(daemon, "/api/chat", {"model": "smol", "messages": msgs, "_debug_render_only": True})
        assert "pirate" not in rendered["_debug_info"]["rendered_template"]


def test_bare_json_calls_from_a_tagless_template(client: Any) -> None:
    """A Go TEMPLATE whose tool-call section has no tag: Ollama parses a bare JSON object as a call.
    The format schema makes SmolLM2 answer with one."""
    msgs = [{"role": "user", "content": "What is the weather in Paris?"}]
    r = client.chat(
        model="bare", messages=msgs, tools=[WEATHER], format=CALL_SCHEMA, options=FAST | {"num_predict": 40}
    )
    calls = r.message.tool_calls
    assert calls and calls[0].function.name == "get_weather"
    assert dict(calls[0].function.arguments) == {"city": "Paris"}
    assert r.message.content == ""
    parts = list(
        client.chat(
            model="bare",
            messages=msgs,
            tools=[WEATHER],
            format=CALL_SCHEMA,
            stream=True,
            options=FAST | {"num_predict": 40},
        )
    )
    streamed = [c for p in parts for c in (p.message.tool_calls or [])]
    assert [c.function.name for c in streamed] == ["get_weather"]
    assert all(not p.message.content for p in parts)


def test_tool_choice_required_forces_a_call(oai: Any) -> None:
    """SmolLM2 would answer in prose; `tool_choice: required` makes it call (Ollama ignores it)."""
    msgs = [{"role": "user", "content": "Tell me a joke."}]
    r = oai.chat.completions.create(
        model="tagged", messages=msgs, tools=[WEATHER], tool_choice="required", max_tokens=40, temperature=0
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments)["city"] in (
        "Paris",
        "Rome",
    )
    named = oai.chat.completions.create(
        model="tagged",
        messages=msgs,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=40,
        temperature=0,
    )
    assert named.choices[0].message.tool_calls[0].function.name == "get_weather"
    free = oai.chat.completions.create(
        model="tagged", messages=msgs, tools=[WEATHER], tool_choice="none", max_tokens=8, temperature=0
    )
    assert not free.choices[0].message.tool_calls and free.choices[0].message.content


def test_images_need_a_projector(client: Any, oai: Any) -> None:
    import ollama

    with pytest.raises(ollama.ResponseError) as exc:
        client.chat(model="smol", messages=[{"role": "user", "content": "what?", "images": [PNG_1x1]}])
    assert exc.value.status_code == 400 and "does not support vision" in exc.value.error
    with pytest.raises(ollama.ResponseError) as exc:
        client.generate(model="smol", prompt="what?", images=[PNG_1x1])
    assert exc.value.status_code == 400
    openai = pytest.importorskip("openai")
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(
            model="smol",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG_1x1}},
                    ],
                }
            ],
        )
    assert "vision" not in (client.show("smol").capabilities or [])
