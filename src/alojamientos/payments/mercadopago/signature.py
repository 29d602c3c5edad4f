"""Mercado Pago's `x-signature`: `ts=<unix>,v1=<hex>`, HMAC-SHA256 over the manifest
`id:{data.id};request-id:{x-request-id};ts:{ts};`."""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


def manifest(data_id: str | None, request_id: str | None, ts: str | None) -> str:
    """Missing parts are left out, as the official SDK does; the trailing `;` stays."""
    parts = []
    if data_id:
        # Alphanumeric ids are signed lowercased (the docs); payment ids are numeric anyway.
        parts.append(f"id:{data_id.lower()};")
    if request_id:
        parts.append(f"request-id:{request_id};")
    if ts:
        parts.append(f"ts:{ts};")
    return "".join(parts)


def sign(secret: str, data_id: str, request_id: str, ts: str) -> str:
    digest = hmac.new(secret.encode(), manifest(data_id, request_id, ts).encode(), hashlib.sha256).hexdigest()
    return f"ts={ts},v1={digest}"


def verify(
    secret: str, header: str | None, request_id: str | None, data_id: str | None, *, now: float | None = None
) -> str | None:
    """None when valid; otherwise the reason (for the log), never raised to the caller as a 500."""
    if not header:
        return "missing x-signature"
    fields = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    ts, v1 = fields.get("ts"), fields.get("v1")
    if not ts or not v1:
        return "malformed x-signature"
    try:
        age = abs((now or time.time()) - int(ts))
    except ValueError:
        return "malformed ts"
    if age > TOLERANCE_SECONDS:
        return "timestamp out of tolerance"
    expected = hmac.new(
        secret.encode(), manifest(data_id, request_id, ts).encode(), hashlib.sha256
    ).hexdigest()
    return None if hmac.compare_digest(expected, v1.strip().lower()) else "signature mismatch"
