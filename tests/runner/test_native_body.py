"""The engine request body built from Ollama's options (no engine needed): num_predict bounded as
Ollama's boundedNumPredict bounds it."""

from __future__ import annotations

from pyollama.runner.native import bounded_num_predict, sampling_body


def test_num_predict_is_bounded_by_ten_contexts() -> None:
    assert sampling_body({}, slot_context=2048)["n_predict"] == 20480  # open-ended
    assert sampling_body({"num_predict": -1}, slot_context=2048)["n_predict"] == 20480
    assert sampling_body({"num_predict": -2}, slot_context=2048)["n_predict"] == 20480
    assert sampling_body({"num_predict": 100}, slot_context=2048)["n_predict"] == 100
    assert sampling_body({"num_predict": 30000}, slot_context=2048)["n_predict"] == 20480
    assert sampling_body({"num_predict": 2**63}, slot_context=2048)["n_predict"] == 20480
    assert sampling_body({"num_predict": 0}, slot_context=2048)["n_predict"] == 0
    assert bounded_num_predict(-1, 0) == -1  # no known context: unchanged


def test_sampling_options_keep_their_llama_names() -> None:
    body = sampling_body({"temperature": 0.5, "stop": "x", "num_ctx": 99, "bogus": 1}, slot_context=64)
    assert body == {"n_predict": 640, "temperature": 0.5, "stop": ["x"]}
