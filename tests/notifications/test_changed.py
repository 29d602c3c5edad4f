"""A changed stay reaches the guest once, by WhatsApp and e-mail, with the new dates and price;
corrected guest details reach nobody. The real worker runs every job against the Graph and SMTP fakes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

import alojamientos.tasks  # noqa: F401 - registers every job handler, as the worker does
from alojamientos.conversation.format import fecha, pesos
from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import enqueue
from alojamientos.jobs.worker import Worker
from alojamientos.notifications.email import render
from alojamientos.payments.service import payments
from alojamientos.reservations import changes, holds, repository, transitions
from alojamientos.reservations.events import NOTIFY
from alojamientos.reservations.models import Accommodation, ReservationStatus
from alojamientos.reservations.types import AgreedPrice, NewStay
from tests.fakes.graph import FakeGraph
from tests.fakes.smtp import FakeSMTP
from tests.fixtures.api import today_ar
from tests.notifications.conftest import ACTOR, GUEST_EMAIL, GUEST_PHONE
from tests.notifications.test_email import assert_reads_well, full_context, part


async def _stay(db: Database, status: ReservationStatus) -> tuple[str, int]:
    async with db.session_scope() as session:
        unit = Accommodation(
            name=f"Cabaña {uuid.uuid4().hex[:6]}", capacity=6, base_occupancy=2, base_price=Decimal("50000")
        )
        session.add(unit)
        await session.flush()
        check_in = today_ar() + timedelta(days=30)
        created = await holds.hold(
            session,
            NewStay(
                accommodation_id=unit.id,
                check_in=check_in,
                check_out=check_in + timedelta(days=2),
                guests=2,
                guest_name="Ana Pérez",
                guest_phone=GUEST_PHONE,
                guest_email=GUEST_EMAIL,
                status=status,
            ),
            actor=ACTOR,
        )
        return created.code, unit.id


async def _change(db: Database, code: str, unit_id: int, check_in: date) -> Decimal:
    async with db.session_scope() as session:
        changed = await changes.change_stay(
            session,
            code,
            accommodation_id=unit_id,
            check_in=check_in,
            check_out=check_in + timedelta(days=3),
            guests=4,
            actor=ACTOR,
        )
        return changed.total_amount


async def test_a_changed_stay_tells_the_guest_once_with_the_new_dates_and_total(
    db: Database, worker: Worker, smtp: FakeSMTP, graph: FakeGraph
) -> None:
    code, unit_id = await _stay(db, ReservationStatus.confirmed)
    async with db.session_scope() as session:
        await payments.record_manual(session, code, amount=Decimal("40000"), method="cash", actor=ACTOR)
    await worker.run_pending()
    emails_before, texts_before = len(smtp.to(GUEST_EMAIL)), len(graph.texts_to(GUEST_PHONE))

    new_check_in = today_ar() + timedelta(days=45)
    total = await _change(db, code, unit_id, new_check_in)
    await worker.run_pending()

    [text] = graph.texts_to(GUEST_PHONE)[texts_before:]
    [email] = smtp.to(GUEST_EMAIL)[emails_before:]
    new_dates = (fecha(new_check_in), fecha(new_check_in + timedelta(days=3)))
    for body in (text, email["Subject"], part(email, "plain"), part(email, "html")):
        assert new_dates[0] in body, body
    for body in (text, part(email, "plain"), part(email, "html")):
        assert new_dates[1] in body and pesos(total) in body and "4 personas" in body, body
        assert pesos(total - Decimal("40000")) in body, body  # what is still due
    assert text.startswith(f"Listo, cambiamos tu reserva {code}")
    assert email["Subject"].strip().startswith(f"Cambiamos tu reserva {code}")

    # At most once: the event's job is done, and queueing it again sends nothing more.
    async with db.session_scope() as session:
        job = await session.scalar(select(Job).where(Job.kind == NOTIFY).order_by(Job.id.desc()).limit(1))
        assert job is not None and job.status == "done"
        assert await enqueue(session, NOTIFY, job.payload, dedupe_key=job.dedupe_key) is None
    assert await worker.run_pending() == 0
    assert len(graph.texts_to(GUEST_PHONE)) == texts_before + 1
    assert len(smtp.to(GUEST_EMAIL)) == emails_before + 1


async def test_a_changed_hold_says_what_confirms_it_and_until_when(
    db: Database, worker: Worker, smtp: FakeSMTP, graph: FakeGraph
) -> None:
    code, unit_id = await _stay(db, ReservationStatus.pre_reserved)
    await worker.run_pending()
    texts_before = len(graph.texts_to(GUEST_PHONE))
    await _change(db, code, unit_id, today_ar() + timedelta(days=40))
    await worker.run_pending()
    async with db.session_scope() as session:
        stay = await repository.get(session, code)
    [text] = graph.texts_to(GUEST_PHONE)[texts_before:]
    assert f"Para confirmarla falta la seña de {pesos(stay.deposit_amount)}" in text
    assert "te la guardamos hasta el" in text
    [email] = [m for m in smtp.to(GUEST_EMAIL) if m["Subject"].strip().startswith("Cambiamos")]
    assert f"Seña para confirmarla: {pesos(stay.deposit_amount)}" in part(email, "plain")


async def test_corrected_guest_details_send_nothing(
    db: Database, worker: Worker, smtp: FakeSMTP, graph: FakeGraph
) -> None:
    code, _unit_id = await _stay(db, ReservationStatus.confirmed)
    await worker.run_pending()
    emails_before, texts_before = len(smtp.messages), len(graph.sent)
    async with db.session_scope() as session:
        await changes.update_guest(
            session,
            code,
            name="Ana María Pérez",
            phone=GUEST_PHONE,
            email="ana.maria@example.com",
            actor=ACTOR,
        )
    assert await worker.run_pending() == 0
    assert (len(smtp.messages), len(graph.sent)) == (emails_before, texts_before)


@pytest.mark.parametrize("paid", ["0", "45000", "150000"])
def test_the_changed_email_reads_well_whatever_was_paid(paid: str) -> None:
    due = Decimal(150000) - Decimal(paid)
    confirmed = render("changed", full_context(expires_at=None, paid=Decimal(paid), due=due))
    assert_reads_well(confirmed.subject + confirmed.text + confirmed.html)
    assert "Total: $ 150.000" in confirmed.text
    assert ("No queda saldo" in confirmed.text) == (due == 0)
    assert (f"Saldo pendiente: {pesos(due)}" in confirmed.text) == (due > 0)
    held = render("changed", full_context(paid=Decimal(0)))
    assert "Seña para confirmarla: $ 45.000" in held.text
    assert "CBU 0110012345678901234567" in held.text


async def test_a_change_overtaken_by_a_cancellation_is_not_announced(
    db: Database, worker: Worker, smtp: FakeSMTP, graph: FakeGraph
) -> None:
    code, unit_id = await _stay(db, ReservationStatus.confirmed)
    await worker.run_pending()
    texts_before = len(graph.texts_to(GUEST_PHONE))
    await _change(db, code, unit_id, today_ar() + timedelta(days=45))
    async with db.session_scope() as session:
        await transitions.cancel(session, code, actor=ACTOR, reason="Cambió de planes")
    await worker.run_pending()
    [text] = graph.texts_to(GUEST_PHONE)[texts_before:]
    assert text.startswith(f"Tu reserva {code} fue cancelada")
    assert not [m for m in smtp.to(GUEST_EMAIL) if m["Subject"].strip().startswith("Cambiamos")]


async def test_a_price_agreed_later_tells_the_guest_the_new_total(
    db: Database, worker: Worker, smtp: FakeSMTP, graph: FakeGraph
) -> None:
    code, _unit_id = await _stay(db, ReservationStatus.confirmed)
    await worker.run_pending()
    emails_before, texts_before = len(smtp.to(GUEST_EMAIL)), len(graph.texts_to(GUEST_PHONE))
    async with db.session_scope() as session:
        priced = await changes.set_price(
            session,
            code,
            AgreedPrice(reason="Descuento por repetir", discount_percent=Decimal(10)),
            actor=ACTOR,
        )
        total, list_total = priced.total_amount, priced.list_amount
    await worker.run_pending()

    [text] = graph.texts_to(GUEST_PHONE)[texts_before:]
    [email] = smtp.to(GUEST_EMAIL)[emails_before:]
    assert list_total is not None and total == (list_total * Decimal("0.9")).quantize(Decimal("0.01"))
    for body in (text, part(email, "plain"), part(email, "html")):
        assert pesos(total) in body, body
