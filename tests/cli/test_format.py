from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pyollama.cli.format import (
    human_bytes,
    human_time,
    list_table,
    metrics_summary,
    parse_timestamp,
    processor_string,
    ps_table,
    show_info,
)

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1 KB"),
        (1500, "1.5 KB"),
        (15_300, "15 KB"),
        (101_000_000, "101 MB"),
        (2_019_393_189, "2.0 GB"),
        (4_700_000_000, "4.7 GB"),
        (1_000_000_000_000, "1 TB"),
    ],
)
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=0.5), "Less than a second ago"),
        (timedelta(seconds=1), "1 second ago"),
        (timedelta(seconds=30), "30 seconds ago"),
        (timedelta(seconds=90), "About a minute ago"),
        (timedelta(minutes=4, seconds=59), "4 minutes ago"),
        (timedelta(hours=1), "About an hour ago"),
        (timedelta(hours=5), "5 hours ago"),
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=21), "3 weeks ago"),
        (timedelta(days=100), "3 months ago"),
        (timedelta(days=800), "2 years ago"),
        (timedelta(minutes=-4, seconds=-30), "4 minutes from now"),
    ],
)
def test_human_time(delta: timedelta, text: str) -> None:
    assert human_time(NOW - delta, now=NOW) == text


def test_human_time_forever_and_zero() -> None:
    assert human_time(datetime(2318, 1, 1, tzinfo=UTC), now=NOW) == "Forever"
    assert human_time(None) == "Never"
    assert parse_timestamp("0001-01-01T00:00:00Z") is None


def test_parse_timestamp_nanoseconds() -> None:
    t = parse_timestamp("2024-05-01T10:11:12.123456789-07:00")
    assert t is not None and t.microsecond == 123456 and t.utcoffset() == timedelta(hours=-7)


def test_processor_string() -> None:
    assert processor_string(100, 0) == "100% CPU"
    assert processor_string(100, 100) == "100% GPU"
    assert processor_string(100, 52) == "48%/52% CPU/GPU"
    assert processor_string(100, 200) == "Unknown"


def test_list_table_layout() -> None:
    models = [
        {
            "name": "smollm2:135m",
            "digest": "9077e7d95c5a" + "0" * 52,
            "size": 101_000_000,
            "modified_at": (NOW - timedelta(minutes=3)).isoformat().replace("+00:00", "Z"),
        },
        {
            "name": "gemma3:270m",
            "digest": "e7d36fb2c3b3" + "0" * 52,
            "size": 241_000_000,
            "modified_at": (NOW - timedelta(days=2)).isoformat().replace("+00:00", "Z"),
        },
    ]
    assert list_table(models, now=NOW) == (
        "NAME            ID              SIZE      MODIFIED\n"
        "smollm2:135m    9077e7d95c5a    101 MB    3 minutes ago\n"
        "gemma3:270m     e7d36fb2c3b3    241 MB    2 days ago\n"
    )
    assert "gemma" not in list_table(models, "smol", now=NOW)
    assert list_table([], now=NOW) == "NAME    ID    SIZE    MODIFIED\n"


def test_ps_table_layout() -> None:
    models = [
        {
            "name": "smollm2:135m",
            "digest": "9077e7d95c5a" + "0" * 52,
            "size": 300_000_000,
            "size_vram": 0,
            "context_length": 4096,
            "expires_at": (NOW + timedelta(minutes=4, seconds=30)).isoformat(),
        },
        {
            "name": "keep:latest",
            "digest": "1" * 64,
            "size": 10,
            "size_vram": 10,
            "context_length": 8192,
            "expires_at": "2318-01-01T00:00:00Z",
        },
        {
            "name": "old:latest",
            "digest": "2" * 64,
            "size": 10,
            "size_vram": 10,
            "context_length": 8192,
            "expires_at": (NOW - timedelta(seconds=5)).isoformat(),
        },
    ]
    lines = ps_table(models, now=NOW).splitlines()
    assert lines[0].split() == ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]
    assert lines[1] == "smollm2:135m    9077e7d95c5a    300 MB    100% CPU     4096       4 minutes from now"
    assert lines[2].endswith("100% GPU     8192       Forever")
    assert lines[3].endswith("Stopping...")


def test_metrics_summary_as_ollama() -> None:
    text = metrics_summary(
        {
            "total_duration": 18_293_521_648,
            "load_duration": 97_885_315,
            "prompt_eval_count": 21,
            "prompt_eval_duration": 1_346_030_951,
            "eval_count": 160,
            "eval_duration": 16_774_703_785,
        }
    )
    assert text == (
        "total duration:       18.293521648s\n"
        "load duration:        97.885315ms\n"
        "prompt eval count:    21 token(s)\n"
        "prompt eval duration: 1.346030951s\n"
        "prompt eval rate:     15.60 tokens/s\n"
        "eval count:           160 token(s)\n"
        "eval duration:        16.774703785s\n"
        "eval rate:            9.54 tokens/s\n"
    )
    assert metrics_summary({}) == ""


def test_show_info_blocks() -> None:
    text = show_info(
        {
            "details": {"parameter_size": "134.52M", "quantization_level": "Q4_1", "family": "llama"},
            "model_info": {
                "general.architecture": "llama",
                "llama.context_length": 8192,
                "llama.embedding_length": 576,
            },
            "capabilities": ["completion"],
            "parameters": 'stop                           "<|im_end|>"',
            "system": "You are helpful.",
            "license": "Apache 2.0\nline two\nline three",
        }
    )
    assert "  Model\n    architecture        llama\n    parameters          134.52M\n" in text
    assert "    context length      8192\n    embedding length    576\n    quantization        Q4_1\n" in text
    assert "  Capabilities\n    completion\n" in text
    assert '  Parameters\n    stop    "<|im_end|>"\n' in text
    assert "  System\n    You are helpful.\n" in text
    assert "  License\n    Apache 2.0\n    line two\n    ...\n" in text
