"""Operator alerts: a row the panel shows, and for the urgent kinds an e-mail, decided in one place."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.errors import NotFound
from alojamientos.jobs.queue import enqueue
from alojamientos.kit.clock import utc_now
from alojamientos.notifications.models import OperatorAlert

log = logging.getLogger(__name__)
ALERT_NOTIFY = "alert.notify"
# Alert kind -> operator e-mail template. Other kinds wait in the panel's "needs attention" list.
EMAILED = {
    "handoff": "op_handoff",
    "payment_problem": "op_payment_problem",
    "refund_needed": "op_refund_needed",
}


async def raise_alert(session: AsyncSession, kind: str, message: str, **data: Any) -> OperatorAlert:
    alert = OperatorAlert(kind=kind, message=message, data=data)
    session.add(alert)
    await session.flush()
    if kind in EMAILED:
        await enqueue(session, ALERT_NOTIFY, {"alert_id": alert.id}, dedupe_key=f"alert:{alert.id}")
    return alert


class AlertNotFound(NotFound):
    code = "alert_not_found"


async def resolve_alert(session: AsyncSession, alert_id: int, *, actor: str) -> OperatorAlert:
    """Takes the alert off the "needs attention" list; resolving twice keeps the first time."""
    alert = await session.get(OperatorAlert, alert_id, with_for_update=True)
    if alert is None:
        raise AlertNotFound(f"there is no alert {alert_id}", alert_id=alert_id)
    if alert.resolved_at is None:
        alert.resolved_at = utc_now()
        log.info("alert.resolved", extra={"alert_id": alert.id, "kind": alert.kind, "actor": actor})
    return alert
