"""Resending a confirmation: a new, deliberate send (WhatsApp and e-mail) that leaves the original's
at-most-once delivery alone. The real worker runs every job against the local Graph and SMTP fakes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

import alojamientos.tasks  # noqa: F401 - registers every job handler, as the worker does
from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import enqueue
from alojamientos.jobs.worker import Worker
from alojamientos.notifications.service import (
    RESEND_CONFIRMATION,
    NoGuestContact,
    NotConfirmed,
    resend_confirmation,
)
from alojamientos.reservations import holds
from alojamientos.reservations.events import NOTIFY
from alojamientos.reservations.models import (
    Accommodation,
    ReservationEvent,
    ReservationSource,
    ReservationStatus,
)
from alojamientos.reservations.types import NewStay
from tests.fakes.graph import FakeGraph
from tests.fakes.smtp import FakeSMTP
from tests.fixtures.api import today_ar
from tests.notifications.conftest import ACTOR, GUEST_EMAIL, GUEST_PHONE


async def _stay(
    db: Database,
    *,
    status: ReservationStatus = ReservationStatus.confirmed,
    email: str | None = GUEST_EMAIL,
    phone: str | None = GUEST_PHONE,
    source: ReservationSource = ReservationSource.admin,
) -> str:
    async with db.session_scope() as session:
        unit = Accommodation(
            name=f"Cabaña {uuid.uuid4().hex[:6]}", capacity=4, base_occupancy=2, base_price=Decimal("50000")
        )
        session.add(unit)
        await session.flush()
        check_in = today_ar() + timedelta(days=30)
        stay = NewStay(
            accommodation_id=unit.id,
            check_in=check_in,
            check_out=check_in + timedelta(days=2),
            guests=2,
            guest_name="Ana Pérez",
            guest_phone=phone,
            guest_email=email,
            source=source,
            status=status,
        )
        created = await holds.hold(session, stay, actor=ACTOR)
        return created.code


async def _notify_jobs(db: Database) -> list[Job]:
    async with db.session_scope() as session:
        return list(await session.scalars(select(Job).where(Job.kind == NOTIFY).order_by(Job.id)))


async def test_a_resend_sends_the_confirmation_again_and_only_once(
    db: Database, worker: Worker, smtp: FakeSMTP, graph: FakeGraph, settings: Settings
) -> None:
    code = await _stay(db)
    await worker.run_pending()
    assert len(smtp.to(GUEST_EMAIL)) == 1
    assert len(graph.texts_to(GUEST_PHONE)) == 1
    first_message = graph.texts_to(GUEST_PHONE)[0]
    assert code in first_message

    async with db.session_scope() as session:
        await resend_confirmation(session, code, actor=ACTOR)
    [original, resent] = await _notify_jobs(db)
    assert resent.status == "pending" and resent.payload["event_id"] != original.payload["event_id"]
    await worker.run_pending()

    # Exactly one more of each, with the same content as the first confirmation.
    emails = smtp.to(GUEST_EMAIL)
    assert len(emails) == 2
    assert emails[0]["Subject"] == emails[1]["Subject"]
    assert emails[1]["Subject"].startswith(f"¡Reserva {code} confirmada!")
    assert graph.texts_to(GUEST_PHONE) == [first_message, first_message]
    async with db.session_scope() as session:
        event = await session.get_one(ReservationEvent, int(resent.payload["event_id"]))
        assert (event.from_status, event.to_status, event.reason, event.actor) == (
            "confirmed",
            "confirmed",
            RESEND_CONFIRMATION,
            ACTOR,
        )

    # The original confirmation stays at most once: its job is done, and queueing it again (as a
    # duplicate event notification would) is refused by its dedupe key, so nothing more goes out.
    async with db.session_scope() as session:
        assert (await session.get_one(Job, original.id)).status == "done"
        again = await enqueue(session, NOTIFY, original.payload, dedupe_key=original.dedupe_key)
        assert again is None
    assert await worker.run_pending() == 0
    assert len(smtp.to(GUEST_EMAIL)) == 2
    assert len(graph.texts_to(GUEST_PHONE)) == 2


async def test_only_a_confirmed_stay_with_a_way_to_reach_the_guest_is_resent(db: Database) -> None:
    hold = await _stay(db, status=ReservationStatus.pre_reserved)
    async with db.session_scope() as session:
        with pytest.raises(NotConfirmed):
            await resend_confirmation(session, hold, actor=ACTOR)
    unreachable = await _stay(db, email=None, source=ReservationSource.airbnb)
    async with db.session_scope() as session:
        with pytest.raises(NoGuestContact):
            await resend_confirmation(session, unreachable, actor=ACTOR)
    async with db.session_scope() as session:
        events = await session.scalars(
            select(ReservationEvent).where(ReservationEvent.reason == RESEND_CONFIRMATION)
        )
        assert list(events) == []
