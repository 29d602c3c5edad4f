"""`POST /api/v1/webhooks/mercadopago`: verify `x-signature`, record the notification once, acknowledge."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from sqlalchemy.dialects.postgresql import insert

from alojamientos.config import Settings
from alojamientos.db import SessionDep
from alojamientos.errors import AppError, NotFound
from alojamientos.jobs.queue import enqueue
from alojamientos.payments.mercadopago import signature
from alojamientos.payments.models import ExternalEvent
from alojamientos.payments.tasks import FETCH_PAYMENT

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class InvalidSignature(AppError):
    code = "invalid_signature"
    status = 401


@router.post("/mercadopago")
async def notification(request: Request, session: SessionDep) -> dict[str, str]:
    settings: Settings = request.app.state.settings
    if settings.mercadopago_webhook_secret is None:
        raise NotFound("the Mercado Pago webhook is not configured (MERCADOPAGO_WEBHOOK_SECRET)")
    body = await request.body()
    # data.id is signed as it appears in the query string, not in the body.
    data_id = request.query_params.get("data.id") or request.query_params.get("id")
    request_id = request.headers.get("x-request-id")
    problem = signature.verify(
        settings.mercadopago_webhook_secret.get_secret_value(),
        request.headers.get("x-signature"),
        request_id,
        data_id,
    )
    if problem:
        log.warning("payments.webhook.rejected", extra={"reason": problem})
        raise InvalidSignature(f"invalid x-signature: {problem}")
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        payload = {}
    kind = request.query_params.get("type") or request.query_params.get("topic") or payload.get("type")
    if kind != "payment" or not data_id:
        log.info("payments.webhook.ignored", extra={"type": kind})
        return {"status": "ignored"}
    external_id = f"payment:{data_id}:{payload.get('action') or ''}:{payload.get('id') or request_id}"
    event_id = await session.scalar(
        insert(ExternalEvent)
        .values(
            source="mercadopago",
            external_id=external_id,
            payload=payload if isinstance(payload, dict) else {},
        )
        .on_conflict_do_nothing(constraint="uq_external_events_source_id")
        .returning(ExternalEvent.id)
    )
    if event_id is None:
        log.info("payments.webhook.duplicate", extra={"external_id": external_id})
        return {"status": "duplicate"}
    await enqueue(
        session, FETCH_PAYMENT, {"payment_id": data_id, "event_id": event_id}, dedupe_key=f"mp:{external_id}"
    )
    return {"status": "accepted"}
