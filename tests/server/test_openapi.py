"""/openapi.json: built from the msgspec Structs, covering every route; a schemathesis run against
a live daemon with a real model finds no 5xx and no reply outside the document (slow)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pyollama.server.openapi import OPERATIONS, build_spec


async def test_served_and_complete(client: Any) -> None:
    r = await client.get("/openapi.json")
    assert r.status == 200 and r.content_type == "application/json"
    spec = await r.json()
    assert spec["openapi"] == "3.1.0" and spec["info"]["version"] == "0.0.0-test"
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    registered = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter", "")
        path = path.replace("{model:.+}", "{model}")
        if route.method == "HEAD" and ("GET", path) in documented:
            continue  # add_get's implicit HEAD
        registered.add((route.method, path))
    assert registered - documented == set()  # every route is in the document
    assert documented - registered == set()  # and nothing that is not served


def test_schemas_are_the_structs() -> None:
    import msgspec

    from pyollama.server.schemas import ChatRequest

    spec = build_spec("1")
    comps = spec["components"]["schemas"]
    _, direct = msgspec.json.schema_components([ChatRequest], ref_template="#/components/schemas/{name}")
    assert comps["ChatRequest"] == direct["ChatRequest"]
    chat = spec["paths"]["/api/chat"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChatRequest"
    }
    ok = chat["responses"]["200"]["content"]
    assert set(ok) == {"application/json", "application/x-ndjson"}
    assert chat["responses"]["default"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    v1 = spec["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert v1["default"]["content"]["application/json"]["schema"]["$ref"].endswith("/OpenAIError")
    msgs = spec["paths"]["/v1/messages"]["post"]["responses"]
    assert msgs["default"]["content"]["application/json"]["schema"]["$ref"].endswith("/AnthropicError")
    for name in ("TokenizeRequest", "RerankResponse", "V1RerankResponse", "ShowResponse", "Progress"):
        assert name in comps
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)


async def test_replies_decode_as_documented(client: Any) -> None:
    """The Ollama replies decode strictly into the Structs their schemas came from."""
    import msgspec

    from pyollama.server.schemas import ChatResponse, GenerateResponse, ListResponse, ProcessResponse
    from pyollama.server.schemas_extras import TokenizeResponse

    cases: list[tuple[str, str, Any, type]] = [
        ("POST", "/api/generate", {"model": "m1", "prompt": "a b", "stream": False}, GenerateResponse),
        (
            "POST",
            "/api/chat",
            {"model": "m1", "messages": [{"role": "user", "content": "x"}], "stream": False},
            ChatResponse,
        ),
        ("POST", "/api/tokenize", {"model": "m1", "content": "x"}, TokenizeResponse),
        ("GET", "/api/ps", None, ProcessResponse),
        ("GET", "/api/tags", None, ListResponse),
    ]
    for method, path, body, kind in cases:
        r = await client.request(method, path, json=body)
        assert r.status == 200, path
        msgspec.json.decode(await r.read(), type=kind)


CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "status_code_conformance",
)


@pytest.mark.slow
def test_schemathesis_live_daemon(tmp_path: Path, smollm2_path: Path) -> None:
    """Coverage and fuzzing phases, positive and negative data, over every route but the ones that
    reach a registry (pull, push, create from a remote name) or destroy the test model (delete)."""
    pytest.importorskip("schemathesis")
    from tests.server.daemon import ROOT, Daemon, create_from_file, need_engine

    need_engine()
    d = Daemon(tmp_path, tmp_path / "models")
    try:
        create_from_file(d.url, "smol", smollm2_path)
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.server.st_hooks", "PYTHONPATH": str(ROOT)}
        cmd = [
            sys.executable, "-m", "schemathesis.cli", "run", d.url + "/openapi.json",
            "--checks", ",".join(CHECKS),
            "--exclude-path-regex", "^/api/(pull|push|create|delete)$",
            "--phases", "coverage,fuzzing", "--mode", "all", "-n", "12", "--seed", "12",
            "--generation-database", "none", "--request-timeout", "60", "-w", "1", "--no-color",
        ]  # fmt: skip
        run = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    finally:
        d.stop()
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout.split("SUMMARY")[-1]
    # nothing blew up inside the daemon either (aiohttp itself logs the malformed-header probe)
    assert "level=ERROR source=pyollama" not in d.log_text()
