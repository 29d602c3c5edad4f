"""`alojamientos verify URL`: the post-deploy / post-rollback checklist against a running instance."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx

from alojamientos.ops.checks import Check

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
PRIVATE_PORTS = {"PostgreSQL": 5432, "Redis": 6379}


async def verify(url: str, *, verify_token: str | None = None, insecure: bool = False) -> list[Check]:
    base = url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Check("URL", False, f"{url!r} is not an http(s) URL")]
    checks: list[Check] = []
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, verify=not insecure) as http:
        health = await _health(http, checks)
        if health is None:  # not reachable, or not this application: nothing else is meaningful
            return checks
        await _headers(http, parts.scheme == "https", checks)
        await _metrics(http, checks)
        await _reservations(http, checks)
        if verify_token:
            await _handshake(http, verify_token, checks)
    checks.extend(await _closed_ports(parts.hostname))
    return checks


async def _health(http: httpx.AsyncClient, checks: list[Check]) -> dict[str, Any] | None:
    try:
        response = await http.get("/api/v1/healthz")
    except httpx.HTTPError as exc:
        checks.append(
            Check(
                "healthz answers", False, f"{type(exc).__name__}: {exc}", "is the service running? see logs"
            )
        )
        return None
    try:
        body = response.json()
        status, version, revision = body["status"], body["version"], body["revision"]
        assert isinstance(body["checks"], dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        checks.append(
            Check(
                "healthz is alojamientos",
                False,
                f"HTTP {response.status_code}, not our health document",
                "the URL does not point at this application",
            )
        )
        return None
    ok = response.status_code == 200 and status in ("healthy", "degraded") and bool(version)
    failing = [name for name, c in body["checks"].items() if c.get("status") != "healthy"]
    detail = f"{status}, version {version}, revision {revision}" + (
        f" (not healthy: {', '.join(failing)})" if failing else ""
    )
    checks.append(
        Check("healthz healthy with a version", ok, detail, "run `alojamientos doctor` on the server")
    )
    return body if isinstance(body, dict) else None


async def _headers(http: httpx.AsyncClient, https: bool, checks: list[Check]) -> None:
    response = await http.get("/api/v1/healthz")
    h = response.headers
    frame = h.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN") or "frame-ancestors" in h.get(
        "content-security-policy", ""
    )
    wanted = {
        "X-Content-Type-Options: nosniff": h.get("x-content-type-options", "").lower() == "nosniff",
        "X-Frame-Options or CSP frame-ancestors": frame,
        "Referrer-Policy": bool(h.get("referrer-policy")),
    }
    if https:
        wanted["Strict-Transport-Security"] = "max-age" in h.get("strict-transport-security", "")
    missing = [name for name, ok in wanted.items() if not ok]
    checks.append(
        Check(
            "security headers",
            not missing,
            "missing: " + ", ".join(missing) if missing else ", ".join(wanted),
            "check the proxy and SecurityHeadersMiddleware",
        )
    )


async def _metrics(http: httpx.AsyncClient, checks: list[Check]) -> None:
    try:
        response = await http.get("/metrics")
    except httpx.HTTPError as exc:
        checks.append(Check("/metrics answers", False, str(exc)))
        return
    ok = response.status_code == 200 and "alojamientos_http_requests_total" in response.text
    checks.append(
        Check("/metrics answers", ok, f"HTTP {response.status_code}", "check the app and the proxy rules")
    )


async def _reservations(http: httpx.AsyncClient, checks: list[Check]) -> None:
    """Without credentials the endpoint must refuse cleanly (401/422), never fail (5xx)."""
    response = await http.post("/api/v1/reservations", json={})
    ok = response.status_code in (401, 422)
    checks.append(
        Check(
            "reservation endpoint refuses cleanly",
            ok,
            f"HTTP {response.status_code}",
            "a 5xx here means booking is broken: roll back",
        )
    )


async def _handshake(http: httpx.AsyncClient, token: str, checks: list[Check]) -> None:
    challenge = "verify-1158201444"
    response = await http.get(
        "/api/v1/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": token},
    )
    ok = response.status_code == 200 and response.text == challenge
    checks.append(
        Check(
            "WhatsApp webhook handshake",
            ok,
            f"HTTP {response.status_code}",
            "check WHATSAPP_VERIFY_TOKEN on the server",
        )
    )


async def _closed_ports(host: str) -> list[Check]:
    """Database and Redis must not be reachable from outside (only checked for non-loopback hosts)."""
    try:
        addresses = {info[4][0] for info in await asyncio.get_running_loop().getaddrinfo(host, None)}
    except OSError as exc:
        return [Check("database and Redis ports closed", False, f"cannot resolve {host}: {exc}")]
    if all(ipaddress.ip_address(a).is_loopback for a in addresses):
        return [Check("database and Redis ports closed", True, "skipped: the URL is on loopback")]
    open_ports = [f"{name} ({port})" for name, port in PRIVATE_PORTS.items() if await _reachable(host, port)]
    return [
        Check(
            "database and Redis ports closed",
            not open_ports,
            "open: " + ", ".join(open_ports) if open_ports else "5432 and 6379 not reachable",
            "unpublish them (docker compose `ports:`) or firewall them",
        )
    ]


async def _reachable(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, family=socket.AF_UNSPEC), 3)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True
