"""Settings from the environment with Ollama's parsing rules (pyollama/config.py)."""

from __future__ import annotations

import math

import pytest

from pyollama.config import Settings, help_table, parse_host


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("", ("http", "127.0.0.1", 11434)),
        ("0.0.0.0", ("http", "0.0.0.0", 11434)),
        ("example.com:8080", ("http", "example.com", 8080)),
        ("http://h", ("http", "h", 80)),
        ("https://h", ("https", "h", 443)),
        ("[::1]:5000", ("http", "::1", 5000)),
        ("ollama.com", ("https", "ollama.com", 443)),
        ("h:99999", ("http", "h", 11434)),
    ],
)
def test_parse_host(value: str, want: tuple[str, str, int]) -> None:
    h = parse_host(value)
    assert (h.scheme, h.host, h.port) == want


def test_from_env_precedence_and_parsing() -> None:
    s = Settings.from_env(
        {
            "OLLAMA_HOST": "0.0.0.0:1",
            "PYOLLAMA_HOST": " '127.0.0.1:2' ",
            "OLLAMA_KEEP_ALIVE": "-1",
            "OLLAMA_NOPRUNE": "garbage",
            "OLLAMA_NUM_PARALLEL": "2",
            "OLLAMA_ORIGINS": "a://b, c://*",
            "OLLAMA_MAX_QUEUE": "notanumber",
            "OLLAMA_FLASH_ATTENTION": "1",
        }
    )
    assert (s.host.host, s.host.port) == ("127.0.0.1", 2)
    assert math.isinf(s.keep_alive)
    assert s.noprune is True  # unparsable bool counts as true, like Ollama
    assert s.num_parallel == 2 and s.max_queue == 512 and s.flash_attention == "on"
    assert s.allowed_origins[:2] == ("a://b", "c://*") and "app://*" in s.allowed_origins


def test_defaults() -> None:
    s = Settings.from_env({})
    assert (s.host.host, s.host.port) == ("127.0.0.1", 11434)
    assert s.keep_alive == 300 and s.max_queue == 512 and s.effective_max_loaded_models == 3
    assert s.default_num_ctx == 4096 and s.kv_cache_type == "f16"
    assert s.keep_alive == Settings.from_env({"OLLAMA_KEEP_ALIVE": "5m"}).keep_alive
    assert Settings.from_env({"OLLAMA_KEEP_ALIVE": "120"}).keep_alive == 120


def test_runner_isolation_and_connection_settings() -> None:
    assert Settings.from_env({}).runner_isolation == "inprocess"
    assert Settings.from_env({"OLLAMA_RUNNER_ISOLATION": "inprocess"}).runner_isolation == "inprocess"
    assert Settings.from_env({"OLLAMA_RUNNER_ISOLATION": "In-Process"}).runner_isolation == "inprocess"
    assert (
        Settings.from_env({"OLLAMA_RUNNER_ISOLATION": "threads"}).runner_isolation == "inprocess"
    )  # bad: default
    both = {"OLLAMA_RUNNER_ISOLATION": "inprocess", "PYOLLAMA_RUNNER_ISOLATION": "process"}
    assert Settings.from_env(both).runner_isolation == "process"
    assert Settings.from_env({"PYOLLAMA_MAX_CONNECTIONS": "16"}).max_connections == 16
    assert Settings.from_env({}).max_connections == 512


def test_rpc_servers() -> None:
    s = Settings.from_env({"OLLAMA_RPC_SERVERS": " 10.0.0.2:50052,10.0.0.3:50052 "})
    assert s.rpc_servers == ("10.0.0.2:50052", "10.0.0.3:50052")
    assert s.effective_max_loaded_models == 1  # one client per rpc-server: one model at a time
    assert "OLLAMA_RPC_SERVERS" in help_table()
    assert s.as_map()["OLLAMA_RPC_SERVERS"] == "10.0.0.2:50052,10.0.0.3:50052"
    both = {"OLLAMA_RPC_SERVERS": "a:1", "PYOLLAMA_RPC_SERVERS": "b:2"}
    assert Settings.from_env(both).rpc_servers == ("b:2",)
    assert Settings.from_env({"OLLAMA_RPC_SERVERS": "not-an-endpoint"}).rpc_servers == ()
    assert Settings.from_env({}).rpc_servers == ()
    assert Settings.from_env({}).effective_max_loaded_models == 3
