"""A hold made by hand tells the guest what the bot would: deposit, deadline and how to pay (issue 13.4).

Through the API and the real worker, against the fake Graph API, the loopback SMTP server and the
fake Mercado Pago; a payment method that cannot work is refused before anything is held (issue 13.5).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from alojamientos.config import Settings
from alojamientos.conversation.format import pesos
from alojamientos.db import Database
from alojamientos.jobs.worker import Worker
from alojamientos.ops.flags import flags
from alojamientos.pricing.service import pricing
from tests.fakes.graph import FakeGraph
from tests.fakes.mercadopago import FakeMercadoPago
from tests.fixtures.api import operator_client, today_ar, worker_for
from tests.payments.conftest import GUEST_EMAIL, GUEST_PHONE
from tests.whatsapp.conftest import Guest

BANK = "Alias: CABANAS.DEL.LAGO\nTitular: Marta Ruiz"


async def _bank_details(settings: Settings, details: str) -> None:
    database = Database(settings)
    try:
        async with database.session_scope() as session:
            await pricing.update_booking_policy(
                session,
                hold_minutes_mercadopago=60,
                hold_hours_transfer=24,
                cancellation_policy="",
                bank_transfer_details=details,
            )
    finally:
        await database.dispose()


def _body(unit: dict[str, Any], days_ahead: int = 30, **overrides: Any) -> dict[str, Any]:
    start = today_ar() + timedelta(days=days_ahead)
    return {
        "accommodation_id": unit["id"],
        "check_in": start.isoformat(),
        "check_out": (start + timedelta(days=3)).isoformat(),
        "guests": 2,
        "guest_name": "Lucía Gómez",
        "guest_phone": GUEST_PHONE,
        **overrides,
    }


async def test_a_transfer_hold_made_through_the_api_sends_the_payment_message_once(
    api: httpx.AsyncClient, unit: dict[str, Any], pay_worker: Worker, graph: FakeGraph, pay_settings: Settings
) -> None:
    await _bank_details(pay_settings, BANK)
    created = await api.post("/api/v1/reservations", json=_body(unit))
    assert created.status_code == 201, created.text
    held = created.json()
    await pay_worker.run_pending()
    [message] = graph.texts_to(GUEST_PHONE)
    assert message.startswith("¡Hola, Lucía! Te reservamos Cabaña del Bosque del ")
    assert f"Código de reserva: *{held['code']}*" in message
    total, deposit = pesos(Decimal(held["total_amount"])), pesos(Decimal(held["deposit_amount"]))
    assert f"Total: {total}. Para confirmarla necesitamos una seña de {deposit}." in message
    assert "Podés pagar la seña por transferencia: · Alias: CABANAS.DEL.LAGO · Titular: Marta Ruiz" in message
    assert (
        "Te la guardamos hasta el " in message
        and "si para entonces no recibimos la seña, se libera" in message
    )

    assert await pay_worker.run_pending() == 0  # exactly once
    assert len(graph.texts_to(GUEST_PHONE)) == 1


async def test_resend_sends_the_payment_message_a_second_time(
    api: httpx.AsyncClient, unit: dict[str, Any], pay_worker: Worker, graph: FakeGraph, pay_settings: Settings
) -> None:
    await _bank_details(pay_settings, BANK)
    held = (await api.post("/api/v1/reservations", json=_body(unit))).json()
    await pay_worker.run_pending()
    resent = await api.post(f"/api/v1/reservations/{held['code']}/resend-payment-request")
    assert resent.status_code == 200, resent.text
    assert resent.json()["status"] == "pre_reserved"
    await pay_worker.run_pending()
    first, second = graph.texts_to(GUEST_PHONE)
    assert first == second and held["code"] in second
    detail = (await api.get(f"/api/v1/reservations/{held['code']}")).json()
    assert [e["reason"] for e in detail["events"]][-1] == "resend_payment_request"

    # Only a hold waits for a deposit.
    assert (await api.post(f"/api/v1/reservations/{held['code']}/confirm")).status_code == 200
    refused = await api.post(f"/api/v1/reservations/{held['code']}/resend-payment-request")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_held"
    missing = await api.post("/api/v1/reservations/ZZZ999/resend-payment-request")
    assert missing.status_code == 404


async def test_without_bank_details_the_guest_is_told_to_wait(
    api: httpx.AsyncClient, unit: dict[str, Any], pay_worker: Worker, graph: FakeGraph
) -> None:
    held = (await api.post("/api/v1/reservations", json=_body(unit))).json()
    await pay_worker.run_pending()
    [message] = graph.texts_to(GUEST_PHONE)
    assert held["code"] in message
    assert "En un ratito te escribimos con los datos para transferir la seña." in message


async def test_the_guest_with_an_email_address_gets_the_payment_message_by_email_too(
    api: httpx.AsyncClient, unit: dict[str, Any], pay_worker: Worker, smtp: Any, pay_settings: Settings
) -> None:
    """The API always has a phone; a guest with only an address is booked in the panel (tests/admin)."""
    await _bank_details(pay_settings, BANK)
    created = await api.post("/api/v1/reservations", json=_body(unit, guest_email=GUEST_EMAIL))
    assert created.status_code == 201, created.text
    held = created.json()
    await pay_worker.run_pending()
    [mail] = smtp.to(GUEST_EMAIL)
    text = mail.get_body(("plain",)).get_content()
    assert (
        held["code"] in text and pesos(Decimal(held["deposit_amount"])) in text and "CABANAS.DEL.LAGO" in text
    )

    assert (await api.post(f"/api/v1/reservations/{held['code']}/resend-payment-request")).status_code == 200
    await pay_worker.run_pending()
    first, second = smtp.to(GUEST_EMAIL)
    assert first["Subject"] == second["Subject"]
    assert await pay_worker.run_pending() == 0
    assert len(smtp.to(GUEST_EMAIL)) == 2


async def test_a_mercadopago_hold_made_by_hand_says_so_and_then_sends_the_link(
    api: httpx.AsyncClient, unit: dict[str, Any], pay_worker: Worker, graph: FakeGraph, mp: FakeMercadoPago
) -> None:
    held = (await api.post("/api/v1/reservations", json=_body(unit, payment_method="mercadopago"))).json()
    await pay_worker.run_pending()
    summary, link = graph.texts_to(GUEST_PHONE)
    assert "En un momento te mando el link de Mercado Pago para pagar la seña." in summary
    deposit = pesos(Decimal(held["deposit_amount"]))
    assert link.startswith(
        f"Para confirmar tu reserva {held['code']}, pagá la seña de {deposit} con Mercado Pago"
    )
    assert len(mp.preferences) == 1

    # The resend carries the link itself, and makes no new one.
    assert (await api.post(f"/api/v1/reservations/{held['code']}/resend-payment-request")).status_code == 200
    await pay_worker.run_pending()
    resent = graph.texts_to(GUEST_PHONE)[-1]
    assert "Podés pagar la seña con Mercado Pago acá: http" in resent
    assert len(mp.preferences) == 1


async def test_a_hold_made_in_the_chat_is_not_told_twice(
    unit: dict[str, Any], pay_worker: Worker, graph: FakeGraph, pay_settings: Settings
) -> None:
    """The bot already said it in the conversation: the hold's own job adds no second summary."""
    from alojamientos.reservations import holds
    from alojamientos.reservations.models import ReservationSource
    from alojamientos.reservations.types import NewStay

    database = Database(pay_settings)
    start = today_ar() + timedelta(days=30)
    try:
        async with database.session_scope() as session:
            await holds.hold(
                session,
                NewStay(
                    accommodation_id=unit["id"], check_in=start, check_out=start + timedelta(days=2),
                    guests=2, guest_name="Lucía", guest_phone=GUEST_PHONE, source=ReservationSource.whatsapp,
                ),
                actor="guest:whatsapp",
            )  # fmt: skip
    finally:
        await database.dispose()
    await pay_worker.run_pending()
    assert graph.texts_to(GUEST_PHONE) == []


