"""E-mail: every template renders in Argentine Spanish, and queued mail reaches a real SMTP server."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update

from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.jobs.worker import Worker
from alojamientos.kit.clock import utc_now
from alojamientos.notifications.email import (
    EMAIL_SEND,
    GUEST_TEMPLATES,
    OPERATOR_TEMPLATES,
    queue_email,
    render,
)
from alojamientos.notifications.models import OperatorAlert
from alojamientos.ops.flags import flags
from tests.fakes.smtp import OPERATOR, PASSWORD, USER, FakeSMTP
from tests.fixtures.server import free_port

TZ = ZoneInfo("America/Argentina/Buenos_Aires")
ALL_TEMPLATES = GUEST_TEMPLATES + OPERATOR_TEMPLATES
GUEST = "ana@example.com"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# What notifications.context.base_context gives when an alert has no reservation (handoff, stray payment).
NO_RESERVATION = {
    "code": "", "guest_name": "", "guest_email": None, "unit_name": "", "check_in": None, "check_out": None,
    "nights": 0, "guests": 0, "total": Decimal(0), "deposit": Decimal(0), "paid": Decimal(0),
    "due": Decimal(0), "expires_at": None, "check_in_instructions": "", "address": "", "payment_link": None,
}  # fmt: skip


def full_context(**overrides: Any) -> dict[str, Any]:
    """A realistic context with every key of the template contract."""
    context: dict[str, Any] = {
        "complex_name": "Cabañas del Lago",
        "public_base_url": "https://reservas.example.com",
        "code": "K7M2QX",
        "guest_name": "Ana Pérez",
        "guest_phone": "+5492944111111",
        "guest_email": "ana@example.com",
        "unit_name": "Cabaña del Bosque",
        "check_in": date(2027, 3, 12),
        "check_out": date(2027, 3, 15),
        "nights": 3,
        "guests": 4,
        "total": Decimal("150000.00"),
        "deposit": Decimal("45000.00"),
        "paid": Decimal("45000.00"),
        "due": Decimal("105000.00"),
        "expires_at": datetime(2027, 3, 5, 18, 30, tzinfo=TZ),
        "check_in_time": time(14, 0),
        "check_out_time": time(10, 30),
        "check_in_instructions": "La llave está en la caja junto a la puerta.\nEl código te llega ese día.",
        "address": "Av. Bustillo km 12,5, Bariloche",
        "bank_details": "Banco Nación\nCBU 0110012345678901234567\nAlias LAGO.CABANAS.SOL",
        "payment_link": "https://www.mercadopago.com.ar/checkout/v1/redirect?pref_id=123-abc",
        "cancellation_policy": "Si cancelás hasta 15 días antes, te devolvemos la seña.",
        "reason": "Lo pediste por WhatsApp",
        "payment_amount": Decimal("45000"),
        "payment_method": "mercadopago",
        "payment_status": "rejected",
    }
    context.update(overrides)
    return context


def every_part(template: str, **overrides: Any) -> str:
    rendered = render(template, full_context(**overrides))
    return "\n".join((rendered.subject, rendered.text, rendered.html))


def assert_reads_well(text: str) -> None:
    assert "None" not in text
    assert "{{" not in text and "{%" not in text and "}}" not in text
    assert not ISO_DATE.search(text), ISO_DATE.search(text)
    for field_name in ("check_in", "guest_", "payment_", "_amount", "expires_at", "Decimal", "datetime"):
        assert field_name not in text


async def jobs(db: Database) -> list[Job]:
    async with db.session_scope() as session:
        return list(await session.scalars(select(Job).order_by(Job.id)))


async def open_alerts(db: Database) -> list[str]:
    async with db.session_scope() as session:
        return list(
            await session.scalars(select(OperatorAlert.kind).where(OperatorAlert.resolved_at.is_(None)))
        )


async def queue(db: Database, settings: Settings, template: str = "confirmed", **kwargs: Any) -> bool:
    values: dict[str, Any] = {"to": GUEST, "context": full_context(), "dedupe_key": f"test:{template}"}
    values.update(kwargs)
    async with db.session_scope() as session:
        return await queue_email(session, settings, template=template, **values)


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None and body.get_content_type() == f"text/{subtype}"
    content = body.get_content()
    assert isinstance(content, str)
    return content


# --- rendering -----------------------------------------------------------------------------------


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_every_template_renders_a_full_context_in_spanish(template: str) -> None:
    rendered = render(template, full_context())
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and rendered.html.strip()
    assert_reads_well(rendered.subject + rendered.text + rendered.html)
    assert '<html lang="es-AR">' in rendered.html
    assert "Cabañas del Lago" in rendered.html
    for external in ("<img", "<link", "<script", "src=", "url("):
        assert external not in rendered.html


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_html_escapes_what_guests_typed(template: str) -> None:
    name = "<script>alert(1)</script>"
    rendered = render(
        template, full_context(guest_name=name, reason=name, payment_method=name, payment_status=name)
    )
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert name in rendered.text  # plain text is not HTML: shown as typed


@pytest.mark.parametrize("template", GUEST_TEMPLATES)
def test_guest_templates_use_the_bots_dates_and_money(template: str) -> None:
    text = every_part(template)
    assert "viernes 12 de marzo" in text  # check_in
    assert "K7M2QX" in text
    assert "¡Hola, Ana Pérez!" in text


def test_hold_created_says_how_to_pay_and_until_when() -> None:
    text = every_part("hold_created")
    for expected in (
        "Cabaña del Bosque", "viernes 12 de marzo", "lunes 15 de marzo", "4 personas",
        "$ 150.000", "$ 45.000", "pref_id=123-abc", "CBU 0110012345678901234567",
        "hasta el viernes 5 de marzo a las 18:30 h", "comprobante por WhatsApp",
    ):  # fmt: skip
        assert expected in text


def test_hold_created_without_payment_details_promises_them() -> None:
    rendered = render("hold_created", full_context(payment_link=None, bank_details=""))
    assert "te escribimos con los datos" in rendered.text
    assert "te escribimos con los datos" in rendered.html
    assert "Mercado Pago" not in rendered.text


def test_hold_reminder_tells_what_is_still_missing() -> None:
    rendered = render("hold_reminder", full_context(paid=Decimal("10000")))
    assert "viernes 5 de marzo a las 18:30 h" in rendered.subject
    assert "faltan $ 35.000" in rendered.text


def test_confirmed_lists_times_amounts_and_what_to_know() -> None:
    rendered = render("confirmed", full_context())
    text = rendered.text
    for expected in (
        "desde las 14 h", "hasta las 10:30 h", "Total: $ 150.000", "Pagado: $ 45.000",
        "Saldo pendiente: $ 105.000", "Av. Bustillo km 12,5", "La llave está en la caja",
        "Si cancelás hasta 15 días antes",
    ):  # fmt: skip
        assert expected in text
    assert "La llave está en la caja junto a la puerta.<br>" in rendered.html


def test_confirmed_and_fully_paid_says_no_balance_left() -> None:
    rendered = render(
        "confirmed",
        full_context(paid=Decimal("150000"), due=Decimal(0), address="", check_in_instructions="",
                     cancellation_policy=""),
    )  # fmt: skip
    assert "No queda saldo" in rendered.text and "No queda saldo" in rendered.html
    assert "Saldo pendiente" not in rendered.text
    assert "Dirección" not in rendered.text and "Política de cancelación" not in rendered.text


def test_cancelled_gives_the_reason_and_the_policy() -> None:
    text = render("cancelled", full_context()).text
    assert "quedó cancelada" in text and "Motivo: Lo pediste por WhatsApp" in text
    assert "Si cancelás hasta 15 días antes" in text


def test_checkin_instructions_mention_the_balance_only_when_due() -> None:
    assert "saldo de $ 105.000" in render("checkin_instructions", full_context()).text
    assert "saldo" not in render("checkin_instructions", full_context(due=Decimal(0))).text


@pytest.mark.parametrize(
    ("paid", "expected"),
    [("45000", "la reserva quedó confirmada"), ("20000", "Todavía no alcanza la seña: faltan $ 25.000")],
)
def test_op_payment_received_says_whether_it_confirmed(paid: str, expected: str) -> None:
    rendered = render("op_payment_received", full_context(paid=Decimal(paid), payment_method="transfer"))
    assert expected in rendered.text
    assert "Medio: transferencia" in rendered.text
    assert "https://reservas.example.com/admin" in rendered.text
    assert 'href="https://reservas.example.com/admin"' in rendered.html


def test_op_payment_problem_explains_what_to_check() -> None:
    text = render("op_payment_problem", full_context(payment_status="short", paid=Decimal("30000"))).text
    assert "Estado: incompleto" in text and "faltan $ 15.000" in text


@pytest.mark.parametrize("template", ["op_handoff", "op_payment_problem", "op_refund_needed"])
def test_operator_alerts_without_a_reservation_render_gracefully(template: str) -> None:
    context = full_context(**NO_RESERVATION, guest_phone="+5492944222222", payment_status=None,
                           payment_amount=None, reason="Pago 123 sin reserva")  # fmt: skip
    rendered = render(template, context)
    everything = rendered.subject + rendered.text + rendered.html
    assert_reads_well(everything)
    assert "Reserva:" not in rendered.text and "$ 0" not in everything
    assert rendered.text.rstrip().endswith("https://reservas.example.com/admin")


def test_op_handoff_names_the_guest() -> None:
    rendered = render("op_handoff", full_context(**{**NO_RESERVATION, "guest_name": "Juan"}, reason="botón"))
    assert rendered.subject == "Juan quiere hablar con una persona"
    assert "+5492944111111" in rendered.text and "Motivo: botón" in rendered.text


def test_unknown_template_or_incomplete_context_fails_loudly() -> None:
    with pytest.raises(ValueError, match="unknown e-mail template"):
        render("welcome", full_context())
    context = full_context()
    del context["payment_link"]
    with pytest.raises(ValueError, match="payment_link"):
        render("confirmed", context)


# --- queueing and sending ------------------------------------------------------------------------


async def test_queued_email_is_delivered_over_smtp(
    smtp: FakeSMTP, mail_settings: Settings, db: Database, mail_worker: Worker
) -> None:
    before = utc_now().replace(microsecond=0)
    assert await queue(db, mail_settings, "confirmed", dedupe_key="confirmed:K7M2QX") is True
    [job] = await jobs(db)
    assert (job.kind, job.status, job.dedupe_key) == (EMAIL_SEND, "pending", "confirmed:K7M2QX")

    assert await mail_worker.run_pending() == 1
    [job] = await jobs(db)
    assert job.status == "done"
    [delivery] = smtp.messages
    assert delivery.mail_from == "reservas@example.com" and delivery.rcpt_tos == [GUEST]
    message = delivery.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "¡Reserva K7M2QX confirmada! Te esperamos el viernes 12 de marzo"
    assert message["From"] == "Cabañas del Lago <reservas@example.com>"
    assert message["To"] == GUEST
    assert message["Message-ID"] == f"<email-{job.id}@example.com>"
    assert message["Content-Language"] == "es-AR"
    assert before <= parsedate_to_datetime(message["Date"]) <= utc_now()
    assert "Saldo pendiente: $ 105.000" in part(message, "plain")
    assert "<strong>¡Tu reserva está confirmada!</strong>" in part(message, "html")


async def test_operator_templates_go_to_the_operator(
    smtp: FakeSMTP, mail_settings: Settings, db: Database, mail_worker: Worker
) -> None:
    assert await queue(db, mail_settings, "op_new_hold", to=None) is True
    await mail_worker.run_pending()
    [message] = smtp.to(OPERATOR)
    assert message["Subject"].startswith("Nueva reserva K7M2QX")


async def test_the_same_dedupe_key_sends_once(
    smtp: FakeSMTP, mail_settings: Settings, db: Database, mail_worker: Worker
) -> None:
    assert await queue(db, mail_settings, dedupe_key="confirmed:1") is True
    assert await queue(db, mail_settings, dedupe_key="confirmed:1") is True
    await mail_worker.run_pending()
    assert len(await jobs(db)) == 1 and len(smtp.messages) == 1


async def test_a_rolled_back_transaction_queues_nothing(mail_settings: Settings, db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.session_scope() as session:
            await queue_email(session, mail_settings, to=GUEST, template="confirmed", context=full_context(),
                              dedupe_key="confirmed:rollback")  # fmt: skip
            raise RuntimeError("the change failed")
    assert await jobs(db) == []


async def test_email_flag_off_queues_nothing(
    mail_settings: Settings, db: Database, forget_flags: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alojamientos.notifications.email")
    async with db.session_scope() as session:
        await flags.set(session, "email", False, actor="test")
    assert await queue(db, mail_settings) is False
    assert await jobs(db) == []
    assert any(
        r.getMessage() == "email.skipped" and r.__dict__["reason"] == "email flag off" for r in caplog.records
    )


@pytest.mark.parametrize(("template", "operator_email"), [("confirmed", OPERATOR), ("op_handoff", None)])
async def test_no_recipient_queues_nothing(
    smtp: FakeSMTP, clean_db: str, db: Database, template: str, operator_email: str | None
) -> None:
    settings = smtp.settings(operator_email=operator_email)
    assert await queue(db, settings, template, to=None) is False
    assert await queue(db, settings, template, to="  ") is False
    assert await jobs(db) == []


async def test_unknown_template_raises_and_queues_nothing(mail_settings: Settings, db: Database) -> None:
    with pytest.raises(ValueError):
        await queue(db, mail_settings, "newsletter")
    assert await jobs(db) == []


@pytest.mark.parametrize("unset", ["smtp_host", "smtp_from"])
async def test_smtp_not_configured_holds_the_email_until_it_is(
    smtp: FakeSMTP, clean_db: str, db: Database, unset: str
) -> None:
    unconfigured = smtp.settings(**{unset: None})
    await queue(db, unconfigured)
    async with httpx.AsyncClient() as http:
        await Worker(unconfigured, db, http).run_pending()
        [job] = await jobs(db)
        # A setting, not an incident: kept, untried, no dead letter and no alert.
        assert (job.status, job.attempts) == ("held", 0)
        assert "SMTP_HOST" in (job.last_error or "")
        assert await open_alerts(db) == []
        assert smtp.messages == []
        # Still unconfigured: the worker's periodic pass leaves it held.
        await Worker(unconfigured, db, http).run_periodic(utc_now(), force=True)
        assert [j.status for j in await jobs(db)] == ["held"]
        configured = smtp.settings()
        worker = Worker(configured, db, http)
        await worker.run_periodic(utc_now(), force=True)
        await worker.run_pending()
    assert [j.status for j in await jobs(db)] == ["done"]
    assert len(smtp.messages) == 1


async def test_an_email_held_for_over_a_day_stays_held_once_configured(
    smtp: FakeSMTP, clean_db: str, db: Database
) -> None:
    unconfigured = smtp.settings(smtp_host=None)
    await queue(db, unconfigured)
    async with httpx.AsyncClient() as http:
        await Worker(unconfigured, db, http).run_pending()
        async with db.session_scope() as session:
            await session.execute(update(Job).values(created_at=utc_now() - timedelta(days=1, minutes=1)))
        worker = Worker(smtp.settings(), db, http)
        await worker.run_periodic(utc_now(), force=True)
        await worker.run_pending()
    assert [j.status for j in await jobs(db)] == ["held"]
    assert smtp.messages == []


async def test_a_451_is_retried_and_the_same_message_is_delivered_once(
    smtp: FakeSMTP, mail_settings: Settings, db: Database, mail_worker: Worker
) -> None:
    smtp.fail_next(451, text="4.3.0 try again later")
    await queue(db, mail_settings)
    assert await mail_worker.run_pending() == 1
    [job] = await jobs(db)
    assert job.status == "pending" and job.attempts == 1 and "451" in (job.last_error or "")
    assert smtp.messages == []

    assert await mail_worker.run_pending(now=utc_now() + timedelta(hours=1)) == 1
    assert await mail_worker.run_pending(now=utc_now() + timedelta(hours=2)) == 0
    [job] = await jobs(db)
    assert job.status == "done" and job.attempts == 2
    [delivery] = smtp.messages
    [first_attempt] = smtp.rejected
    assert delivery.raw == first_attempt.raw  # byte for byte: same Message-ID, Date and boundary


async def test_a_temporarily_refused_recipient_is_retried(
    smtp: FakeSMTP, mail_settings: Settings, db: Database, mail_worker: Worker
) -> None:
    smtp.fail_next(450, at="RCPT", text="4.2.1 mailbox busy")
    await queue(db, mail_settings)
    await mail_worker.run_pending()
    assert (await jobs(db))[0].status == "pending"
    await mail_worker.run_pending(now=utc_now() + timedelta(hours=1))
    assert (await jobs(db))[0].status == "done" and len(smtp.messages) == 1


async def test_a_refused_recipient_is_dead_lettered(
    smtp: FakeSMTP, mail_settings: Settings, db: Database, mail_worker: Worker
) -> None:
    smtp.fail_next(550, at="RCPT", text="5.1.1 no such user")
    await queue(db, mail_settings)
    await mail_worker.run_pending()
    [job] = await jobs(db)
    assert job.status == "dead" and "550" in (job.last_error or "")
    assert smtp.messages == []


async def test_a_connection_refused_is_retried(smtp: FakeSMTP, clean_db: str, db: Database) -> None:
    nowhere = smtp.settings(smtp_port=free_port())  # nothing listens there
    await queue(db, nowhere)
    async with httpx.AsyncClient() as http:
        await Worker(nowhere, db, http).run_pending()
    [job] = await jobs(db)
    assert job.status == "pending" and job.attempts == 1 and "refused" in (job.last_error or "").lower()


async def test_starttls_required_but_not_offered_is_dead_lettered(
    smtp: FakeSMTP, clean_db: str, db: Database
) -> None:
    """Never falls back to sending in the clear."""
    tls = smtp.settings(smtp_starttls=True)
    await queue(db, tls)
    async with httpx.AsyncClient() as http:
        await Worker(tls, db, http).run_pending()
    [job] = await jobs(db)
    assert job.status == "dead" and "STARTTLS" in (job.last_error or "")
    assert smtp.messages == []


@pytest.mark.parametrize(("password", "status"), [(PASSWORD, "done"), ("wrong", "dead")])
async def test_logs_in_when_a_user_is_set(
    smtp: FakeSMTP, clean_db: str, db: Database, password: str, status: str
) -> None:
    authenticated = smtp.settings(smtp_user=USER, smtp_password=password)
    await queue(db, authenticated)
    async with httpx.AsyncClient() as http:
        await Worker(authenticated, db, http).run_pending()
    [job] = await jobs(db)
    assert job.status == status
    assert smtp.logins == ([USER] if status == "done" else [])
    assert len(smtp.messages) == (1 if status == "done" else 0)
