from __future__ import annotations

import ipaddress

from pyollama.go.net import is_private, split_host_port


def test_is_private_is_gos_narrow_rule() -> None:
    assert is_private(ipaddress.ip_address("10.1.2.3")) and is_private(ipaddress.ip_address("fd00::1"))
    assert is_private(ipaddress.ip_address("::ffff:192.168.1.1"))
    # Python calls these private; Go (and Ollama's Host guard) does not
    assert not is_private(ipaddress.ip_address("169.254.1.1"))
    assert not is_private(ipaddress.ip_address("192.0.2.1"))


def test_split_host_port() -> None:
    assert split_host_port("h:1") == ("h", "1")
    assert split_host_port("[::1]:80") == ("::1", "80")
    assert split_host_port("::1") is None and split_host_port("h") is None
