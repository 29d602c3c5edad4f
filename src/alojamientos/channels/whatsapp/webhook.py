"""`GET/POST /api/v1/webhooks/whatsapp`: Meta's handshake, then verify, store and answer, acknowledge."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from alojamientos.channels.whatsapp import signature
from alojamientos.channels.whatsapp.payloads import parse_envelope
from alojamientos.channels.whatsapp.service import receive_inbound, record_statuses
from alojamientos.config import Settings
from alojamientos.errors import AppError, NotFound
from alojamientos.kit.inputs import without_nul
from alojamientos.observability.ratelimit import mark_signed

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class Forbidden(AppError):
    code = "forbidden"
    status = 403


class SignatureMissing(AppError):
    code = "signature_missing"
    status = 401


class BadPayload(AppError):
    code = "bad_payload"
    status = 400


@router.get("/whatsapp", response_class=PlainTextResponse)
async def handshake(
    request: Request,
    mode: Annotated[str, Query(alias="hub.mode")] = "",
    challenge: Annotated[str, Query(alias="hub.challenge")] = "",
    verify_token: Annotated[str, Query(alias="hub.verify_token")] = "",
) -> str:
    settings: Settings = request.app.state.settings
    if settings.whatsapp_verify_token is None:
        raise NotFound("the WhatsApp webhook is not configured (WHATSAPP_VERIFY_TOKEN)")
    expected = settings.whatsapp_verify_token.get_secret_value().encode()
    if mode != "subscribe" or not hmac.compare_digest(expected, verify_token.encode()):
        raise Forbidden("wrong verify token")
    return challenge


@router.post("/whatsapp")
async def receive(request: Request) -> dict[str, str]:
    settings: Settings = request.app.state.settings
    if settings.whatsapp_app_secret is None:
        raise NotFound("the WhatsApp webhook is not configured (WHATSAPP_APP_SECRET)")
    body = await request.body()
    header = request.headers.get("x-hub-signature-256")
    if not header:
        raise SignatureMissing("X-Hub-Signature-256 is required")
    if not signature.valid(settings.whatsapp_app_secret.get_secret_value(), body, header):
        raise Forbidden("X-Hub-Signature-256 does not match the body")
    mark_signed(request)  # Meta's own delivery: never counted against the webhook rate limit
    try:
        envelope = without_nul(json.loads(body))  # PostgreSQL cannot store U+0000
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("the body is not JSON") from None
    if not isinstance(envelope, dict):
        raise BadPayload("the body is not a JSON object")

    db = request.app.state.db
    messages, statuses, skipped = parse_envelope(envelope)
    for note in skipped:
        log.info("whatsapp.webhook.skipped", extra={"reason": note})
    await record_statuses(db, statuses)
    for event in messages:
        await receive_inbound(db, settings, event)
    return {"status": "ok"}
