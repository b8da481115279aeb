"""The scripted models (tests/gguf_factory.py, tests/scripted.py) through the real engine.

They are test data for the rest of the suite: these tests pin that llama.cpp's server core, loaded
through NativeRunner, emits the exact scripts after their triggers (raw completions of any length
and content, greedy and with Ollama's default sampling, one slot or four), and that its chat path
parses the scripted output into content, reasoning and tool calls through the embedded template.
"""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pyollama.runner.base import ChatRequest, CompletionRequest
from pyollama.runner.types import Chunk, LoadOptions
from tests.conftest import requires_engine
from tests.gguf_factory import (
    SCRIPTED_CONST,
    ScriptError,
    gguf_embedding_length,
    load_vocab,
    make_scripted_model,
    make_tiny_projector,
    scripted_weights,
)
from tests.scripted import (
    ANSWER,
    JSON_ANSWER,
    JSON_ANSWER_SCHEMA,
    NO_THINK,
    QWEN3_GO,
    THINK_ANSWER,
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

GREEDY: dict[str, Any] = {"temperature": 0}
OLLAMA_SAMPLING: dict[str, Any] = {
    "temperature": 0.8,
    "top_k": 40,
    "top_p": 0.9,
    "repeat_penalty": 1.1,
    "seed": 7,
}
USER = [{"role": "user", "content": "Hi there!"}]
WEATHER_Q: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Paris?"}]


def gen_prompt(user: str, *, system: str = "") -> str:
    sys_turn = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    return f"{sys_turn}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


# --- models (built once per session; each load is its own runner) ----------------------------------------


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("scripted")
    return {
        "chat": make_chat_model(d / "chat.gguf", ANSWER, thinking=THINKING),
        "tool": make_chat_model(d / "tool.gguf", TOOL_CALL, thinking=TOOL_THINKING, after_tool=TOOL_ANSWER),
        "two_tools": make_chat_model(d / "two-tools.gguf", TWO_TOOL_CALLS),
        "json": make_chat_model(d / "json.gguf", JSON_ANSWER),
    }


async def load(path: Path, *, num_parallel: int = 1, projector: Path | None = None) -> Any:
    from pyollama.runner.native import NativeRunner

    opts = LoadOptions(
        num_ctx=2048,
        num_thread=2,
        num_parallel=num_parallel,
        flash_attn="auto",
        projector=str(projector) if projector else None,
    )
    return await NativeRunner.load(str(path), opts)


async def text_of(it: AsyncIterator[Chunk]) -> tuple[str, Chunk]:
    out, last = "", Chunk()
    async for c in it:
        out += c.content
        last = c
    return out, last


async def chat(runner: Any, messages: list[dict[str, Any]], **kw: Any) -> tuple[str, str, list[Any], Chunk]:
    content = thinking = ""
    calls: list[Any] = []
    last = Chunk()
    async for c in runner.chat(ChatRequest(messages=messages, options=kw.pop("options", GREEDY), **kw)):
        content += c.content
        thinking += c.thinking
        calls += c.tool_calls or []  # each call arrives once it is complete
        last = c
    return content, thinking, calls, last


def parsed(calls: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.arguments) for c in calls]


# --- no engine ---------------------------------------------------------------------------------------------


def test_a_script_that_contains_another_trigger_must_continue_with_its_script() -> None:
    with pytest.raises(ScriptError, match=r"contains the trigger '</think>\\n\\n'"):
        scripted_weights(
            [("<|im_start|>assistant\n", f"<think>\nx\n</think>\n\n{ANSWER}"), (NO_THINK, "Other.")]
        )
    with pytest.raises(ScriptError, match="given twice"):
        scripted_weights([("<|im_start|>assistant\n", "a"), ("<|im_start|>assistant\n", "b")])
    with pytest.raises(ScriptError, match="end token"):
        scripted_weights([("<|im_start|>assistant\n", "a<|im_end|>b")])


def test_qwen3_tokens_are_single_tokens_at_qwen3_ids() -> None:
    _kv, tok = load_vocab()
    assert tok.encode("<think></think><tool_call></tool_call>") == [151667, 151668, 151657, 151658]
    assert tok.encode("<|im_start|>assistant\n") == [151644, 77091, 198]
    assert tok.decode(tok.encode(THINK_ANSWER + TWO_TOOL_CALLS)) == THINK_ANSWER + TWO_TOOL_CALLS


def test_go_template_renders_the_same_triggers_and_infers_think_tags() -> None:
    from pyollama.template.prompt import PromptTemplate, template_capabilities

    t = PromptTemplate(QWEN3_GO)
    assert template_capabilities(t) == ["tools", "thinking"]
    assert t.execute(USER).endswith("<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n")
    assert t.execute(USER, think=False).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    after_tool = [
        *WEATHER_Q,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {}}}],
        },
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
    ]
    assert t.execute(after_tool, tools=[WEATHER_TOOL]).endswith(
        "<tool_response>\nsunny\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
    )


