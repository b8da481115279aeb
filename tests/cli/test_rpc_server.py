"""`pyollama rpc-server` and `serve --rpc`: flags, defaults, the loopback warning in --help."""

from __future__ import annotations

import pytest

from pyollama.cli.main import build_parser, serve_settings
from pyollama.cli.rpc_server import default_threads, endpoint_of
from pyollama.config import Settings
from pyollama.errors import PyollamaError


def test_defaults_bind_loopback() -> None:
    args = build_parser(serve_epilog=False).parse_args(["rpc-server"])
    assert (args.host, args.port, args.threads, args.device, args.cache) == (
        "127.0.0.1",
        50052,
        None,
        "",
        False,
    )
    assert endpoint_of(args) == "127.0.0.1:50052"
    assert default_threads() >= 1


def test_flags() -> None:
    args = build_parser(serve_epilog=False).parse_args(
        ["rpc-server", "-H", "10.0.0.2", "-p", "6000", "-t", "3", "-d", "CUDA0,CPU", "-c"]
    )
    assert (args.host, args.port, args.threads, args.device, args.cache) == (
        "10.0.0.2",
        6000,
        3,
        "CUDA0,CPU",
        True,
    )
    for bad in (["-p", "0"], ["-p", "70000"], ["-t", "0"]):
        with pytest.raises(SystemExit):
            build_parser(serve_epilog=False).parse_args(["rpc-server", *bad])


def test_ipv6_host_refused() -> None:
    args = build_parser(serve_epilog=False).parse_args(["rpc-server", "-H", "::1"])
    with pytest.raises(PyollamaError, match="IPv6"):
        endpoint_of(args)


def test_help_warns(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser(serve_epilog=False).parse_args(["rpc-server", "--help"])
    out = capsys.readouterr().out
    assert "NO authentication" in out
    assert "127.0.0.1" in out


def test_serve_rpc_flag_overrides_env() -> None:
    base = Settings.from_env({"OLLAMA_RPC_SERVERS": "a:1"})
    assert serve_settings(base, None).rpc_servers == ("a:1",)
    assert serve_settings(base, "b:2,c:3").rpc_servers == ("b:2", "c:3")
    assert serve_settings(base, "").rpc_servers == ()
    with pytest.raises(PyollamaError, match="--rpc"):
        serve_settings(base, "nope")
    args = build_parser(serve_epilog=False).parse_args(["serve", "--rpc", "h:5"])
    assert args.rpc == "h:5"


def test_non_loopback_warns_and_failure_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = pytest.importorskip("pyollama.engine")
    from pyollama.cli.main import main
    from pyollama.errors import ModelLoadError

    seen: list[tuple[str, int, str, str]] = []

    def fail(endpoint: str, threads: int, devices: str = "", cache_dir: str = "") -> None:
        seen.append((endpoint, threads, devices, cache_dir))
        raise ModelLoadError("could not bind")

    monkeypatch.setattr(engine, "rpc_server_run", fail)
    assert main(["rpc-server", "-H", "0.0.0.0", "-p", "50999", "-t", "2", "-d", "CPU"]) == 1
    err = capsys.readouterr().err
    assert "WARNING" in err and "no authentication" in err
    assert "Error: could not bind" in err
    assert seen == [("0.0.0.0:50999", 2, "CPU", "")]
    assert main(["rpc-server", "-p", "50999"]) == 1
    assert "WARNING" not in capsys.readouterr().err  # loopback: no warning
