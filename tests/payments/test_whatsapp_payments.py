"""The guest's side on WhatsApp: choosing Mercado Pago, the link, receipts for transfers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import psycopg

from alojamientos.jobs.worker import Worker
from tests.fakes.graph import FakeGraph
from tests.fakes.mercadopago import FakeMercadoPago
from tests.fixtures.database import psycopg_url
from tests.whatsapp.conftest import Guest


def guest_for(api: httpx.AsyncClient, graph: FakeGraph, worker: Worker) -> Guest:
    return Guest("+5492944666666", api, graph, worker, "Sofía")


async def test_guest_choosing_mercadopago_gets_a_checkout_link(
    api: httpx.AsyncClient, unit: dict[str, Any], mp: FakeMercadoPago, graph: FakeGraph, pay_worker: Worker,
    clean_db: str,
) -> None:  # fmt: skip
    guest = guest_for(api, graph, pay_worker)
    await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
    await guest.tap(*guest.last_choices()[0], kind="list_reply")
    [ask] = await guest.say("Sofía Ramírez")
    assert ask.startswith("¿Cómo preferís pagar la seña?")
    assert [t for _, t in guest.last_choices()] == ["Mercado Pago", "Transferencia"]
    held, link_message = await guest.tap("pay:mercadopago", "Mercado Pago")
    assert "En un momento te mando el link de Mercado Pago" in held
    [preference] = mp.preferences
    with psycopg.connect(psycopg_url(clean_db)) as conn:
        code, deposit, expires_at, link = conn.execute(
            "SELECT code, deposit_amount, expires_at, payment_link FROM reservations"
        ).fetchone()  # type: ignore[misc]
    assert preference["external_reference"] == code
    assert preference["items"][0]["unit_price"] == float(deposit)
    assert preference["notification_url"] == "https://reservas.example.com/api/v1/webhooks/mercadopago"
    assert abs(datetime.fromisoformat(preference["expiration_date_to"]) - expires_at) < timedelta(seconds=1)
    # The Mercado Pago hold window (60 minutes by default) is the short one.
    assert link and link in link_message and "pagá la seña de $ " in link_message


async def test_with_mercadopago_off_only_transfer_is_offered(
    api: httpx.AsyncClient, unit: dict[str, Any], graph: FakeGraph, pay_worker: Worker
) -> None:
    assert (await api.put("/api/v1/flags/mercadopago", json={"enabled": False})).status_code == 200
    guest = guest_for(api, graph, pay_worker)
    await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
    await guest.tap(*guest.last_choices()[0], kind="list_reply")
    [held] = await guest.say("Sofía Ramírez")
    assert "Código de reserva" in held and "transferir" in held and "Mercado Pago" not in held


async def test_a_receipt_sent_on_whatsapp_is_attached_to_the_hold(
    api: httpx.AsyncClient, unit: dict[str, Any], graph: FakeGraph, pay_worker: Worker
) -> None:
    await api.put("/api/v1/flags/mercadopago", json={"enabled": False})
    guest = guest_for(api, graph, pay_worker)
    await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
    await guest.tap(*guest.last_choices()[0], kind="list_reply")
    await guest.say("Sofía Ramírez")
    graph.media["MEDIA77"] = (b"%PDF-1.4 comprobante", "application/pdf")
    [thanks] = await guest.send(
        {
            "type": "document",
            "document": {"id": "MEDIA77", "mime_type": "application/pdf", "caption": "comprobante"},
        }
    )
    assert thanks.startswith("¡Gracias! Recibimos el comprobante de la reserva")
    code = thanks.split("reserva ")[1].split(".")[0]
    [attachment] = (await api.get(f"/api/v1/reservations/{code}/attachments")).json()
    assert (attachment["mime_type"], attachment["size"], attachment["caption"]) == (
        "application/pdf",
        20,
        "comprobante",
    )
    download = await api.get(f"/api/v1/attachments/{attachment['id']}")
    assert download.content == b"%PDF-1.4 comprobante"
    assert "receipt_received" in [a["kind"] for a in (await api.get("/api/v1/alerts")).json()]


async def test_guest_email_given_in_chat_gets_the_hold_email(
    api: httpx.AsyncClient, unit: dict[str, Any], graph: FakeGraph, pay_worker: Worker, smtp: Any
) -> None:
    await api.put("/api/v1/flags/mercadopago", json={"enabled": False})
    guest = guest_for(api, graph, pay_worker)
    await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
    await guest.tap(*guest.last_choices()[0], kind="list_reply")
    [held] = await guest.say("Sofía Ramírez")
    assert "pasame tu dirección" in held
    smtp.reset()
    [saved] = await guest.say("sofi.r@example.com")
    assert saved == "¡Anotado! Te mandamos la confirmación a sofi.r@example.com."
    [mail] = smtp.to("sofi.r@example.com")
    assert mail["Subject"]
