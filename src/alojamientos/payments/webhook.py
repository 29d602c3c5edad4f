"""`POST /api/v1/webhooks/mercadopago`: every notification is a hint to fetch a payment or an order.

A notification never changes anything by itself: the worker fetches the resource with our token and
checks reference, amount and currency (payments.service). So the endpoint accepts both of Mercado
Pago's formats (payments/mercadopago/notifications.py), signed or not:

- `x-signature` present and valid: recorded once per notification and fetched (Mercado Pago's own
  redeliveries are duplicates); present and wrong: 401, nothing recorded or fetched.
- unsigned (IPN, or no `MERCADOPAGO_WEBHOOK_SECRET`): anyone can send one, so a hint may not make us
  hammer the API. Hints for one resource are coalesced: while a fetch for it is still queued, another
  hint adds nothing (that fetch runs after it anyway); once one ran, the next hint waits for the next
  window of `MERCADOPAGO_HINT_WINDOW_SECONDS`, so a resource is fetched at most once per window and
  no hint is lost. New fetches from hints are also limited overall to `MERCADOPAGO_HINTS_PER_MINUTE`
  (the Redis limiter of observability.ratelimit): over it, 429 with `Retry-After`, and Mercado Pago
  delivers again later. If Redis cannot be asked, 503: nothing is lost, Mercado Pago retries.

Answers are 200 (Mercado Pago stops retrying only on 200/201): `accepted` (a fetch is queued),
`duplicate` (already recorded or queued), `ignored` (a topic we do not act on).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.config import Settings
from alojamientos.db import SessionDep
from alojamientos.errors import AppError, NotFound
from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import enqueue
from alojamientos.kit.clock import utc_now
from alojamientos.observability.metrics import ERRORS, MERCADOPAGO_NOTIFICATIONS
from alojamientos.observability.ratelimit import mark_signed, over_limit
from alojamientos.payments.mercadopago import signature
from alojamientos.payments.mercadopago.notifications import (
    PAYMENT,
    InvalidNotification,
    Notification,
    parse,
)
from alojamientos.payments.models import ExternalEvent
from alojamientos.payments.tasks import FETCH_MERCHANT_ORDER, FETCH_PAYMENT

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

# Mercado Pago's notifications are well under 1 KiB; anything near this is not one of them.
MAX_BODY_BYTES = 16 * 1024
HINT_BUDGET_KEY = "alojamientos:ratelimit:mercadopago_hints"
# The query parameters that name the resource: a repeated one with different values is ambiguous.
_NAMING = ("data.id", "id", "type", "topic")


class InvalidSignature(AppError):
    code = "invalid_signature"
    status = 401


class PayloadTooLarge(AppError):
    code = "payload_too_large"
    status = 413


class HintsRateLimited(AppError):
    code = "rate_limited"
    status = 429


class HintLimiterUnavailable(AppError):
    code = "rate_limiter_unavailable"
    status = 503


@router.post("/mercadopago")
async def notification(request: Request, session: SessionDep) -> dict[str, str]:
    settings: Settings = request.app.state.settings
    if not settings.configured("mercadopago"):
        # Without the token nothing could be fetched, and a notification is worth nothing unfetched.
        raise NotFound("the Mercado Pago webhook is not configured (MERCADOPAGO_ACCESS_TOKEN)")
    body = await _read_body(request)
    signed = _verify(request, settings)
    if signed:
        mark_signed(request)  # Mercado Pago's own delivery: never counted against the webhook rate limit
    try:
        note = parse(_query(request), body)
    except InvalidNotification as exc:
        MERCADOPAGO_NOTIFICATIONS.labels("invalid").inc()
        log.info("payments.webhook.invalid", extra={"reason": exc.message})
        raise
    if note.topic is None:
        MERCADOPAGO_NOTIFICATIONS.labels("ignored").inc()
        log.info("payments.webhook.ignored", extra={"type": note.raw_topic})
        return {"status": "ignored"}
    if signed:
        return await _record_signed(session, note, request.headers.get("x-request-id"))
    return await _record_hint(request, session, settings, note)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"a Mercado Pago notification is at most {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"a Mercado Pago notification is at most {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _query(request: Request) -> dict[str, str]:
    for name in _NAMING:
        if len(set(request.query_params.getlist(name))) > 1:
            raise InvalidNotification(f"`{name}` is given more than once with different values", field=name)
    return {name: request.query_params[name].strip() for name in _NAMING if name in request.query_params}


def _verify(request: Request, settings: Settings) -> bool:
    """True for a valid `x-signature`, False for none; a wrong one is 401 before anything is read."""
    header = request.headers.get("x-signature")
    if not header:
        return False
    if settings.mercadopago_webhook_secret is None:
        log.warning("payments.webhook.signature_unchecked", extra={"reason": "no MERCADOPAGO_WEBHOOK_SECRET"})
        return False
    # data.id is signed as it appears in the query string, not in the body.
    data_id = request.query_params.get("data.id") or request.query_params.get("id")
    problem = signature.verify(
        settings.mercadopago_webhook_secret.get_secret_value(),
        header,
        request.headers.get("x-request-id"),
        data_id,
    )
    if problem:
        MERCADOPAGO_NOTIFICATIONS.labels("invalid_signature").inc()
        log.warning("payments.webhook.rejected", extra={"reason": problem})
        raise InvalidSignature(f"invalid x-signature: {problem}")
    return True


def _job(note: Notification, event_id: int, *, hint: bool) -> tuple[str, dict[str, Any]]:
    key = "payment_id" if note.topic == PAYMENT else "merchant_order_id"
    payload: dict[str, Any] = {key: note.resource_id, "event_id": event_id}
    if hint:
        payload["hint"] = True
    return (FETCH_PAYMENT if note.topic == PAYMENT else FETCH_MERCHANT_ORDER), payload


async def _record_event(session: AsyncSession, external_id: str, payload: dict[str, Any]) -> int | None:
    event_id: int | None = await session.scalar(
        insert(ExternalEvent)
        .values(source="mercadopago", external_id=external_id[:200], payload=payload)
        .on_conflict_do_nothing(constraint="uq_external_events_source_id")
        .returning(ExternalEvent.id)
    )
    return event_id


async def _record_signed(session: AsyncSession, note: Notification, request_id: str | None) -> dict[str, str]:
    """Once per notification: Mercado Pago's redeliveries carry the same notification id."""
    external_id = f"{note.topic}:{note.resource_id}:{note.action}:{note.notification_id or request_id}"
    event_id = await _record_event(session, external_id, note.body)
    if event_id is None:
        MERCADOPAGO_NOTIFICATIONS.labels("duplicate").inc()
        log.info("payments.webhook.duplicate", extra={"external_id": external_id})
        return {"status": "duplicate"}
    kind, payload = _job(note, event_id, hint=False)
    await enqueue(session, kind, payload, dedupe_key=f"mp:{external_id}"[:200])
    MERCADOPAGO_NOTIFICATIONS.labels("queued").inc()
    return {"status": "accepted"}