# -- a payment method that cannot work (issue 13.5) -------------------------------------------------


@pytest.fixture
def forget_flags() -> Iterator[None]:
    flags.forget()
    yield
    flags.forget()


@pytest.fixture
async def no_mp_api(pay_settings: Settings, operator: None) -> AsyncIterator[httpx.AsyncClient]:
    """The same app with no Mercado Pago access token."""
    async with operator_client(pay_settings.model_copy(update={"mercadopago_access_token": None})) as client:
        yield client


async def test_mercadopago_without_a_token_is_refused_with_422_and_nothing_is_held(
    no_mp_api: httpx.AsyncClient, unit: dict[str, Any]
) -> None:
    refused = await no_mp_api.post("/api/v1/reservations", json=_body(unit, payment_method="mercadopago"))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "payment_method_unavailable"
    assert "MERCADOPAGO_ACCESS_TOKEN" in error["message"] and error["missing"] == ["MERCADOPAGO_ACCESS_TOKEN"]
    listed = (await no_mp_api.get("/api/v1/reservations")).json()
    assert listed["count"] == 0
    # Transfer still works, and a confirmed stay takes no link at all.
    assert (await no_mp_api.post("/api/v1/reservations", json=_body(unit))).status_code == 201
    confirmed = _body(unit, 60, payment_method="mercadopago", status="confirmed")
    assert (await no_mp_api.post("/api/v1/reservations", json=confirmed)).status_code == 201


async def test_mercadopago_with_its_flag_off_is_refused_with_422(
    api: httpx.AsyncClient, unit: dict[str, Any], forget_flags: None
) -> None:
    assert (await api.put("/api/v1/flags/mercadopago", json={"enabled": False})).status_code == 200
    refused = await api.post("/api/v1/reservations", json=_body(unit, payment_method="mercadopago"))
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "payment_method_unavailable"
    assert "flag" in refused.json()["error"]["message"]
    assert (await api.get("/api/v1/reservations")).json()["count"] == 0


async def test_in_the_chat_mercadopago_without_a_token_is_never_offered(
    no_mp_api: httpx.AsyncClient, unit: dict[str, Any], graph: FakeGraph, pay_settings: Settings
) -> None:
    """The flag is on, but no link could be made: the guest is held for a transfer, never asked."""
    async with worker_for(pay_settings.model_copy(update={"mercadopago_access_token": None})) as worker:
        guest = Guest("+5492944666666", no_mp_api, graph, worker, "Sofía")
        await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
        await guest.tap(*guest.last_choices()[0], kind="list_reply")
        [held] = await guest.say("Sofía Ramírez")
    assert "Código de reserva" in held and "transferir" in held and "Mercado Pago" not in held
