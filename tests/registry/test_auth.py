"""Ollama's signed token request: key file format, challenge parsing, Go-encoded token URL."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from pyollama.registry import RegistryError
from pyollama.registry.auth import (
    EMPTY_BODY_HASH,
    Challenge,
    load_or_create_key,
    parse_challenge,
    public_key_text,
    token_request_authorization,
    token_url,
)


def test_parse_challenge_keeps_commas_inside_quotes() -> None:
    c = parse_challenge(
        'Bearer realm="https://ollama.com:443/token",service="ollama.com",'
        'scope="repository:library/x:push,pull"'
    )
    assert c == Challenge("https://ollama.com:443/token", "ollama.com", "repository:library/x:push,pull")
    assert parse_challenge("bearer realm=http://h/t,service=s").service == "s"
    with pytest.raises(RegistryError, match="unsupported authentication scheme"):
        parse_challenge('Basic realm="x"')
    with pytest.raises(RegistryError, match="without a realm"):
        parse_challenge('Bearer service="x"')


def test_token_url_is_go_encoded() -> None:
    c = Challenge("https://ollama.com/token?a=1", "ollama.com", "repository:library/x:pull other:y")
    url = token_url(c, now=1700000000, nonce="abc_-")
    assert url == (
        "https://ollama.com/token?a=1&nonce=abc_-&scope=repository%3Alibrary%2Fx%3Apull"
        "&scope=other%3Ay&service=ollama.com&ts=1700000000"
    )
    with pytest.raises(RegistryError, match="invalid auth realm"):
        token_url(Challenge("file:///etc/passwd", "", ""))


def test_key_is_created_once_in_openssh_format(tmp_path: Path) -> None:
    path = tmp_path / "d" / "id_ed25519"
    key = load_or_create_key(path)
    assert path.read_bytes().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_or_create_key(path).private_bytes_raw() == key.private_bytes_raw()
    pub = path.with_name("id_ed25519.pub").read_text()
    assert pub == f"ssh-ed25519 {public_key_text(key)}\n"
    auth = token_request_authorization(key, "https://h/token?x=1")
    pub_b64, sig = auth.split(":")
    verifier = load_ssh_public_key(b"ssh-ed25519 " + pub_b64.encode())
    assert isinstance(verifier, Ed25519PublicKey)
    verifier.verify(base64.b64decode(sig), f"GET,https://h/token?x=1,{EMPTY_BODY_HASH}".encode())
    assert (
        base64.b64decode(EMPTY_BODY_HASH)
        == b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_bad_key_file(tmp_path: Path) -> None:
    path = tmp_path / "id_ed25519"
    path.write_text("not a key")
    with pytest.raises(RegistryError, match="could not read key"):
        load_or_create_key(path)