# --- the engine --------------------------------------------------------------------------------------------


def slow(f: Any) -> Any:
    """Needs the native engine; end-to-end (the `slow` mark)."""
    return requires_engine(pytest.mark.slow(f))


@slow
@pytest.mark.parametrize("num_parallel", [1, 4])
@pytest.mark.parametrize("options", [GREEDY, OLLAMA_SAMPLING], ids=["greedy", "sampled"])
async def test_raw_completions_follow_the_script_whatever_came_before(
    models: dict[str, Path], num_parallel: int, options: dict[str, Any]
) -> None:
    runner = await load(models["chat"], num_parallel=num_parallel)
    try:
        # prompts full of the script's own tokens and of earlier triggers; the think-off prompt
        noisy = (THINK_ANSWER + "<|im_start|>assistant\n" + TOOL_CALL + " ") * 12
        prompts = {
            gen_prompt("Hi"): THINK_ANSWER,
            gen_prompt(noisy, system=ANSWER * 5): THINK_ANSWER,
            gen_prompt("Hi") + "<think>\n\n</think>\n\n": ANSWER,
            "Just text, no chat at all. " * 3 + NO_THINK: ANSWER,
        }
        for prompt, want in prompts.items():
            out, last = await text_of(runner.complete(CompletionRequest(prompt=prompt, options=options)))
            assert out == want
            assert last.done and last.done_reason == "stop"
        # no trigger at the end: the model ends at once
        out, last = await text_of(runner.complete(CompletionRequest(prompt="The sky is", options=options)))
        assert (out, last.done_reason) == ("", "stop")
    finally:
        await runner.close()


@slow
async def test_a_prompt_filling_the_context(models: dict[str, Path]) -> None:
    runner = await load(models["tool"])
    try:
        filler = "".join(f"<|im_start|>assistant\n{TOOL_CALL} line {i}, {ANSWER}\n" for i in range(55))
        prompt = gen_prompt(filler)
        n = len(await runner.tokenize(prompt))
        assert 1900 < n < 2048 - 40
        out, last = await text_of(runner.complete(CompletionRequest(prompt=prompt, options=GREEDY)))
        assert out == f"<think>\n{TOOL_THINKING}\n</think>\n\n{TOOL_CALL}"
        assert last.prompt_eval_count == n
    finally:
        await runner.close()


@slow
async def test_four_slots_at_once(models: dict[str, Path]) -> None:
    runner = await load(models["chat"], num_parallel=4)
    try:
        prompts = [
            gen_prompt("Hi " * 40 * i) + ("<think>\n\n</think>\n\n" if i % 2 else "") for i in range(4)
        ]
        outs = await asyncio.gather(
            *(text_of(runner.complete(CompletionRequest(prompt=p, options=OLLAMA_SAMPLING))) for p in prompts)
        )
        assert [o for o, _ in outs] == [THINK_ANSWER, ANSWER, THINK_ANSWER, ANSWER]
    finally:
        await runner.close()


@slow
async def test_engine_tokenizes_like_the_factory(models: dict[str, Path]) -> None:
    _kv, tok = load_vocab()
    runner = await load(models["chat"])
    try:
        texts = [THINK_ANSWER, TWO_TOOL_CALLS, JSON_ANSWER, gen_prompt("It's 22°C,  isn't it?\n\n  ok")]
        for text in texts:
            assert await runner.tokenize(text) == tok.encode(text)
    finally:
        await runner.close()


@slow
async def test_chat_thinking_and_answer(models: dict[str, Path]) -> None:
    runner = await load(models["chat"])
    try:
        md = runner.metadata
        assert md.capabilities.thinking and md.capabilities.tools and md.architecture == "llama"
        for think in (None, True):
            content, thinking, calls, last = await chat(runner, USER, think=think)
            assert (content, thinking.strip(), calls) == (ANSWER, THINKING, [])
            assert last.done_reason == "stop"
        # a multi-turn chat with an earlier answer, sampled
        history = [*USER, {"role": "assistant", "content": ANSWER, "reasoning_content": THINKING}, *USER]
        content, thinking, _, _ = await chat(runner, history, options=OLLAMA_SAMPLING)
        assert (content, thinking.strip()) == (ANSWER, THINKING)
        # think off: the template's empty think block is parsed away, the answer alone remains
        content, thinking, _, _ = await chat(runner, USER, think=False)
        assert content == ANSWER and not thinking
    finally:
        await runner.close()


@slow
async def test_chat_think_false_gives_the_answer_alone(models: dict[str, Path]) -> None:
    runner = await load(models["chat"])
    try:
        content, thinking, _, _ = await chat(runner, USER, think=False)
        assert (content, thinking) == (ANSWER, "")
    finally:
        await runner.close()


