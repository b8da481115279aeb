"""Where the client connects: `PYOLLAMA_HOST`, else `OLLAMA_HOST`, parsed as Ollama's `envconfig.Host`."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

DEFAULT_PORT = 11434


def _env(env: Mapping[str, str], key: str) -> str:
    # Ollama's envconfig.Var: trim spaces, then quotes
    return env.get(key, "").strip().strip("\"'")


def _split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go's net.SplitHostPort: a port is required; IPv6 hosts come in brackets."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or not hostport[end + 1 :].startswith(":"):
            return None
        return hostport[1:end], hostport[end + 2 :]
    if hostport.count(":") != 1:
        return None
    host, port = hostport.split(":")
    return host, port


def parse_host(value: str) -> str:
    """`OLLAMA_HOST` value to a base URL: bare host gets :11434, `http://h` :80, `https://h` :443."""
    s = value.strip().strip("\"'")
    default_port = str(DEFAULT_PORT)
    scheme, sep, hostport = s.partition("://")
    if not sep:
        scheme, hostport = "http", s
        if s == "ollama.com":
            scheme, hostport = "https", "ollama.com:443"
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport, _, path = hostport.partition("/")
    split = _split_host_port(hostport)
    if split is None:
        host, port = "127.0.0.1", default_port
        bare = hostport.strip("[]")
        try:
            host = str(ipaddress.ip_address(bare))
        except ValueError:
            if hostport:
                host = hostport
    else:
        host, port = split
    try:
        n = int(port)
        if not 0 <= n <= 65535:
            raise ValueError
    except ValueError:
        port = default_port
    if ":" in host:
        host = f"[{host}]"
    url = f"{scheme}://{host}:{port}"
    if path:
        url += "/" + path.rstrip("/")
    return url


def host_from_env(env: Mapping[str, str] | None = None) -> str:
    """The server base URL the CLI talks to (`PYOLLAMA_HOST` wins over `OLLAMA_HOST`)."""
    env = os.environ if env is None else env
    value = _env(env, "PYOLLAMA_HOST") or _env(env, "OLLAMA_HOST")
    return parse_host(value)
