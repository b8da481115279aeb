"""Go's `net` and `net/netip` rules that Ollama's host handling depends on."""

from __future__ import annotations

import ipaddress

__all__ = ["is_private", "split_host_port"]

_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def is_private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """`netip.Addr.IsPrivate`: RFC 1918 and RFC 4193 only (Python's `is_private` is much wider:
    link-local, documentation and reserved ranges, which Ollama's Host guard refuses)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in _PRIVATE)


def split_host_port(hostport: str) -> tuple[str, str] | None:
    """`net.SplitHostPort` (None where Go returns an error)."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or not hostport[end + 1 :].startswith(":"):
            return None
        return hostport[1:end], hostport[end + 2 :]
    if hostport.count(":") != 1:
        return None
    host, port = hostport.split(":")
    return host, port