@slow
@pytest.mark.parametrize("num_parallel", [1, 4])
async def test_chat_tool_calls(models: dict[str, Path], num_parallel: int) -> None:
    runner = await load(models["tool"], num_parallel=num_parallel)
    try:
        content, thinking, calls, last = await chat(runner, WEATHER_Q, tools=[WEATHER_TOOL])
        assert (content, thinking.strip(), parsed(calls)) == ("", TOOL_THINKING, TOOL_CALL_PARSED)
        assert last.done_reason == "stop"
        _c, thinking, calls, _ = await chat(runner, WEATHER_Q, tools=[WEATHER_TOOL], think=False)
        assert (thinking, parsed(calls)) == ("", TOOL_CALL_PARSED)
        # the tool's result comes back: the model answers from it
        history = [
            *WEATHER_Q,
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": '{"sky": "sunny", "celsius": 22}'},
        ]
        content, thinking, calls, _ = await chat(
            runner, history, tools=[WEATHER_TOOL], options=OLLAMA_SAMPLING
        )
        assert (content, thinking, calls) == (TOOL_ANSWER, "", [])
    finally:
        await runner.close()


@slow
async def test_chat_two_tool_calls_in_a_row(models: dict[str, Path]) -> None:
    runner = await load(models["two_tools"])
    try:
        for options in (GREEDY, OLLAMA_SAMPLING):
            content, _t, calls, _ = await chat(runner, WEATHER_Q, tools=[WEATHER_TOOL], options=options)
            assert (content, parsed(calls)) == ("", TWO_TOOL_CALLS_PARSED)
    finally:
        await runner.close()


@slow
async def test_json_answers_pass_format_grammars(models: dict[str, Path]) -> None:
    runner = await load(models["json"])
    try:
        for fmt in ("json", JSON_ANSWER_SCHEMA):
            content, _t, _c, _ = await chat(runner, USER, format=fmt)
            assert json.loads(content) == json.loads(JSON_ANSWER)
            out, _ = await text_of(runner.complete(CompletionRequest(prompt=gen_prompt("Hi"), format=fmt)))
            assert out == JSON_ANSWER
    finally:
        await runner.close()


@slow
async def test_go_template_prompts_reach_the_same_scripts(models: dict[str, Path]) -> None:
    """The Modelfile path: Ollama renders QWEN3_GO and completes the raw prompt."""
    from pyollama.template.prompt import PromptTemplate

    t = PromptTemplate(QWEN3_GO)
    runner = await load(models["tool"])
    try:
        cases = {
            t.execute(WEATHER_Q, tools=[WEATHER_TOOL]): f"<think>\n{TOOL_THINKING}\n</think>\n\n{TOOL_CALL}",
            t.execute(WEATHER_Q, tools=[WEATHER_TOOL], think=False): TOOL_CALL,
        }
        for prompt, want in cases.items():
            out, _ = await text_of(runner.complete(CompletionRequest(prompt=prompt, options=GREEDY)))
            assert out == want
    finally:
        await runner.close()


def png(width: int, height: int) -> bytes:
    """An RGB PNG (a colour gradient), written with zlib and struct."""
    rows = b"".join(
        b"\0" + b"".join(bytes((x * 255 // width, y * 255 // height, 96)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@slow
async def test_an_image_through_the_tiny_projector_is_evaluated(
    models: dict[str, Path], tmp_path: Path
) -> None:
    model = models["chat"]
    projector = make_tiny_projector(
        tmp_path / "mmproj.gguf", gguf_embedding_length(model), const_dim0=SCRIPTED_CONST
    )
    runner = await load(model, projector=projector)
    try:
        assert runner.metadata.capabilities.vision
        no_cache = {"cache_prompt": False}
        text = gen_prompt("Describe this.") + NO_THINK
        plain, p_last = await text_of(runner.complete(CompletionRequest(prompt=text, engine_extra=no_cache)))
        req = CompletionRequest(prompt=text.replace("Describe", "[img-0]Describe"), images=[png(40, 24)])
        req.engine_extra = no_cache
        seen, i_last = await text_of(runner.complete(req))
        assert i_last.prompt_eval_count - p_last.prompt_eval_count == (32 // 8) ** 2
        assert plain == seen == ANSWER  # the image reads as ordinary text to the script
    finally:
        await runner.close()


def test_scripted_model_file(tmp_path: Path) -> None:
    """What llama.cpp needs for the chat path is in the header."""
    from tests.gguf_factory import _read_gguf_kv

    path = make_scripted_model(
        tmp_path / "m.gguf", [("<|im_start|>assistant\n", ANSWER)], chat_template="{{ x }}"
    )
    kv = {k: v for k, (_t, v) in _read_gguf_kv(path).items() if not isinstance(v, tuple)}
    assert kv["general.architecture"] == "llama"
    assert kv["tokenizer.chat_template"] == "{{ x }}"
    assert (kv["tokenizer.ggml.eos_token_id"], kv["tokenizer.ggml.eot_token_id"]) == (151645, 151645)
    assert kv["tokenizer.ggml.bos_token_id"] == 151643 and kv["tokenizer.ggml.add_bos_token"] is False
