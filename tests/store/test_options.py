from __future__ import annotations

import pytest

from pyollama.errors import BadRequest, InternalError
from pyollama.options import (
    LOAD_TIME_OPTIONS,
    OPTIONS,
    check_option,
    format_params,
)


def test_table() -> None:
    assert {"num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread"} <= LOAD_TIME_OPTIONS
    assert "temperature" not in LOAD_TIME_OPTIONS
    assert OPTIONS["stop"].type == "string_list"
    assert OPTIONS["top_k"].default == 40


def test_format_params_types() -> None:
    got = format_params(
        {"temperature": ["0.7"], "num_ctx": ["4096"], "use_mmap": ["false"], "stop": ["<|eot|>"]}
    )
    assert got == {"temperature": 0.7, "num_ctx": 4096, "use_mmap": False, "stop": ["<|eot|>"]}
    assert format_params({"top_p": ["0.9"]}) == {"top_p": 0.9}  # float32 rounded back to shortest


@pytest.mark.parametrize(
    ("params", "msg"),
    [
        ({"nope": ["1"]}, "unknown parameter 'nope'"),
        ({"tfs_z": ["1"]}, "unknown parameter 'tfs_z'"),
        ({"num_ctx": ["4k"]}, "invalid int value [4k]"),
        ({"num_ctx": ["1.5"]}, "invalid int value [1.5]"),
        ({"temperature": ["hot"]}, "invalid float value [hot]"),
        ({"temperature": ["1e40"]}, "invalid float value [1e40]"),
        ({"use_mmap": ["yes"]}, "invalid bool value [yes]"),
    ],
)
def test_format_params_errors(params: dict[str, list[str]], msg: str) -> None:
    with pytest.raises(BadRequest) as e:
        format_params(params)
    assert str(e.value) == msg


def test_check_option() -> None:
    assert check_option("num_ctx", 2048.0) == 2048
    assert check_option("unknown", 1) is None
    with pytest.raises(InternalError, match='option "temperature" must be of type float32'):
        check_option("temperature", "hot")
    with pytest.raises(InternalError, match='option "num_ctx" must be of type integer'):
        check_option("num_ctx", "1")
    with pytest.raises(InternalError, match='option "use_mmap" must be of type boolean'):
        check_option("use_mmap", 1)
    with pytest.raises(InternalError, match='option "stop" must be of type array'):
        check_option("stop", "x")


def test_pyollama_options_for_speculation_and_adapters() -> None:
    """`draft_ngram` (a string with fixed choices) and `lora_scale` are load-time, pyollama's own."""
    assert {"draft_ngram", "lora_scale", "draft_num_predict"} <= LOAD_TIME_OPTIONS
    assert format_params({"draft_ngram": ["ngram-simple"], "lora_scale": ["0.5"]}) == {
        "draft_ngram": "ngram-simple",
        "lora_scale": 0.5,
    }
    with pytest.raises(BadRequest, match="invalid draft_ngram value 'fast': one of ngram-simple, "):
        format_params({"draft_ngram": ["fast"]})
    assert check_option("draft_ngram", "ngram-mod") == "ngram-mod"
    with pytest.raises(InternalError, match='option "draft_ngram" must be of type string'):
        check_option("draft_ngram", True)
