from __future__ import annotations

import pytest

from pyollama.store.names import InvalidName, ModelName


@pytest.mark.parametrize(
    ("s", "parts"),
    [
        ("llama3.2", ("registry.ollama.ai", "library", "llama3.2", "latest")),
        ("llama3.2:1b", ("registry.ollama.ai", "library", "llama3.2", "1b")),
        ("alice/mine", ("registry.ollama.ai", "alice", "mine", "latest")),
        ("alice/mine:v1.0-q4_K_M", ("registry.ollama.ai", "alice", "mine", "v1.0-q4_K_M")),
        ("hf.co/user/repo:Q4_K_M", ("hf.co", "user", "repo", "Q4_K_M")),
        ("localhost:5000/ns/m:t", ("localhost:5000", "ns", "m", "t")),
        ("https://example.com/ns/m", ("example.com", "ns", "m", "latest")),
        ("_under/_score:_x", ("registry.ollama.ai", "_under", "_score", "_x")),
        ("Mixed/CASE:Tag", ("registry.ollama.ai", "Mixed", "CASE", "Tag")),
        ("m" * 80, ("registry.ollama.ai", "library", "m" * 80, "latest")),
        ("h" * 350 + "/n/m", ("h" * 350, "n", "m", "latest")),
    ],
)
def test_valid(s: str, parts: tuple[str, str, str, str]) -> None:
    n = ModelName.parse(s)
    assert (n.host, n.namespace, n.model, n.tag) == parts


@pytest.mark.parametrize(
    "s",
    [
        "",
        ":",
        "a:",
        ":tag",
        "/m",
        "a/",
        "a//b",
        "ns/",
        "/",
        "//",
        "a/b/c/d",
        "..",
        "../x",
        "x/..",
        "../../etc/passwd",
        "ns/../m",
        "m:..",
        "a..b",
        ".hidden",
        "-dash",
        "/etc/passwd",
        "/abs/path/model",
        "C:\\models\\x",
        "a\\b",
        "m\x00",
        "ns\x00/m",
        "dot.ns/m",
        "m:t/x",
        "sp ace",
        "tab\tm",
        "new\nline",
        "m:t:u",
        "m@sha256-abc",
        "m+build",
        "m" * 81,
        "m:" + "t" * 81,
        "n" * 81 + "/m",
        "h" * 351 + "/n/m",
        "emoji😀",
    ],
)
def test_invalid(s: str) -> None:
    with pytest.raises(InvalidName, match=r"^invalid model name$"):
        ModelName.parse(s)
    assert ModelName.try_parse(s) is None


def test_display_shortest_and_str() -> None:
    assert ModelName.parse("llama3.2").display_shortest() == "llama3.2:latest"
    assert ModelName.parse("REGISTRY.ollama.ai/LIBRARY/x:1").display_shortest() == "x:1"
    assert ModelName.parse("alice/m").display_shortest() == "alice/m:latest"
    assert ModelName.parse("hf.co/u/r:Q4").display_shortest() == "hf.co/u/r:Q4"
    assert ModelName.parse("hf.co/library/r").display_shortest() == "hf.co/library/r:latest"
    assert str(ModelName.parse("m")) == "registry.ollama.ai/library/m:latest"


def test_case_insensitive_match() -> None:
    a, b = ModelName.parse("Alice/Model:V1"), ModelName.parse("alice/model:v1")
    assert a != b and a.equal_fold(b) and a.key() == b.key()


def test_relpath_and_from_relpath() -> None:
    n = ModelName.parse("hf.co/u/r:Q4_K_M")
    assert n.relpath().as_posix() == "hf.co/u/r/Q4_K_M"
    assert ModelName.from_relpath("hf.co/u/r/Q4_K_M") == ModelName("hf.co", "u", "r", "Q4_K_M")
    assert ModelName.from_relpath("a/b/c") is None
    assert ModelName.from_relpath("a/b/c/.tmp") is None
    assert ModelName.from_relpath("a/../c/d") is None


def test_constructed_invalid_name_never_becomes_a_path() -> None:
    with pytest.raises(InvalidName):
        ModelName("registry.ollama.ai", "..", "m", "latest").relpath()
    with pytest.raises(InvalidName):
        ModelName("/etc", "library", "m", "latest").relpath()
