from __future__ import annotations

import pytest

from pyollama.cli.host import host_from_env, parse_host


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("", "http://127.0.0.1:11434"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        ("1.2.3.4:5678", "http://1.2.3.4:5678"),
        ("example.com", "http://example.com:11434"),
        ("example.com:1234", "http://example.com:1234"),
        ("http://example.com", "http://example.com:80"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com:8443/ollama", "https://example.com:8443/ollama"),
        ("ollama.com", "https://ollama.com:443"),
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:7777", "http://[::1]:7777"),
        ("::1", "http://[::1]:11434"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        ("  '127.0.0.1:9'  ", "http://127.0.0.1:9"),
        ("host:99999", "http://host:11434"),
        (":8080", "http://:8080"),
    ],
)
def test_parse_host(value: str, url: str) -> None:
    assert parse_host(value) == url


def test_pyollama_host_wins() -> None:
    env = {"OLLAMA_HOST": "a:1", "PYOLLAMA_HOST": "b:2"}
    assert host_from_env(env) == "http://b:2"
    assert host_from_env({"OLLAMA_HOST": "a:1"}) == "http://a:1"
    assert host_from_env({}) == "http://127.0.0.1:11434"
