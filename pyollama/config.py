"""Every daemon setting, read once from an environment mapping into a frozen `Settings`.

Names are Ollama's (`OLLAMA_*`) so existing setups keep working; a `PYOLLAMA_*` twin wins when both
are set, so pyollama can run next to a real Ollama. Parsing follows Ollama's envconfig: values are
trimmed of spaces and quotes, unparsable booleans count as true, `OLLAMA_HOST` uses Ollama's URL rules.
The `SETTINGS` table is the single source for both parsing and `pyollama serve --help`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from pyollama.go.net import split_host_port
from pyollama.go.strconv import BOOL_STRINGS
from pyollama.go.time import DurationError, parse_duration
from pyollama.rpc import parse_servers

DEFAULT_PORT = 11434
DEFAULT_NUM_PARALLEL = 4  # used when OLLAMA_NUM_PARALLEL is unset and memory allows (else 1)
FOREVER = math.inf

# Ollama's built-in CORS origins (envconfig.AllowedOrigins); OLLAMA_ORIGINS entries are added to these.
DEFAULT_ORIGINS: tuple[str, ...] = (
    *(
        o
        for h in ("localhost", "127.0.0.1", "0.0.0.0")
        for o in (f"http://{h}", f"https://{h}", f"http://{h}:*", f"https://{h}:*")
    ),
    "app://*",
    "file://*",
    "tauri://*",
    "vscode-webview://*",
    "vscode-file://*",
)


def parse_keep_alive(value: str) -> float:
    """OLLAMA_KEEP_ALIVE: Go duration, else integer seconds; negative means forever."""
    try:
        seconds = parse_duration(value)
    except DurationError:
        try:
            seconds = float(int(value))
        except ValueError:
            seconds = 300.0
    return FOREVER if seconds < 0 else seconds


def parse_bool(value: str) -> bool:
    """Ollama's envconfig.Bool: strconv.ParseBool, but a set, unparsable value means true."""
    return BOOL_STRINGS.get(value, True)


@dataclass(frozen=True)
class HostAddress:
    scheme: str
    host: str
    port: int
    path: str = ""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{'/' + self.path if self.path else ''}"


def parse_host(value: str) -> HostAddress:
    """`OLLAMA_HOST` as Ollama reads it (envconfig.Host)."""
    default_port = str(DEFAULT_PORT)
    s = value.strip()
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
    split = split_host_port(hostport)
    if split is None:
        host, port = "127.0.0.1", default_port
        if hostport.strip("[]") and ":" in hostport.strip("[]"):
            host = hostport.strip("[]")
        elif hostport:
            host = hostport
    else:
        host, port = split
    try:
        n = int(port)
        if not 0 <= n <= 65535:
            raise ValueError(port)
    except ValueError:
        n = int(default_port)
    return HostAddress(scheme=scheme, host=host, port=n, path=path)


def _default_models_dir() -> Path:
    return platformdirs.user_data_path("pyollama") / "models"


@dataclass(frozen=True)
class Setting:
    """One environment variable: its Ollama name, the Settings field it sets (whose default is the
    default), its parser and what it means."""

    name: str
    attr: str
    parse: Callable[[str], Any]
    meaning: str
    default_text: str  # the Settings field holds the value; this says it for --help
    pyollama_only: bool = False

    @property
    def env_names(self) -> tuple[str, ...]:
        """Precedence order: PYOLLAMA_* first, then Ollama's own name."""
        suffix = self.name.removeprefix("OLLAMA_").removeprefix("PYOLLAMA_")
        return (f"PYOLLAMA_{suffix}",) if self.pyollama_only else (f"PYOLLAMA_{suffix}", self.name)


def _int(value: str) -> int:
    return int(value)


def _origins(value: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in value.split(",") if o.strip())


def _load_timeout(value: str) -> float:
    seconds = parse_keep_alive(value)
    return FOREVER if seconds <= 0 else seconds


def _flash(value: str) -> str:
    low = value.lower()
    if low in ("auto", ""):
        return "auto"
    if low in ("on", "off"):
        return low
    return "on" if parse_bool(value) else "off"


def _debug(value: str) -> int:
    try:
        return max(int(value), 0)
    except ValueError:
        return 1 if parse_bool(value) else 0


def _go_template(value: str) -> bool | None:
    return parse_bool(value)


METRICS_MODES = ("off", "loopback", "any")


def _metrics(value: str) -> str:
    """OLLAMA_METRICS: 0/false off, `any` for every client, else (1, true, loopback) loopback only."""
    low = value.lower()
    if low in METRICS_MODES:
        return low
    return "loopback" if parse_bool(value) else "off"


