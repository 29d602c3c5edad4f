"""Fetching feeds safely: http(s) only, public addresses only (unless allowed), bounded, conditional."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from alojamientos.config import Settings

log = logging.getLogger(__name__)
MAX_REDIRECTS = 3
TIMEOUT = httpx.Timeout(20.0, connect=10.0)


class FetchError(Exception):
    """The feed could not be fetched; the message says why, in words the operator can act on."""


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes | None  # None: not modified since last time (304)
    etag: str | None
    last_modified: str | None


async def check_url(url: str, settings: Settings) -> None:
    """Refuses what a feed URL must never be: another scheme, or an address inside our network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("only http and https URLs can be imported")
    if settings.ical_allow_private_urls:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        log.info("ical.resolve_failed", extra={"host": parts.hostname, "error": str(exc)})
        raise FetchError(f"cannot resolve {parts.hostname}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchError(f"{parts.hostname} resolves to a non-public address ({address}); refused")


async def fetch_feed(
    http: httpx.AsyncClient,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": "alojamientos-ical/1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _ in range(MAX_REDIRECTS + 1):
        await check_url(url, settings)  # every hop: a redirect must not lead inside our network
        try:
            async with http.stream(
                "GET", url, headers=headers, timeout=TIMEOUT, follow_redirects=False
            ) as response:
                if response.is_redirect and response.headers.get("location"):
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code == 304:
                    return Fetched(None, etag, last_modified)
                if response.status_code != 200:
                    raise FetchError(f"the feed answered HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > settings.ical_max_bytes:
                        raise FetchError(f"the feed is larger than {settings.ical_max_bytes} bytes")
                return Fetched(
                    bytes(body), response.headers.get("etag"), response.headers.get("last-modified")
                )
        except httpx.TimeoutException as exc:
            raise FetchError("the feed took too long to answer") from exc
        except httpx.TransportError as exc:
            log.info("ical.connect_failed", extra={"url": url, "error": f"{type(exc).__name__}: {exc}"[:300]})
            raise FetchError("cannot connect to the feed") from exc
    raise FetchError("too many redirects")
