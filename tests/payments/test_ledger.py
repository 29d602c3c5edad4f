"""The money ledger through the API: an overpayment needs confirming, entries are voided, corrected or
refunded by reversing entries (nothing deleted), and the stay's paid/owed figures and status follow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from alojamientos.db import Database
from alojamientos.ops.doctor import QUERIES
from alojamientos.pricing.rules import is_weekend_night, stay_nights
from alojamientos.pricing.service import argentine_holidays
from tests.fixtures.api import create_unit, hold, next_weekday

# A 50.000-a-night unit, two weekday nights, 30 % deposit: total 100.000, deposit 30.000.
TOTAL, DEPOSIT = "100000.00", "30000.00"
OPERATOR = "operator:operadora@example.com"


def plain_weekdays(nights: int, *, after_days: int = 14) -> date:
    """A Monday whose next `nights` nights are all plain weekday nights (no holiday eve)."""
    start = next_weekday(0, after_days=after_days)
    while any(
        is_weekend_night(n, argentine_holidays()) for n in stay_nights(start, start + timedelta(nights))
    ):
        start += timedelta(days=7)
    return start


async def _stay(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    unit = await create_unit(client, base_price="50000")
    response = await hold(client, unit["id"], plain_weekdays(2), **overrides)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert (created["total_amount"], created["deposit_amount"]) == (TOTAL, DEPOSIT)
    return created


async def _pay(client: httpx.AsyncClient, code: str, amount: str, **extra: Any) -> httpx.Response:
    return await client.post(f"/api/v1/reservations/{code}/payments", json={"amount": amount, **extra})


async def _detail(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    result: dict[str, Any] = (await client.get(f"/api/v1/reservations/{code}")).json()
    return result


async def _ledger(client: httpx.AsyncClient, code: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = (await client.get(f"/api/v1/reservations/{code}/payments")).json()
    return result


def _figures(reservation: dict[str, Any]) -> tuple[str, str, str, str]:
    r = reservation
    return (r["status"], r["paid_amount"], r["owed_amount"], r["overpaid_amount"])


async def test_an_overpayment_is_refused_until_confirmed_and_shows_what_to_give_back(
    client: httpx.AsyncClient,
) -> None:
    code = (await _stay(client))["code"]

    refused = await _pay(client, code, "999999999")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert (error["code"], error["owed"], error["amount"], error["excess"]) == (
        "overpayment_unconfirmed",
        "100000.00",
        "999999999.00",
        "999899999.00",
    )
    assert await _ledger(client, code) == []
    assert _figures(await _detail(client, code)) == ("pre_reserved", "0.00", TOTAL, "0.00")

    accepted = await _pay(client, code, "120000", method="cash", confirm_overpayment=True)
    assert accepted.status_code == 201, accepted.text
    assert _figures(accepted.json()["reservation"]) == ("confirmed", "120000.00", "0.00", "20000.00")
    event = (await _detail(client, code))["events"][-1]
    assert (event["to_status"], event["data"]["paid"], event["data"]["overpaid"]) == (
        "confirmed",
        "120000.00",
        "20000.00",
    )


async def test_exactly_what_is_owed_needs_no_confirmation_and_one_centavo_more_does(
    client: httpx.AsyncClient,
) -> None:
    code = (await _stay(client))["code"]
    assert (await _pay(client, code, "40000")).status_code == 201
    over = await _pay(client, code, "60000.01")
    assert (over.status_code, over.json()["error"]["excess"]) == (409, "0.01")
    exact = await _pay(client, code, "60000")
    assert exact.status_code == 201
    assert _figures(exact.json()["reservation"]) == ("confirmed", TOTAL, "0.00", "0.00")
    # Nothing is owed any more: any further amount is an overpayment.
    assert (await _pay(client, code, "1")).json()["error"]["code"] == "overpayment_unconfirmed"


async def test_amounts_are_bounded_even_when_confirmed(client: httpx.AsyncClient) -> None:
    code = (await _stay(client))["code"]
    for amount in ("1000000000", "0", "-5", "1.001", "NaN", "Infinity"):
        response = await _pay(client, code, amount, confirm_overpayment=True)
        assert response.status_code == 422, (amount, response.text)
        assert "error" in response.json()
    assert await _ledger(client, code) == []


async def test_a_void_restores_what_is_owed_and_is_a_reversing_entry_in_the_history(
    client: httpx.AsyncClient,
) -> None:
    code = (await _stay(client))["code"]
    paid = (await _pay(client, code, "10000")).json()
    payment_id = paid["payment"]["id"]
    assert _figures(paid["reservation"]) == ("pre_reserved", "10000.00", "90000.00", "0.00")

    voided = await client.post(
        f"/api/v1/reservations/{code}/payments/{payment_id}/void",
        json={"reason": "La transferencia fue rechazada por el banco"},
    )
    assert voided.status_code == 201, voided.text
    reversal = voided.json()["payment"]
    assert _figures(voided.json()["reservation"]) == ("pre_reserved", "0.00", TOTAL, "0.00")
    assert (reversal["kind"], reversal["reverses_id"], reversal["amount"]) == (
        "reversal",
        payment_id,
        "10000.00",
    )

    # Nothing deleted: the entry is still there, marked by the reversal that voided it.
    original, reversed_entry = await _ledger(client, code)
    assert (original["id"], original["kind"], original["amount"], original["voided_by"]) == (
        payment_id,
        "payment",
        "10000.00",
        reversal["id"],
    )
    assert (reversed_entry["reason"], reversed_entry["recorded_by"]) == (
        "La transferencia fue rechazada por el banco",
        OPERATOR,
    )
    event = (await _detail(client, code))["events"][-1]
    assert (event["from_status"], event["to_status"], event["reason"], event["actor"]) == (
        "pre_reserved",
        "pre_reserved",
        "payment_voided",
        OPERATOR,
    )
    assert event["data"] == {
        "payment_id": payment_id,
        "reversal_id": reversal["id"],
        "entry_kind": "payment",
        "amount": "10000.00",
        "method": "transfer",
        "void_reason": "La transferencia fue rechazada por el banco",
        "paid": "0.00",
    }


async def test_a_void_is_refused_twice_without_a_reason_or_for_another_stays_entry(
    client: httpx.AsyncClient,
) -> None:
    code = (await _stay(client))["code"]
    payment_id = (await _pay(client, code, "10000")).json()["payment"]["id"]
    url = f"/api/v1/reservations/{code}/payments/{payment_id}/void"

    for body in ({"reason": ""}, {"reason": "   "}, {}):
        response = await client.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
    reversal_id = (await client.post(url, json={"reason": "Cargado dos veces"})).json()["payment"]["id"]
    again = await client.post(url, json={"reason": "Otra vez"})
    assert (again.status_code, again.json()["error"]["code"]) == (422, "payment_not_reversible")
    of_reversal = await client.post(
        f"/api/v1/reservations/{code}/payments/{reversal_id}/void", json={"reason": "x"}
    )
    assert of_reversal.json()["error"]["code"] == "payment_not_reversible"
    other = (await hold(client, (await create_unit(client, name="Otra"))["id"], plain_weekdays(2))).json()
    foreign = await client.post(
        f"/api/v1/reservations/{other['code']}/payments/{payment_id}/void", json={"reason": "x"}
    )
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "payment_not_found")
    assert _figures(await _detail(client, code)) == ("pre_reserved", "0.00", TOTAL, "0.00")


async def test_voiding_the_deposit_of_a_confirmed_stay_asks_and_only_then_holds_it_again(
    client: httpx.AsyncClient,
) -> None:
    code = (await _stay(client))["code"]
    payment_id = (await _pay(client, code, DEPOSIT)).json()["payment"]["id"]
    assert (await _detail(client, code))["status"] == "confirmed"
    url = f"/api/v1/reservations/{code}/payments/{payment_id}/void"

    asked = await client.post(url, json={"reason": "El cheque rebotó"})
    assert asked.status_code == 409
    error = asked.json()["error"]
    assert (error["code"], error["paid"], error["deposit"], error["choices"]) == (
        "deposit_uncovered",
        "0.00",
        DEPOSIT,
        ["keep_confirmed", "back_to_hold"],
    )
    assert _figures(await _detail(client, code)) == ("confirmed", DEPOSIT, "70000.00", "0.00")

    before = datetime.now(UTC)
    voided = await client.post(url, json={"reason": "El cheque rebotó", "if_uncovered": "back_to_hold"})
    assert voided.status_code == 201, voided.text
    detail = await _detail(client, code)
    assert _figures(detail) == ("pre_reserved", "0.00", TOTAL, "0.00")
    # A fresh transfer window from now (24 hours by default), so the reminder and expiry follow.
    expires_at = datetime.fromisoformat(detail["expires_at"])
    assert before + timedelta(hours=24) <= expires_at <= datetime.now(UTC) + timedelta(hours=24)
    *_, void_event, reopened = detail["events"]
    assert void_event["reason"] == "payment_voided"
    assert (reopened["from_status"], reopened["to_status"], reopened["reason"]) == (
        "confirmed",
        "pre_reserved",
        "El cheque rebotó",
    )


async def test_a_confirmed_stay_can_stay_confirmed_when_its_deposit_is_voided(
    client: httpx.AsyncClient,
) -> None:
    code = (await _stay(client))["code"]
    payment_id = (await _pay(client, code, "50000")).json()["payment"]["id"]
    voided = await client.post(
        f"/api/v1/reservations/{code}/payments/{payment_id}/void",
        json={"reason": "Lo paga en efectivo al llegar", "if_uncovered": "keep_confirmed"},
    )
    assert voided.status_code == 201, voided.text
    detail = await _detail(client, code)
    assert _figures(detail) == ("confirmed", "0.00", TOTAL, "0.00")
    assert detail["expires_at"] is None


async def test_a_stay_confirmed_without_a_deposit_is_not_asked_about_it(client: httpx.AsyncClient) -> None:
    code = (await _stay(client, status="confirmed"))["code"]
    payment_id = (await _pay(client, code, "10000")).json()["payment"]["id"]
    voided = await client.post(
        f"/api/v1/reservations/{code}/payments/{payment_id}/void", json={"reason": "Error de carga"}
    )
    assert voided.status_code == 201, voided.text
    assert _figures(voided.json()["reservation"]) == ("confirmed", "0.00", TOTAL, "0.00")


async def test_a_refund_gives_back_the_overpayment_and_can_itself_be_voided(
    client: httpx.AsyncClient,
) -> None:
    code = (await _stay(client))["code"]
    await _pay(client, code, "120000", confirm_overpayment=True)
    url = f"/api/v1/reservations/{code}/refunds"

    too_much = await client.post(url, json={"amount": "120000.01", "reason": "Devolución"})
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (422, "refund_too_large")
    assert (await client.post(url, json={"amount": "20000"})).status_code == 422  # a reason is required
    refunded = await client.post(url, json={"amount": "20000", "method": "transfer", "reason": "Pagó de más"})
    assert refunded.status_code == 201, refunded.text
    refund = refunded.json()["payment"]
    assert (refund["kind"], refund["amount"], refund["reason"]) == ("refund", "20000.00", "Pagó de más")
    assert _figures(refunded.json()["reservation"]) == ("confirmed", TOTAL, "0.00", "0.00")
    event = (await _detail(client, code))["events"][-1]
    assert (event["reason"], event["data"]["amount"], event["data"]["paid"]) == ("refund", "20000.00", TOTAL)

    voided = await client.post(
        f"/api/v1/reservations/{code}/payments/{refund['id']}/void",
        json={"reason": "No se llegó a transferir"},
    )
    assert voided.status_code == 201, voided.text
    assert _figures(voided.json()["reservation"]) == ("confirmed", "120000.00", "0.00", "20000.00")


async def test_a_cancelled_stays_deposit_is_refunded_and_a_void_never_leaves_less_than_nothing(
    client: httpx.AsyncClient,
) -> None:
    code = (await _stay(client))["code"]
    payment_id = (await _pay(client, code, DEPOSIT)).json()["payment"]["id"]
    assert (
        await client.post(f"/api/v1/reservations/{code}/cancel", json={"reason": "No viene"})
    ).status_code == 200
    # No new payments on a cancelled stay, but money can go back.
    assert (await _pay(client, code, "1000")).status_code == 409
    refunded = await client.post(
        f"/api/v1/reservations/{code}/refunds",
        json={"amount": DEPOSIT, "reason": "Cancelación con devolución"},
    )
    assert refunded.status_code == 201, refunded.text
    assert _figures(refunded.json()["reservation"]) == ("cancelled", "0.00", TOTAL, "0.00")
    below_zero = await client.post(
        f"/api/v1/reservations/{code}/payments/{payment_id}/void", json={"reason": "x"}
    )
    assert (below_zero.status_code, below_zero.json()["error"]["code"]) == (422, "refund_too_large")


async def test_a_mistyped_amount_is_corrected_as_a_reversal_and_a_new_entry(
    client: httpx.AsyncClient, db: Database
) -> None:
    code = (await _stay(client))["code"]
    typo = (await _pay(client, code, "300000", confirm_overpayment=True)).json()["payment"]["id"]
    url = f"/api/v1/reservations/{code}/payments/{typo}/correct"

    corrected = await client.post(url, json={"amount": "30000", "reason": "Era 30.000, no 300.000"})
    assert corrected.status_code == 201, corrected.text
    replacement = corrected.json()["payment"]
    assert _figures(corrected.json()["reservation"]) == ("confirmed", DEPOSIT, "70000.00", "0.00")
    ledger = await _ledger(client, code)
    assert [(e["kind"], e["amount"], e["voided_by"]) for e in ledger] == [
        ("payment", "300000.00", ledger[1]["id"]),
        ("reversal", "300000.00", None),
        ("payment", "30000.00", None),
    ]
    assert ledger[2]["id"] == replacement["id"]
    event = (await _detail(client, code))["events"][-1]
    assert (event["reason"], event["data"]["amount_before"], event["data"]["amount"]) == (
        "payment_corrected",
        "300000.00",
        "30000.00",
    )
    # Corrected up past what is owed: confirmed like a new payment, or refused.
    again = await client.post(
        f"/api/v1/reservations/{code}/payments/{replacement['id']}/correct",
        json={"amount": "100000.01", "reason": "x"},
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "overpayment_unconfirmed")
    # Refund and void on top: the stay's paid figure is still what the ledger adds up to (doctor's check).
    refund = await client.post(
        f"/api/v1/reservations/{code}/refunds",
        json={"amount": "5000", "reason": "Ajuste", "if_uncovered": "keep_confirmed"},
    )
    assert _figures(refund.json()["reservation"]) == ("confirmed", "25000.00", "75000.00", "0.00")
    undone = await client.post(
        f"/api/v1/reservations/{code}/payments/{refund.json()['payment']['id']}/void",
        json={"reason": "No era"},
    )
    assert _figures(undone.json()["reservation"]) == ("confirmed", DEPOSIT, "70000.00", "0.00")
    async with db.session_scope() as session:
        sql, _fix = QUERIES["paid figures match the payments ledger"]
        assert await session.scalar(text(sql)) == 0
