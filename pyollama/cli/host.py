"""Where the client connects: `PYOLLAMA_HOST`, else `OLLAMA_HOST`, parsed as Ollama's `envconfig.Host`.

The parsing itself is the daemon's (`pyollama.config.parse_host`), so client and server always agree
on what an address means; this module only turns it into the base URL the client uses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pyollama.config import DEFAULT_PORT
from pyollama.config import parse_host as parse_host_address

__all__ = ["DEFAULT_PORT", "host_from_env", "parse_host"]


def _env(env: Mapping[str, str], key: str) -> str:
    # Ollama's envconfig.Var: trim spaces, then quotes
    return env.get(key, "").strip().strip("\"'")


def parse_host(value: str) -> str:
    """`OLLAMA_HOST` value to a base URL: bare host gets :11434, `http://h` :80, `https://h` :443."""
    addr = parse_host_address(value.strip().strip("\"'"))
    return addr.url.rstrip("/")


def host_from_env(env: Mapping[str, str] | None = None) -> str:
    """The server base URL the CLI talks to (`PYOLLAMA_HOST` wins over `OLLAMA_HOST`)."""
    env = os.environ if env is None else env
    value = _env(env, "PYOLLAMA_HOST") or _env(env, "OLLAMA_HOST")
    return parse_host(value)