async def _record_hint(
    request: Request, session: AsyncSession, settings: Settings, note: Notification
) -> dict[str, str]:
    """At most one fetch per resource per window, and none lost (see the module docstring)."""
    window = settings.mercadopago_hint_window_seconds
    current = int(utc_now().timestamp() // window)
    key = f"mp:hint:{note.topic}:{note.resource_id}"
    # Two hints for one resource at the same moment decide one after the other.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    nearby = [f"{key}:{n}" for n in (current - 1, current, current + 1)]
    found = await session.execute(select(Job.dedupe_key, Job.status).where(Job.dedupe_key.in_(nearby)))
    queued = {dedupe_key: status for dedupe_key, status in found}
    if "pending" in queued.values():
        MERCADOPAGO_NOTIFICATIONS.labels("coalesced").inc()
        log.info("payments.webhook.coalesced", extra={"topic": note.topic, "resource_id": note.resource_id})
        return {"status": "duplicate"}
    # This window's fetch already ran (or is running, maybe fetched before this hint): the next window's.
    target = current if f"{key}:{current}" not in queued else current + 1
    await _spend_hint_budget(request, settings)
    event_id = await _record_event(
        session,
        f"hint:{note.topic}:{note.resource_id}:{target}",
        {"query": _query(request), "body": note.body},
    )
    if event_id is None:  # this window's job is gone (pruned by hand) but its record is not
        MERCADOPAGO_NOTIFICATIONS.labels("coalesced").inc()
        return {"status": "duplicate"}
    kind, payload = _job(note, event_id, hint=True)
    run_at = None if target == current else datetime.fromtimestamp(target * window, UTC)
    await enqueue(session, kind, payload, run_at=run_at, dedupe_key=f"{key}:{target}")
    MERCADOPAGO_NOTIFICATIONS.labels("hint_queued").inc()
    log.info(
        "payments.webhook.hint_queued",
        extra={"topic": note.topic, "resource_id": note.resource_id, "run_at": str(run_at or "now")},
    )
    return {"status": "accepted"}


async def _spend_hint_budget(request: Request, settings: Settings) -> None:
    """One of the minute's `MERCADOPAGO_HINTS_PER_MINUTE` new fetches, counted in Redis."""
    limit = settings.mercadopago_hints_per_minute
    redis = request.app.state.redis
    if limit <= 0 or redis is None:  # no limit asked for, or no Redis configured (development)
        return
    try:
        retry_after = await over_limit(redis, HINT_BUDGET_KEY, limit, 60)
    except Exception as exc:  # refused, timeout, auth: unbounded fetches are worse than a redelivery
        ERRORS.labels("payments.hint_limiter").inc()
        log.warning(
            "payments.webhook.limiter_unavailable", extra={"error": f"{type(exc).__name__}: {exc}"[:300]}
        )
        raise HintLimiterUnavailable(
            "cannot count unsigned notifications right now; deliver again later", retry_after=60
        ) from None
    if retry_after is not None:
        MERCADOPAGO_NOTIFICATIONS.labels("rate_limited").inc()
        log.warning("payments.webhook.rate_limited", extra={"retry_after": retry_after})
        raise HintsRateLimited(
            f"too many unsigned notifications; deliver again in {retry_after} s", retry_after=retry_after
        )
