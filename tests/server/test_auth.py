"""Opt-in API keys: Bearer or x-api-key on every route but GET / (and the static /ui page)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pyollama.config import Settings
from pyollama.server.auth import KeyFileError, KeyRing, configured_keys, read_key_file
from tests.server.conftest import ClientMaker

KEY = "sk-test-0123456789abcdef"
KEY2 = "sk-second-key-zz9"


async def test_no_keys_no_auth(client: Any) -> None:
    assert (await client.get("/api/tags")).status == 200


async def test_routes_need_a_key(make_client: ClientMaker) -> None:
    client = await make_client(settings=Settings(api_keys=(KEY, "other")))
    for method, path in [
        ("GET", "/api/tags"),
        ("POST", "/api/chat"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/api/version"),
        ("POST", "/api/blobs/sha256:00"),
    ]:
        r = await client.request(method, path)
        assert r.status == 401, path
        assert await r.json() == {"error": "unauthorized"}
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = await client.get("/api/tags", headers={"Authorization": "Bearer wrong"})
    assert r.status == 401
    r = await client.get("/api/tags", headers={"Authorization": f"Basic {KEY}"})
    assert r.status == 401
    assert (await client.get("/api/tags", headers={"Authorization": f"Bearer {KEY}"})).status == 200
    assert (await client.get("/api/tags", headers={"authorization": "bearer other"})).status == 200
    assert (await client.get("/api/tags", headers={"x-api-key": KEY})).status == 200
    # GET / and HEAD / stay open (health checks)
    r = await client.get("/")
    assert r.status == 200 and await r.text() == "Ollama is running"
    assert (await client.head("/")).status == 200


async def test_keys_file(make_client: ClientMaker, tmp_path: Path) -> None:
    f = tmp_path / "keys"
    f.write_text("# team keys\nfile-key-1\n\n  file-key-2  \n")
    assert read_key_file(f) == ("file-key-1", "file-key-2")
    settings = Settings(api_keys=("env-key",), api_keys_file=f)
    assert configured_keys(settings) == ("env-key", "file-key-1", "file-key-2")
    client = await make_client(settings=settings)
    for key in ("env-key", "file-key-2"):
        assert (await client.get("/api/tags", headers={"x-api-key": key})).status == 200
    with pytest.raises(KeyFileError, match="missing"):
        configured_keys(Settings(api_keys_file=tmp_path / "missing"))


def test_keyring() -> None:
    ring = KeyRing(["a", "bb"])
    assert ring and ring.check("a") and ring.check("bb")
    assert not ring.check("") and not ring.check("b") and not ring.check("a ")
    assert not KeyRing([])


def test_settings_never_print_keys() -> None:
    s = Settings.from_env({"OLLAMA_API_KEYS": f" {KEY} , k2,", "OLLAMA_API_KEYS_FILE": "/etc/keys"})
    assert s.api_keys == (KEY, "k2")
    shown = s.as_map()
    assert KEY not in str(shown) and shown["OLLAMA_API_KEYS"] == "(2 keys)"
    assert shown["OLLAMA_API_KEYS_FILE"] == "/etc/keys"


def test_cli_sends_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyollama.cli.client import Client, api_key_from_env

    assert api_key_from_env({"OLLAMA_API_KEY": "'abc'"}) == "abc"
    assert api_key_from_env({"OLLAMA_API_KEY": "a", "PYOLLAMA_API_KEY": "p"}) == "p"
    assert api_key_from_env({}) == ""
    monkeypatch.setenv("OLLAMA_API_KEY", KEY)
    assert Client._headers()["Authorization"] == f"Bearer {KEY}"
    monkeypatch.delenv("OLLAMA_API_KEY")
    monkeypatch.delenv("PYOLLAMA_API_KEY", raising=False)
    assert "Authorization" not in Client._headers()


@pytest.mark.slow
def test_real_daemon_with_keys(tmp_path: Path, smollm2_path: Path) -> None:
    import anthropic
    import httpx
    import ollama
    import openai

    from tests.server.daemon import ROOT, Daemon, need_engine

    need_engine()
    d = Daemon(tmp_path, tmp_path / "models", env={"OLLAMA_API_KEYS": f"{KEY},{KEY2}", "OLLAMA_DEBUG": "1"})
    try:
        with ollama.Client(host=d.url, headers={"Authorization": f"Bearer {KEY}"}) as authed:
            digest = authed.create_blob(smollm2_path)
            authed.create(model="smol", files={smollm2_path.name: digest})
            with pytest.raises(ollama.ResponseError) as err, ollama.Client(host=d.url) as anon:
                anon.list()
            assert err.value.status_code == 401 and "unauthorized" in str(err.value)
            opts = {"num_predict": 3, "temperature": 0}
            r = authed.chat(model="smol", messages=[{"role": "user", "content": "Hi"}], options=opts)
            assert r.message.content
            with openai.OpenAI(base_url=d.url + "/v1", api_key=KEY) as oa:
                assert (
                    oa.chat.completions.create(
                        model="smol", messages=[{"role": "user", "content": "Hi"}], max_tokens=3
                    )
                    .choices[0]
                    .message.content
                )
                with (
                    pytest.raises(openai.AuthenticationError),
                    openai.OpenAI(base_url=d.url + "/v1", api_key="nope") as bad_key,
                ):
                    bad_key.models.list()
                with anthropic.Anthropic(base_url=d.url, api_key=KEY2) as an:
                    msg = an.messages.create(
                        model="smol", max_tokens=3, messages=[{"role": "user", "content": "Hi"}]
                    )
                    assert msg.content[0].text  # type: ignore[union-attr]
                    assert httpx.get(d.url + "/").text == "Ollama is running"
                    # the CLI sends OLLAMA_API_KEY
                    env = {
                        "PYTHONPATH": str(ROOT),
                        "OLLAMA_HOST": d.url,
                        "HOME": str(tmp_path),
                        "PATH": "/usr/bin:/bin",
                    }
                    cli = [sys.executable, "-m", "pyollama.cli.main", "list"]
                    ok = subprocess.run(
                        cli, env={**env, "OLLAMA_API_KEY": KEY}, capture_output=True, text=True, timeout=60
                    )
                    assert ok.returncode == 0 and "smol:latest" in ok.stdout
                    bad = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
                    assert bad.returncode != 0 and "unauthorized" in bad.stderr
    finally:
        d.stop()
    log = d.log_text()
    assert "POST /api/chat" in log  # the access log is there...
    assert KEY not in log and KEY2 not in log  # ...and never shows a key
