"""End-to-end with scripted models: tool calls, thinking, structured output and images as the real
engine produces them, read back by the real daemon on every route and through the clients people
use (`ollama`, `openai`, `anthropic`, LangChain's `ChatOllama`). Each model is built from constructed
weights that make llama.cpp emit a fixed script (tests/gguf_factory.py), behind a Qwen3-style
template: the GGUF's Jinja template (llama.cpp renders and parses), a Go TEMPLATE (pyollama renders,
Ollama's template-derived parsers read), or a Go TEMPLATE with Ollama's built-in qwen3 PARSER. Slow."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gguf_factory import SCRIPTED_CONST, gguf_embedding_length, make_tiny_projector
from tests.scripted import (
    ANSWER,
    JSON_ANSWER,
    JSON_ANSWER_SCHEMA,
    QWEN3_GO,
    THINKING,
    TOOL_ANSWER,
    TOOL_CALL,
    TOOL_CALL_PARSED,
    TOOL_THINKING,
    TWO_TOOL_CALLS,
    TWO_TOOL_CALLS_PARSED,
    WEATHER_TOOL,
    make_chat_model,
)
from tests.server.daemon import Daemon, need_engine
from tests.test_gguf_factory import png

pytestmark = pytest.mark.slow
GREEDY = {"temperature": 0, "num_predict": 96}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
HELLO = [{"role": "user", "content": "Hello!"}]
# the three prompt paths of each scripted GGUF: llama.cpp's Jinja, a Go TEMPLATE, Go + qwen3 PARSER
PATHS = ("jinja", "go", "parser")


def _post(url: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=300) as r:
        data = r.read()
    lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    return lines if len(lines) != 1 else lines[0]


def _upload(url: str, path: Path) -> str:
    import ollama

    with ollama.Client(host=url) as client:
        return str(client.create_blob(path))


def _create(url: str, name: str, files: dict[str, str], **fields: Any) -> None:
    out = _post(url + "/api/create", {"model": name, "files": files, "stream": False, **fields})
    assert out.get("status") == "success", out


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    need_engine()
    home = tmp_path_factory.mktemp("e2e-scripted")
    d = Daemon(home, home / "models", {"PYOLLAMA_CONTEXT_LENGTH": "2048", "PYOLLAMA_NUM_PARALLEL": "1"})
    try:
        ggufs = {
            "think": make_chat_model(home / "think.gguf", ANSWER, thinking=THINKING),
            "tool": make_chat_model(
                home / "tool.gguf", TOOL_CALL, thinking=TOOL_THINKING, after_tool=TOOL_ANSWER
            ),
            "two": make_chat_model(home / "two.gguf", TWO_TOOL_CALLS),
            "json": make_chat_model(home / "json.gguf", JSON_ANSWER, thinking=THINKING),
        }
        for kind, path in ggufs.items():
            digest = _upload(d.url, path)
            files = {path.name: digest}
            _create(d.url, f"{kind}-jinja", files)
            _create(d.url, f"{kind}-go", files, template=QWEN3_GO)
            _create(d.url, f"{kind}-parser", files, template=QWEN3_GO, parser="qwen3-thinking")
        projector = make_tiny_projector(
            home / "mmproj.gguf", gguf_embedding_length(ggufs["think"]), const_dim0=SCRIPTED_CONST
        )
        files = {"think.gguf": _upload(d.url, ggufs["think"]), "mmproj.gguf": _upload(d.url, projector)}
        _create(d.url, "vision", files)
        yield d
    finally:
        assert d.stop() == 0, d.log_text()[-3000:]


@pytest.fixture(scope="module")
def client(daemon: Daemon) -> Iterator[Any]:
    import ollama

    with ollama.Client(host=daemon.url) as c:
        yield c


def _calls(tool_calls: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(c.function.name, dict(c.function.arguments)) for c in tool_calls or []]


# --- /api/chat and /api/generate ------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_chat_parses_a_tool_call_and_its_thinking(client: Any, path: str) -> None:
    r = client.chat(model=f"tool-{path}", messages=ASK, tools=[WEATHER_TOOL], options=GREEDY)
    assert _calls(r.message.tool_calls) == TOOL_CALL_PARSED
    assert r.message.content == "" and r.message.thinking.strip() == TOOL_THINKING
    parts = list(
        client.chat(model=f"tool-{path}", messages=ASK, tools=[WEATHER_TOOL], options=GREEDY, stream=True)
    )
    streamed = [c for p in parts for c in (p.message.tool_calls or [])]
    assert _calls(streamed) == TOOL_CALL_PARSED  # a whole call, sent once
    assert all(not p.message.content for p in parts)
    assert "".join(p.message.thinking or "" for p in parts).strip() == TOOL_THINKING
    assert sum(1 for p in parts if p.message.thinking) > 1  # thinking streams as it comes


@pytest.mark.parametrize("path", PATHS)
def test_a_tool_result_gets_the_answer(client: Any, path: str) -> None:
    history = [
        *ASK,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
        },
        {"role": "tool", "content": "sunny, 22", "tool_name": "get_weather"},
    ]
    r = client.chat(model=f"tool-{path}", messages=history, tools=[WEATHER_TOOL], options=GREEDY)
    assert not r.message.tool_calls
    if path == "parser":
        # Ollama's qwen3-thinking parser starts inside a thinking block (its template opens one), so
        # an answer without tags reads as thinking there
        assert r.message.thinking.strip() == TOOL_ANSWER
    else:
        assert r.message.content == TOOL_ANSWER


@pytest.mark.parametrize("path", PATHS)
def test_two_calls_in_one_answer(client: Any, daemon: Daemon, path: str) -> None:
    r = client.chat(model=f"two-{path}", messages=ASK, tools=[WEATHER_TOOL], options=GREEDY, think=False)
    assert _calls(r.message.tool_calls) == TWO_TOOL_CALLS_PARSED
    body = {"model": f"two-{path}", "messages": ASK, "tools": [WEATHER_TOOL], "options": GREEDY}
    raw = _post(daemon.url + "/api/chat", {**body, "stream": False, "think": False})["message"]["tool_calls"]
    assert [c["function"]["index"] for c in raw] == [0, 1]
    assert len({c["id"] for c in raw}) == 2 and all(raw_id["id"] for raw_id in raw)
    if path != "jinja":  # ids Ollama's server makes: call_ + 8 of [a-z0-9] (llama.cpp makes its own)
        assert all(c["id"].startswith("call_") and len(c["id"]) == 13 for c in raw)


@pytest.mark.parametrize("path", PATHS)
def test_thinking_on_off_and_levels(client: Any, path: str) -> None:
    r = client.chat(model=f"think-{path}", messages=HELLO, options=GREEDY)  # a thinking model thinks
    assert (r.message.content, r.message.thinking.strip()) == (ANSWER, THINKING)
    r = client.chat(model=f"think-{path}", messages=HELLO, options=GREEDY, think=False)
    assert r.message.content == ANSWER and not r.message.thinking
    r = client.chat(model=f"think-{path}", messages=HELLO, options=GREEDY, think="high")
    assert r.message.thinking.strip() == THINKING
    g = client.generate(model=f"think-{path}", prompt="Hello!", options=GREEDY)
    assert (g.response, g.thinking.strip()) == (ANSWER, THINKING)


@pytest.mark.parametrize("path", PATHS)
def test_format_constrains_only_the_answer_of_a_thinking_model(client: Any, path: str) -> None:
    """Ollama's users report `format` breaking thinking models; here the model thinks freely and
    the answer alone is held to the schema."""
    for fmt in ("json", JSON_ANSWER_SCHEMA):
        r = client.chat(model=f"json-{path}", messages=HELLO, options=GREEDY, format=fmt)
        assert r.message.thinking.strip() == THINKING
        assert json.loads(r.message.content) == json.loads(JSON_ANSWER)


def test_capabilities_claim_what_works(client: Any) -> None:
    for path in PATHS:
        caps = client.show(f"tool-{path}").capabilities or []
        assert "tools" in caps and "thinking" in caps and "completion" in caps
        assert "vision" not in caps
    assert "vision" in (client.show("vision").capabilities or [])


def test_images_reach_the_projector(daemon: Daemon) -> None:
    image = base64.b64encode(png(40, 24)).decode()
    body: dict[str, Any] = {"model": "vision", "stream": False, "options": GREEDY, "think": False}
    plain = _post(daemon.url + "/api/chat", {**body, "messages": HELLO})
    seen = _post(daemon.url + "/api/chat", {**body, "messages": [{**HELLO[0], "images": [image]}]})
    assert seen["prompt_eval_count"] == plain["prompt_eval_count"] + 16  # 16 image tokens evaluated
    assert seen["message"]["content"] == ANSWER
    gen = _post(daemon.url + "/api/generate", {**body, "prompt": "Hello!", "images": [image]})
    assert gen["prompt_eval_count"] > 16
    oai = _post(
        daemon.url + "/v1/chat/completions",
        {
            "model": "vision",
            "reasoning_effort": "none",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Hello!"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + image}},
                    ],
                }
            ],
        },
    )
    assert oai["usage"]["prompt_tokens"] >= 16


# --- the OpenAI SDK ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oai(daemon: Daemon) -> Iterator[Any]:
    openai = pytest.importorskip("openai")
    with openai.OpenAI(base_url=daemon.url + "/v1", api_key="unused") as c:
        yield c


@pytest.mark.parametrize("path", PATHS)
def test_openai_tool_calls_and_reasoning(oai: Any, path: str) -> None:
    r = oai.chat.completions.create(model=f"tool-{path}", messages=ASK, tools=[WEATHER_TOOL], temperature=0)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    stream = oai.chat.completions.create(
        model=f"tool-{path}", messages=ASK, tools=[WEATHER_TOOL], temperature=0, stream=True
    )
    deltas = list(stream)
    names = [tc.function.name for d in deltas for tc in (d.choices[0].delta.tool_calls or []) if d.choices]
    assert names == ["get_weather"]
    assert [d.choices[0].finish_reason for d in deltas if d.choices and d.choices[0].finish_reason] == [
        "tool_calls"
    ]


@pytest.mark.parametrize("path", PATHS)
def test_openai_structured_output(oai: Any, path: str) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "weather", "schema": JSON_ANSWER_SCHEMA}}
    r = oai.chat.completions.create(model=f"json-{path}", messages=HELLO, response_format=fmt, temperature=0)
    assert json.loads(r.choices[0].message.content) == json.loads(JSON_ANSWER)


def test_openai_tool_choice_required_and_none(oai: Any) -> None:
    r = oai.chat.completions.create(
        model="tool-jinja", messages=ASK, tools=[WEATHER_TOOL], tool_choice="required", temperature=0
    )
    assert r.choices[0].message.tool_calls[0].function.name == "get_weather"
    r = oai.chat.completions.create(
        model="think-jinja", messages=HELLO, tools=[WEATHER_TOOL], tool_choice="none", temperature=0
    )
    assert r.choices[0].message.content == ANSWER and not r.choices[0].message.tool_calls


@pytest.mark.parametrize("path", ("jinja", "go"))
def test_openai_responses(oai: Any, path: str) -> None:
    tool = {"type": "function", **WEATHER_TOOL["function"]}
    r = oai.responses.create(model=f"tool-{path}", input="What is the weather in Paris?", tools=[tool])
    calls = [o for o in r.output if o.type == "function_call"]
    assert calls and calls[0].name == "get_weather" and json.loads(calls[0].arguments) == {"city": "Paris"}
    r = oai.responses.create(model=f"think-{path}", input="Hello!")
    assert r.output_text == ANSWER
    events = list(oai.responses.create(model=f"think-{path}", input="Hello!", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == ANSWER


# --- the Anthropic SDK --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_anthropic_tool_use_and_thinking(daemon: Daemon, path: str) -> None:
    anthropic = pytest.importorskip("anthropic")
    with anthropic.Anthropic(base_url=daemon.url, api_key="unused") as ac:
        tool = {
            "name": "get_weather",
            "description": "Get the current weather in a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"],
        }
        thinking = {"type": "enabled", "budget_tokens": 1024}
        m = ac.messages.create(
            model=f"tool-{path}",
            max_tokens=200,
            messages=ASK,
            tools=[tool],
            thinking=thinking,
        )
        kinds = [b.type for b in m.content]
        assert kinds == ["thinking", "tool_use"] and m.stop_reason == "tool_use"
        use = m.content[1]
        assert use.name == "get_weather" and use.input == {"city": "Paris"}
        with ac.messages.stream(
            model=f"tool-{path}",
            max_tokens=200,
            messages=ASK,
            tools=[tool],
            thinking=thinking,
        ) as stream:
            final = stream.get_final_message()
        assert [b.type for b in final.content] == ["thinking", "tool_use"]
        assert final.content[0].thinking.strip() == TOOL_THINKING and final.content[1].input == {
            "city": "Paris"
        }


# --- LangChain --------------------------------------------------------------------------------------


def test_langchain_chat_ollama(daemon: Daemon) -> None:
    lc = pytest.importorskip("langchain_ollama")
    from pydantic import BaseModel

    llm = lc.ChatOllama(model="tool-jinja", base_url=daemon.url, temperature=0)
    msg = llm.bind_tools([WEATHER_TOOL]).invoke("What is the weather in Paris?")
    assert [(c["name"], c["args"]) for c in msg.tool_calls] == TOOL_CALL_PARSED

    class Weather(BaseModel):
        city: str
        temperature: int
        sunny: bool

    structured = lc.ChatOllama(model="json-go", base_url=daemon.url, temperature=0).with_structured_output(
        Weather, method="json_schema"
    )
    out = structured.invoke("Hello!")
    assert out == Weather(city="Paris", temperature=22, sunny=True)
