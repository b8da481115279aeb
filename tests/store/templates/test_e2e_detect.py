"""End-to-end: template detection at create through a real daemon (slow).

SmolLM2's GGUF carries a ChatML Jinja template and no TEMPLATE: created from the file it gets the
chatml Go template and its stop list, as Ollama gives it, and prompts render through it. A tiny
converted Llama 3 folder gets llama3-instruct; a converted folder whose template handles tools
keeps the Jinja path.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyollama.store.templates.families import CHATML, LLAMA3
from tests.server.daemon import ROOT, Daemon, create_from_file, need_engine

pytestmark = pytest.mark.slow

LLAMA3_JINJA = (
    "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' "
    "+ m['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
TOOLS_JINJA = (
    "{% if tools %}{{ '<|im_start|>system\\n' + tools | tojson + '<|im_end|>\\n' }}{% endif %}"
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(url + path, data=json.dumps(body).encode())
    with urllib.request.urlopen(req, timeout=300) as resp:
        out: dict[str, Any] = json.load(resp)
        return out


def _cli_create(d: Daemon, name: str, folder: Path) -> str:
    modelfile = folder.parent / f"{name}.Modelfile"
    modelfile.write_text(f"FROM {folder}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYOLLAMA_HOST": d.url.removeprefix("http://")}
    r = subprocess.run(
        [sys.executable, "-m", "pyollama.cli.main", "create", name, "-f", str(modelfile)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout + r.stderr


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    need_engine()
    home = tmp_path_factory.mktemp("detect")
    d = Daemon(home, home / "models")
    try:
        yield d
    finally:
        d.stop()


def test_gguf_without_template_gets_chatml(daemon: Daemon, smollm2_path: Path) -> None:
    import ollama

    create_from_file(daemon.url, "smol-detect", smollm2_path)
    with ollama.Client(host=daemon.url) as client:
        show = client.show("smol-detect")
        assert show.template == CHATML.template
        assert show.parameters is not None
        assert re.search(r'^stop +"<\|im_start\|>"$', show.parameters, re.M)
        assert re.search(r'^stop +"<\|im_end\|>"$', show.parameters, re.M)
        msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
        body = {"model": "smol-detect", "messages": msgs, "_debug_render_only": True}
        out = _post(daemon.url, "/api/chat", body)
        want = (
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        )
        assert out["_debug_info"]["rendered_template"] == want
        r = client.chat(model="smol-detect", messages=msgs[1:], options={"num_predict": 12, "temperature": 0})
        content = r.message.content or ""
        assert r.done and content.strip() and "<|im_end|>" not in content


def test_converted_folder_gets_its_family(daemon: Daemon, tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    from tests.convert.hf_factory import make_hf_model

    out = _cli_create(daemon, "tiny-l3", make_hf_model(tmp_path / "l3", "llama3", chat_template=LLAMA3_JINJA))
    assert "converting model" in out and "using autodetected template llama3-instruct" in out
    show = _post(daemon.url, "/api/show", {"model": "tiny-l3"})
    assert show["template"] == LLAMA3.template
    assert '"<|eot_id|>"' in show["parameters"]
    r = _post(daemon.url, "/api/generate", {"model": "tiny-l3", "prompt": "Hi", "_debug_render_only": True})
    assert r["_debug_info"]["rendered_template"] == (
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    )

    out = _cli_create(daemon, "tiny-tools", make_hf_model(tmp_path / "t", "qwen2", chat_template=TOOLS_JINJA))
    assert "autodetected" not in out
    show = _post(daemon.url, "/api/show", {"model": "tiny-tools"})
    assert "{{- range" not in show.get("template", "") and "parameters" not in show
    assert "tools" in show["capabilities"]
