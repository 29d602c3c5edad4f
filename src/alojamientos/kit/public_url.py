"""Whether a base URL can be reached from the internet: what Airbnb, Booking and Mercado Pago need.

Judged from the URL alone (no DNS lookup, so the answer is instant and the same offline): the
scheme must be https, and the host must not be `localhost`, a name only a local network knows, or
an IP address outside the global unicast range (RFC 6890 special-purpose blocks, as Python's
`ipaddress.is_global` lists them).
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from urllib.parse import urlsplit

# Suffixes that never resolve on the public internet (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal).
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


class NotPublic(StrEnum):
    invalid = "invalid"  # not an absolute http(s) URL
    loopback = "loopback"  # this machine: localhost, 127.0.0.0/8, ::1
    private = "private"  # a local network: 10/8, 192.168/16, fe80::/10, a dotless or .local name…
    http = "http"  # public, but without TLS


def why_not_public(url: str) -> NotPublic | None:
    """None when `url` looks reachable from the internet over https; otherwise the first reason."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("http", "https") or not host:
        return NotPublic.invalid
    if host == "localhost" or host.endswith(".localhost"):
        return NotPublic.loopback
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host or host.endswith(_LOCAL_SUFFIXES):
            return NotPublic.private
    else:
        if address.is_loopback:
            return NotPublic.loopback
        if not address.is_global:
            return NotPublic.private
    return NotPublic.http if parts.scheme == "http" else None