def _keys(value: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in value.split(",") if k.strip())


RUNNER_ISOLATION = ("process", "inprocess")


def _isolation(value: str) -> str:
    low = value.lower().replace("-", "").replace("_", "")
    if low not in RUNNER_ISOLATION:
        raise ValueError(value)
    return low


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "OLLAMA_HOST",
        "host",
        parse_host,
        "address to bind; bare host -> port 11434, http://h -> 80, https://h -> 443",
        default_text="127.0.0.1:11434",
    ),
    Setting(
        "OLLAMA_MODELS",
        "models",
        lambda v: Path(v).expanduser(),
        "model store root (manifests/ and blobs/)",
        default_text="<user data dir>/pyollama/models",
    ),
    Setting(
        "OLLAMA_KEEP_ALIVE",
        "keep_alive",
        parse_keep_alive,
        "how long an idle model stays loaded (Go duration or seconds; negative = forever, 0 = unload)",
        default_text="5m",
    ),
    Setting(
        "OLLAMA_LOAD_TIMEOUT",
        "load_timeout",
        _load_timeout,
        "give up on a model load after this long (<= 0: never)",
        default_text="5m",
    ),
    Setting(
        "OLLAMA_NUM_PARALLEL",
        "num_parallel",
        _int,
        "parallel requests (slots) per model; each slot gets its own num_ctx",
        default_text=f"{DEFAULT_NUM_PARALLEL} if memory allows, else 1",
    ),
    Setting(
        "OLLAMA_MAX_LOADED_MODELS",
        "max_loaded_models",
        _int,
        "models kept resident at once; idle ones are evicted first",
        default_text="3",
    ),
    Setting(
        "OLLAMA_MAX_QUEUE",
        "max_queue",
        _int,
        "requests waiting for a model or a slot before answering 503",
        default_text="512",
    ),
    Setting(
        "OLLAMA_CONTEXT_LENGTH",
        "context_length",
        _int,
        "default num_ctx per slot (clamped to the model's trained context)",
        default_text="4096",
    ),
    Setting(
        "OLLAMA_ORIGINS",
        "origins",
        _origins,
        "extra comma-separated CORS origins, wildcards allowed, added to the localhost/app ones",
        default_text="(none)",
    ),
    Setting(
        "OLLAMA_FLASH_ATTENTION",
        "flash_attention",
        _flash,
        "flash attention: 1/on, 0/off, auto",
        default_text="auto",
    ),
    Setting(
        "OLLAMA_KV_CACHE_TYPE",
        "kv_cache_type",
        lambda v: v.lower() or "f16",
        "KV cache quantization: f16, q8_0, q4_0",
        default_text="f16",
    ),
    Setting(
        "OLLAMA_DEBUG",
        "debug",
        _debug,
        "log level: 0 info, 1 debug (llama.cpp's info), 2 trace (llama.cpp's debug)",
        default_text="0",
    ),
    Setting(
        "OLLAMA_NOPRUNE",
        "noprune",
        parse_bool,
        "do not prune unreferenced blobs at start",
        default_text="false",
    ),
    Setting(
        "OLLAMA_GO_TEMPLATE",
        "go_template",
        _go_template,
        "1: always use a Modelfile TEMPLATE, 0: always use the GGUF's Jinja template",
        default_text="(auto)",
    ),
    Setting(
        "OLLAMA_METRICS",
        "metrics",
        _metrics,
        "Prometheus /metrics: 1/loopback (answers loopback clients only), any, 0/off",
        default_text="loopback",
    ),
    Setting(
        "OLLAMA_API_KEYS",
        "api_keys",
        _keys,
        "comma-separated API keys; when set (or a keys file), every route but GET / needs one "
        "(Authorization: Bearer <key> or x-api-key)",
        default_text="(none: no authentication)",
    ),
    Setting(
        "OLLAMA_API_KEYS_FILE",
        "api_keys_file",
        lambda v: Path(v).expanduser(),
        "file of API keys, one a line (# comments), read at start; adds to OLLAMA_API_KEYS",
        default_text="(none)",
    ),
    Setting(
        "OLLAMA_RUNNER_ISOLATION",
        "runner_isolation",
        _isolation,
        "process: each model in a child runner process (llama.cpp aborting ends that model only); "
        "inprocess: in the daemon",
        default_text="inprocess",
    ),
    Setting(
        "OLLAMA_RPC_SERVERS",
        "rpc_servers",
        parse_servers,
        "comma-separated host:port of `pyollama rpc-server`s (ggml's RPC backend): every model's "
        "layers are split across them and this machine; one model loaded at a time. The protocol "
        "has NO authentication: use trusted networks only",
        default_text="(none)",
    ),
    Setting(
        "PYOLLAMA_NUM_THREAD",
        "num_thread",
        _int,
        "CPU threads per model",
        default_text="0 (llama.cpp's choice)",
        pyollama_only=True,
    ),
    Setting(
        "PYOLLAMA_MAX_REQUEST_SIZE",
        "max_request_size",
        _int,
        "largest request body in bytes on the inference routes (others: 8 MiB at most; blob uploads "
        "are streamed and not limited)",
        default_text="268435456",
        pyollama_only=True,
    ),
    Setting(
        "PYOLLAMA_MAX_CONNECTIONS",
        "max_connections",
        _int,
        "concurrent connections; past it a new one is answered 503 and closed (0: no limit)",
        default_text="512",
        pyollama_only=True,
    ),
)


