"""From hold to confirmed through the public interfaces, with nothing lost or sent twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg

from alojamientos.db import Database
from alojamientos.jobs.worker import Worker
from alojamientos.kit.clock import utc_now
from alojamientos.reservations import changes
from tests.fakes.graph import FakeGraph
from tests.fakes.mercadopago import FakeMercadoPago, signed_notification
from tests.fixtures.api import today_ar
from tests.fixtures.database import psycopg_url
from tests.payments.conftest import GUEST_EMAIL, GUEST_PHONE


def rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(psycopg_url(url)) as conn:
        return conn.execute(sql, params).fetchall()


async def notify(api: httpx.AsyncClient, payment_id: str, **kwargs: Any) -> httpx.Response:
    path, headers, body = signed_notification(payment_id, **kwargs)
    return await api.post(path, json=body, headers=headers)


def mails(smtp: Any, to: str) -> list[Any]:
    return list(smtp.to(to))


async def test_signed_approved_notification_confirms_once_even_if_redelivered(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, smtp: Any,
    graph: FakeGraph, clean_db: str,
) -> None:  # fmt: skip
    code, deposit = hold["code"], hold["deposit_amount"]
    smtp.reset()
    graph.sent.clear()
    mp.add_payment("9001", code, deposit)
    answers = [(await notify(api, "9001")).json()["status"] for _ in range(3)]
    assert answers == ["accepted", "duplicate", "duplicate"]
    await pay_worker.run_pending()

    detail = (await api.get(f"/api/v1/reservations/{code}")).json()
    assert detail["status"] == "confirmed"
    assert detail["paid_amount"] == deposit
    assert [e["to_status"] for e in detail["events"]] == ["pre_reserved", "confirmed"]
    assert detail["events"][-1]["actor"] == "payment:mercadopago:9001"
    [payment] = (await api.get(f"/api/v1/reservations/{code}/payments")).json()
    assert (payment["provider_id"], payment["status"], payment["amount"]) == ("9001", "approved", deposit)
    assert [h["status"] for h in payment["history"]] == ["approved"]
    [confirmation] = mails(smtp, GUEST_EMAIL)
    assert code in confirmation["Subject"] or "confirmada" in confirmation["Subject"].lower()
    [operator_mail] = mails(smtp, "dueno@example.com")
    assert "pago" in operator_mail["Subject"].lower()
    assert [m for m in graph.texts_to(GUEST_PHONE) if "está confirmada" in m] != []
    assert mp.payment_fetches == 1


async def test_a_wrong_signature_is_refused_and_nothing_is_fetched(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, clean_db: str
) -> None:
    """Present and wrong is 401 in every form, even though an unsigned notification would be a hint."""
    mp.add_payment("9002", hold["code"], hold["deposit_amount"])
    path, headers, body = signed_notification("9002", secret="not-the-secret")
    wrong = await api.post(path, json=body, headers=headers)
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_signature"
    path, headers, body = signed_notification("9002")
    tampered = path.replace("9002", "9003")  # the signed data.id is the query's
    assert (await api.post(tampered, json=body, headers=headers)).status_code == 401
    ipn = "/api/v1/webhooks/mercadopago?topic=payment&id=9002"  # IPN form, signed for another id
    _, headers, _ = signed_notification("9003")
    assert (await api.post(ipn, headers=headers)).status_code == 401
    stale = {**headers, "x-signature": "ts=1000000000," + headers["x-signature"].split(",")[1]}
    assert (await api.post(path, json=body, headers=stale)).status_code == 401
    for garbled in ("v1=abc", "ts=,v1=", "ts=abc,v1=00", "garbage"):
        assert (
            await api.post(path, json=body, headers={**headers, "x-signature": garbled})
        ).status_code == 401
    assert rows(clean_db, "SELECT count(*) FROM external_events") == [(0,)]
    assert rows(clean_db, "SELECT count(*) FROM jobs WHERE starts_with(kind, 'payments.mercadopago')") == [
        (0,)
    ]
    await pay_worker.run_pending()
    assert mp.fetches == []
    assert (await api.get(f"/api/v1/reservations/{hold['code']}")).json()["status"] == "pre_reserved"


async def test_underpayment_keeps_the_hold_and_tells_the_operator(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, smtp: Any
) -> None:
    smtp.reset()
    mp.add_payment("9004", hold["code"], "1000")
    assert (await notify(api, "9004")).status_code == 200
    await pay_worker.run_pending()
    detail = (await api.get(f"/api/v1/reservations/{hold['code']}")).json()
    assert (detail["status"], detail["paid_amount"]) == ("pre_reserved", "1000.00")
    alerts = (await api.get("/api/v1/alerts")).json()
    assert [a["kind"] for a in alerts] == ["payment_problem"]
    assert mails(smtp, "dueno@example.com")
    assert mails(smtp, GUEST_EMAIL) == []


async def test_rejected_payment_is_recorded_and_flagged(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    mp.add_payment("9005", hold["code"], hold["deposit_amount"], status="rejected")
    await notify(api, "9005")
    await pay_worker.run_pending()
    assert (await api.get(f"/api/v1/reservations/{hold['code']}")).json()["status"] == "pre_reserved"
    [payment] = (await api.get(f"/api/v1/reservations/{hold['code']}/payments")).json()
    assert (payment["status"], payment["counted"]) == ("rejected", False)
    # Later approved (a retry of the same payment id): history keeps both, the stay confirms.
    mp.add_payment("9005", hold["code"], hold["deposit_amount"])
    await notify(api, "9005", notification_id=2)
    await pay_worker.run_pending()
    [payment] = (await api.get(f"/api/v1/reservations/{hold['code']}/payments")).json()
    assert [h["status"] for h in payment["history"]] == ["rejected", "approved"]
    assert (await api.get(f"/api/v1/reservations/{hold['code']}")).json()["status"] == "confirmed"


async def test_mercadopago_500_then_200_is_retried_into_one_payment(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, clean_db: str
) -> None:
    mp.add_payment("9006", hold["code"], hold["deposit_amount"])
    mp.fail_next(500)
    await notify(api, "9006")
    await pay_worker.run_pending()
    assert (await api.get(f"/api/v1/reservations/{hold['code']}")).json()["status"] == "pre_reserved"
    await pay_worker.run_pending(now=utc_now() + timedelta(minutes=10))
    assert (await api.get(f"/api/v1/reservations/{hold['code']}")).json()["status"] == "confirmed"
    assert mp.payment_fetches == 2
    assert rows(clean_db, "SELECT count(*) FROM payments") == [(1,)]


async def test_late_payment_confirms_when_the_dates_are_still_free(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, graph: FakeGraph
) -> None:
    await pay_worker.run_periodic(utc_now() + timedelta(hours=25), force=True)  # expiry
    await pay_worker.run_pending()
    assert (await api.get(f"/api/v1/reservations/{hold['code']}")).json()["status"] == "expired"
    assert any("se venció" in m for m in graph.texts_to(GUEST_PHONE))
    mp.add_payment("9007", hold["code"], hold["deposit_amount"])
    await notify(api, "9007")
    await pay_worker.run_pending()
    detail = (await api.get(f"/api/v1/reservations/{hold['code']}")).json()
    assert detail["status"] == "confirmed"
    assert detail["events"][-1]["reason"] == "late payment; the dates were still free"


async def test_late_payment_for_taken_dates_flags_a_refund(
    api: httpx.AsyncClient, hold: dict[str, Any], unit: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker,
    smtp: Any,
) -> None:  # fmt: skip
    await pay_worker.run_periodic(utc_now() + timedelta(hours=25), force=True)
    taken = await api.post("/api/v1/reservations", json={
        "accommodation_id": unit["id"], "check_in": hold["check_in"], "check_out": hold["check_out"], "guests": 2,
        "guest_name": "Otro Huésped", "guest_phone": "+5491155550000", "status": "confirmed",
    })  # fmt: skip
    assert taken.status_code == 201
    await pay_worker.run_pending()
    smtp.reset()
    mp.add_payment("9008", hold["code"], hold["deposit_amount"])
    await notify(api, "9008")
    await pay_worker.run_pending()
    assert (await api.get(f"/api/v1/reservations/{hold['code']}")).json()["status"] == "expired"
    assert "refund_needed" in [a["kind"] for a in (await api.get("/api/v1/alerts")).json()]
    assert mails(smtp, "dueno@example.com")


async def test_operator_records_a_transfer_and_the_stay_confirms_when_covered(
    api: httpx.AsyncClient, hold: dict[str, Any], pay_worker: Worker, smtp: Any
) -> None:
    code, deposit = hold["code"], Decimal(hold["deposit_amount"])
    smtp.reset()
    half = await api.post(
        f"/api/v1/reservations/{code}/payments", json={"amount": str(deposit / 2), "method": "transfer"}
    )
    assert half.status_code == 201
    assert half.json()["reservation"]["status"] == "pre_reserved"
    rest = await api.post(
        f"/api/v1/reservations/{code}/payments", json={"amount": str(deposit / 2), "method": "transfer"}
    )
    assert rest.json()["reservation"]["status"] == "confirmed"
    assert rest.json()["reservation"]["paid_amount"] == str(deposit)
    await pay_worker.run_pending()
    assert len(mails(smtp, GUEST_EMAIL)) == 1
    bad = await api.post(f"/api/v1/reservations/{code}/payments", json={"amount": "-5"})
    assert bad.status_code == 422
    assert (await api.post("/api/v1/reservations/NOPE23/payments", json={"amount": "5"})).status_code == 404


async def test_worker_killed_mid_job_delivers_exactly_once_after_restart(
    api: httpx.AsyncClient, hold: dict[str, Any], pay_settings: Any, pay_worker: Worker, smtp: Any,
    graph: FakeGraph, clean_db: str,
) -> None:  # fmt: skip
    smtp.reset()
    graph.sent.clear()
    assert (await api.post(f"/api/v1/reservations/{hold['code']}/confirm")).status_code == 200
    # A worker takes the notification job and dies before finishing it (kill -9 after the claim).
    claimed = await pay_worker.claim(utc_now())
    assert claimed is not None and claimed.kind == "reservation.notify"
    assert await pay_worker.run_pending() == 0  # still leased: nobody else may run it yet
    later = utc_now() + timedelta(minutes=6)
    assert await pay_worker.reap(later) == 1  # the lease ran out: back to the queue
    await pay_worker.run_pending(now=later)
    await pay_worker.run_pending(now=later)
    assert len(mails(smtp, GUEST_EMAIL)) == 1
    assert len([m for m in graph.texts_to(GUEST_PHONE) if "confirmada" in m]) == 1
    assert rows(clean_db, "SELECT count(*) FROM jobs WHERE status <> 'done'") == [(0,)]


async def test_payment_return_page_shows_the_outcome_without_personal_data(
    api: httpx.AsyncClient, hold: dict[str, Any]
) -> None:
    page = await api.get(
        f"/pago/{hold['code']}", params={"estado": "aprobado"}, headers={"Authorization": ""}
    )
    assert page.status_code == 200
    assert "¡Gracias! Recibimos tu pago." in page.text and hold["code"] in page.text
    assert "Lucía" not in page.text and GUEST_PHONE not in page.text
    assert (await api.get("/pago/ZZZZ99")).status_code == 404


async def test_a_hold_gets_one_reminder_before_it_lapses(
    api: httpx.AsyncClient, hold: dict[str, Any], pay_worker: Worker, smtp: Any, graph: FakeGraph
) -> None:
    smtp.reset()
    graph.sent.clear()
    await pay_worker.run_periodic(utc_now() + timedelta(hours=2), force=True)  # plenty of time left
    await pay_worker.run_pending()
    assert graph.texts_to(GUEST_PHONE) == []
    for _ in range(2):  # 17 h into a 24 h window: under a third left
        await pay_worker.run_periodic(utc_now() + timedelta(hours=17), force=True)
        await pay_worker.run_pending()
    [reminder] = graph.texts_to(GUEST_PHONE)
    assert reminder.startswith(f"Te recuerdo que tu reserva {hold['code']} vence el ")
    assert len(mails(smtp, GUEST_EMAIL)) == 1


async def test_check_in_instructions_then_completion(
    api: httpx.AsyncClient,
    unit: dict[str, Any],
    pay_worker: Worker,
    graph: FakeGraph,
    smtp: Any,
    clean_db: str,
) -> None:
    from tests.fixtures.api import today_ar

    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute(
            "UPDATE accommodations SET check_in_instructions = 'La llave está en la caja junto a la puerta.'"
        )
    tomorrow = today_ar() + timedelta(days=1)
    created = await api.post(
        "/api/v1/reservations",
        json={
            "accommodation_id": unit["id"],
            "check_in": tomorrow.isoformat(),
            "check_out": (tomorrow + timedelta(days=2)).isoformat(),
            "guests": 2,
            "guest_name": "Lucía Gómez",
            "guest_phone": GUEST_PHONE,
            "guest_email": GUEST_EMAIL,
            "status": "confirmed",
        },
    )
    code = created.json()["code"]
    await pay_worker.run_pending()
    graph.sent.clear()
    smtp.reset()
    for _ in range(2):
        await pay_worker.run_periodic(utc_now(), force=True)
        await pay_worker.run_pending()
    [instructions] = graph.texts_to(GUEST_PHONE)
    assert instructions.startswith("¡Ya falta poco!") and "La llave está en la caja" in instructions
    assert len(mails(smtp, GUEST_EMAIL)) == 1
    await pay_worker.run_periodic(utc_now() + timedelta(days=4), force=True)
    assert (await api.get(f"/api/v1/reservations/{code}")).json()["status"] == "completed"


async def test_with_auto_replies_off_the_bot_is_silent_and_the_operator_is_told(
    api: httpx.AsyncClient, unit: dict[str, Any], graph: FakeGraph, pay_worker: Worker
) -> None:
    from tests.whatsapp.conftest import Guest

    assert (await api.put("/api/v1/flags/whatsapp_auto_replies", json={"enabled": False})).status_code == 200
    guest = Guest("+5492944777777", api, graph, pay_worker, "Juan")
    assert await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?") == []
    assert await guest.say("hola?") == []
    alerts = [a for a in (await api.get("/api/v1/alerts")).json() if a["kind"] == "guest_waiting"]
    assert len(alerts) == 1
    thread = (await api.get(f"/api/v1/conversations/{guest.phone}")).json()
    assert [m["direction"] for m in thread["messages"]] == ["in", "in"]


async def test_a_mercadopago_hold_from_the_panel_gets_its_link_and_a_new_one_when_moved(
    api: httpx.AsyncClient, unit: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, smtp: Any,
    graph: FakeGraph, pay_settings: Any,
) -> None:  # fmt: skip
    """Links are asked for by the hold itself, whoever made it; a move that changes the deposit
    replaces the link (the old one would charge the old amount)."""
    start = today_ar() + timedelta(days=40)
    created = await api.post("/api/v1/reservations", json={
        "accommodation_id": unit["id"], "check_in": start.isoformat(),
        "check_out": (start + timedelta(days=2)).isoformat(), "guests": 2, "payment_method": "mercadopago",
        "guest_name": "Lucía Gómez", "guest_phone": GUEST_PHONE, "guest_email": GUEST_EMAIL,
    })  # fmt: skip
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    await pay_worker.run_pending()
    [first] = mp.preferences
    assert first["items"][0]["unit_price"] == float(created.json()["deposit_amount"])
    assert [t for t in graph.texts_to(GUEST_PHONE) if "mercadopago.com.ar" in t] != []
    assert [m for m in mails(smtp, GUEST_EMAIL) if "mercadopago.com.ar" in m.get_body().get_content()] != []

    database = Database(pay_settings)
    try:
        async with database.session_scope() as session:
            await changes.change_stay(
                session, code, accommodation_id=unit["id"], check_in=start,
                check_out=start + timedelta(days=4), guests=2, actor="operator:dueno@example.com",
            )  # fmt: skip
    finally:
        await database.dispose()
    await pay_worker.run_pending()
    detail = (await api.get(f"/api/v1/reservations/{code}")).json()
    [_, second] = mp.preferences
    assert (
        second["items"][0]["unit_price"] == float(detail["deposit_amount"]) > first["items"][0]["unit_price"]
    )
    links = [t for t in graph.texts_to(GUEST_PHONE) if "mercadopago.com.ar" in t]
    assert len(links) == 2 and links[0] != links[1]

    await pay_worker.run_pending()  # nothing left to do: no third link
    assert len(mp.preferences) == 2
