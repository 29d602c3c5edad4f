"""Operator alerts: a row the panel shows, and for the urgent kinds an e-mail, decided in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.jobs.queue import enqueue
from alojamientos.notifications.models import OperatorAlert

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