@dataclass(frozen=True)
class Settings:
    """The daemon's configuration; build with `Settings.from_env(os.environ)` or directly in tests."""

    host: HostAddress = field(default_factory=lambda: parse_host(""))
    models: Path = field(default_factory=_default_models_dir)
    keep_alive: float = 300.0  # seconds; math.inf = forever
    load_timeout: float = 300.0
    num_parallel: int = 0  # 0 = auto
    max_loaded_models: int = 0  # 0 = auto (3)
    max_queue: int = 512
    context_length: int = 0  # 0 = auto (4096)
    origins: tuple[str, ...] = ()
    flash_attention: str = "auto"
    kv_cache_type: str = "f16"
    debug: int = 0
    noprune: bool = False
    go_template: bool | None = None
    metrics: str = "loopback"  # off | loopback | any
    api_keys: tuple[str, ...] = ()
    api_keys_file: Path | None = None
    num_thread: int = 0
    runner_isolation: str = "inprocess"  # a child per model costs load time, latency, memory (README)
    max_request_size: int = 256 * 1024 * 1024
    max_connections: int = 512
    rpc_servers: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for spec in SETTINGS:
            for name in spec.env_names:
                raw = env.get(name)
                if raw is None:
                    continue
                raw = raw.strip().strip("\"'")
                if raw == "":
                    continue
                try:
                    values[spec.attr] = spec.parse(raw)
                except ValueError:
                    continue  # Ollama falls back to the default on bad values
                break
        return cls(**values)

    @property
    def effective_max_loaded_models(self) -> int:
        # an rpc-server serves one client at a time and a loaded model holds its connection: a
        # second model would wait for it forever, so with RPC servers one model is loaded at a time
        if self.rpc_servers:
            return 1
        return self.max_loaded_models if self.max_loaded_models > 0 else 3

    @property
    def llama_log_level(self) -> int:
        """llama.cpp's log level for OLLAMA_DEBUG: errors only by default (it is chatty), its info
        logs at debug, its debug logs at trace and above."""
        return 0 if self.debug <= 0 else 3 if self.debug == 1 else 4

    @property
    def default_num_ctx(self) -> int:
        return self.context_length if self.context_length > 0 else 4096

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return (*self.origins, *DEFAULT_ORIGINS)

    def as_map(self) -> dict[str, str]:
        """What `serve` prints at start, like Ollama's `server config env=map[...]`."""
        out: dict[str, str] = {}
        for spec in SETTINGS:
            value = getattr(self, spec.attr)
            if spec.attr == "api_keys":  # never print a key
                out[spec.env_names[-1]] = f"({len(value)} keys)" if value else ""
                continue
            if isinstance(value, HostAddress):
                text = value.url
            elif isinstance(value, tuple):
                text = ",".join(self.allowed_origins) if spec.attr == "origins" else ",".join(value)
            elif value is None and spec.attr == "api_keys_file":
                text = ""
            elif value == FOREVER:
                text = "forever"
            else:
                text = str(value)
            out[spec.env_names[-1]] = text
        return out


def help_table() -> str:
    """The environment section of `pyollama serve --help`."""
    lines = ["Environment variables (PYOLLAMA_<NAME> overrides OLLAMA_<NAME>):", ""]
    width = max(len(s.name) for s in SETTINGS) + 2
    for spec in SETTINGS:
        lines.append(f"  {spec.name.ljust(width)}{spec.meaning}")
        lines.append(f"  {'':<{width}}(default: {spec.default_text})")
    return "\n".join(lines)
