"""Agreed prices through the API: a total or a discount with its reason, when booking and later; a move
keeps it or re-prices when told; the guest hears the new total; and stay rules that name themselves,
which an operator (never a guest) may book past with a reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from alojamientos.db import Database
from alojamientos.errors import AppError
from alojamientos.pricing.service import NewSeason, pricing
from alojamientos.reservations import holds, units
from alojamientos.reservations.models import ReservationSource
from alojamientos.reservations.types import AgreedPrice, NewStay, UnitFields
from tests.fixtures.api import create_unit, hold
from tests.payments.test_ledger import plain_weekdays

REASON = "Cliente de siempre, arreglado por WhatsApp"


async def _book(client: httpx.AsyncClient, unit_id: int, start: date, **extra: Any) -> httpx.Response:
    return await hold(client, unit_id, start, **extra)


@pytest.mark.parametrize(
    ("agreed", "total", "deposit"),
    [
        ({"discount_percent": "10"}, "90000.00", "27000.00"),
        ({"discount_amount": "15000"}, "85000.00", "25500.00"),
        ({"total": "80000"}, "80000.00", "24000.00"),
        ({"total": "120000"}, "120000.00", "36000.00"),  # above the list, too, when agreed
        ({"discount_percent": "100"}, "0.00", "0.00"),
        ({"discount_percent": "33.33"}, "66670.00", "20001.00"),
    ],
)
async def test_a_booking_takes_an_agreed_total_or_discount_with_its_reason(
    client: httpx.AsyncClient, agreed: dict[str, str], total: str, deposit: str
) -> None:
    unit = await create_unit(client)
    response = await _book(client, unit["id"], plain_weekdays(2), agreed_price={**agreed, "reason": REASON})
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["total_amount"], created["deposit_amount"]) == (total, deposit)
    assert (created["list_amount"], created["price_reason"]) == ("100000.00", REASON)
    assert created["events"][0]["data"]["agreed_price"] == {
        "total": total,
        "list_total": "100000.00",
        "reason": REASON,
    }


@pytest.mark.parametrize(
    ("agreed", "code"),
    [
        ({"discount_percent": "10"}, "validation_error"),  # no reason
        ({"discount_percent": "10", "reason": ""}, "validation_error"),
        ({"discount_percent": "10", "discount_amount": "5", "reason": REASON}, "validation_error"),  # two
        ({"reason": REASON}, "validation_error"),  # none
        ({"discount_percent": "0", "reason": REASON}, "validation_error"),
        ({"discount_percent": "100.01", "reason": REASON}, "validation_error"),
        ({"discount_amount": "100000.01", "reason": REASON}, "invalid_price"),  # more than the list total
        ({"total": "-1", "reason": REASON}, "validation_error"),
        ({"total": "1000000000", "reason": REASON}, "validation_error"),
        ({"total": "10", "reason": "   "}, "invalid_price"),
    ],
)
async def test_a_bad_agreed_price_is_a_clear_422_and_books_nothing(
    client: httpx.AsyncClient, agreed: dict[str, str], code: str
) -> None:
    unit = await create_unit(client)
    response = await _book(client, unit["id"], plain_weekdays(2), agreed_price=agreed)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert (await client.get("/api/v1/reservations")).json()["count"] == 0


async def test_a_move_keeps_the_agreed_price_when_asked_and_reprices_when_not(
    client: httpx.AsyncClient,
) -> None:
    unit = await create_unit(client)
    start = plain_weekdays(3)
    code = (await _book(client, unit["id"], start, agreed_price={"total": "90000", "reason": REASON})).json()[
        "code"
    ]
    move = {
        "accommodation_id": unit["id"],
        "check_in": start.isoformat(),
        "check_out": (start + timedelta(days=3)).isoformat(),
        "guests": 2,
    }
    url = f"/api/v1/reservations/{code}/change"

    asked = await client.post(url, json=move)
    assert asked.status_code == 409
    error = asked.json()["error"]
    assert (error["code"], error["total"], error["reason"], error["choices"]) == (
        "price_choice_required",
        "90000.00",
        REASON,
        ["keep", "reprice"],
    )

    kept = await client.post(url, json={**move, "price": "keep"})
    assert kept.status_code == 200, kept.text
    body = kept.json()
    assert (body["total_amount"], body["deposit_amount"], body["list_amount"], body["price_reason"]) == (
        "90000.00",
        "27000.00",
        "150000.00",  # what the list asks for three nights
        REASON,
    )
    event = body["events"][-1]
    assert (event["reason"], event["data"]["price"], event["data"]["after"]["total"]) == (
        "stay_changed",
        "keep",
        "90000.00",
    )

    repriced = await client.post(
        url, json={**move, "check_out": (start + timedelta(days=2)).isoformat(), "price": "reprice"}
    )
    assert repriced.status_code == 200, repriced.text
    body = repriced.json()
    assert (body["total_amount"], body["deposit_amount"], body["list_amount"], body["price_reason"]) == (
        "100000.00",
        "30000.00",
        None,
        None,
    )
    # Without an agreed price there is nothing to keep; moving again needs no choice.
    no_agreement = await client.post(url, json={**move, "price": "keep"})
    assert (no_agreement.status_code, no_agreement.json()["error"]["code"]) == (422, "invalid_price")
    assert (await client.post(url, json=move)).status_code == 200


async def test_a_price_agreed_later_changes_total_and_deposit_and_is_in_the_history(
    client: httpx.AsyncClient,
) -> None:
    unit = await create_unit(client)
    code = (await _book(client, unit["id"], plain_weekdays(2))).json()["code"]
    url = f"/api/v1/reservations/{code}/price"

    agreed = await client.post(url, json={"agreed_price": {"discount_percent": "20", "reason": REASON}})
    assert agreed.status_code == 200, agreed.text
    body = agreed.json()
    assert (body["total_amount"], body["deposit_amount"], body["list_amount"], body["owed_amount"]) == (
        "80000.00",
        "24000.00",
        "100000.00",
        "80000.00",
    )
    event = body["events"][-1]
    assert (event["reason"], event["data"]["before"]["total"], event["data"]["after"]["total"]) == (
        "stay_changed",
        "100000.00",
        "80000.00",
    )
    same = await client.post(url, json={"agreed_price": {"discount_percent": "20", "reason": REASON}})
    assert (same.status_code, same.json()["error"]["code"]) == (422, "nothing_changed")
    back = await client.post(url, json={"agreed_price": None})
    assert (back.json()["total_amount"], back.json()["price_reason"]) == ("100000.00", None)
    await client.post(f"/api/v1/reservations/{code}/cancel")
    late = await client.post(url, json={"agreed_price": {"total": "1", "reason": REASON}})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "invalid_transition")


async def _min_three_nights(db: Database, start: date) -> None:
    async with db.session_scope() as session:
        await pricing.add_season(
            session,
            NewSeason(
                name="Vacaciones de invierno",
                start=start - timedelta(days=3),
                end=start + timedelta(days=20),
                multiplier=Decimal("1"),
                min_nights=3,
            ),
        )


async def test_a_short_stay_is_refused_by_the_rule_that_refuses_it_and_only_that(
    client: httpx.AsyncClient, db: Database
) -> None:
    made = [await create_unit(client, name=name) for name in ("Bosque", "Lago", "Río")]
    start = plain_weekdays(1)
    await _min_three_nights(db, start)

    quote = await client.post(
        "/api/v1/quotes",
        json={"accommodation_id": made[0]["id"], "check_in": start.isoformat(),
              "check_out": (start + timedelta(days=1)).isoformat(), "guests": 2},
    )  # fmt: skip
    assert quote.status_code == 422
    error = quote.json()["error"]
    assert (error["code"], error["min_nights"], error["nights"], error["season"]) == (
        "minimum_stay",
        3,
        1,
        "Vacaciones de invierno",
    )
    assert "Vacaciones de invierno" in error["message"] and "3 nights" in error["message"]
    refused = await _book(client, made[0]["id"], start, nights=1)
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "minimum_stay")
    # Three nights fit the rule; every unit is free for them.
    three = await client.get(
        "/api/v1/availability",
        params={
            "check_in": start.isoformat(),
            "check_out": (start + timedelta(days=3)).isoformat(),
            "guests": 2,
        },
    )
    assert len(three.json()["available"]) == 3


async def test_an_operator_books_past_a_rule_with_a_reason_in_the_history(
    client: httpx.AsyncClient, db: Database
) -> None:
    unit = await create_unit(client)
    start = plain_weekdays(1)
    await _min_three_nights(db, start)

    booked = await _book(
        client, unit["id"], start, nights=1, override_reason="Viene por un casamiento, una sola noche"
    )
    assert booked.status_code == 201, booked.text
    created = booked.json()
    assert (created["check_out"], created["total_amount"]) == (
        (start + timedelta(days=1)).isoformat(),
        "50000.00",
    )
    override = created["events"][0]["data"]["override"]
    assert override["reason"] == "Viene por un casamiento, una sola noche"
    [rule] = override["rules"]
    assert (rule["code"], rule["min_nights"], rule["nights"], rule["season"]) == (
        "minimum_stay",
        3,
        1,
        "Vacaciones de invierno",
    )
    # A move past the rule needs its own reason, recorded on the move.
    url = f"/api/v1/reservations/{created['code']}/change"
    move = {"accommodation_id": unit["id"], "check_in": (start + timedelta(days=1)).isoformat(),
            "check_out": (start + timedelta(days=2)).isoformat(), "guests": 2}  # fmt: skip
    assert (await client.post(url, json=move)).json()["error"]["code"] == "minimum_stay"
    moved = await client.post(url, json={**move, "override_reason": "Se corrió un día"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["events"][-1]["data"]["override"]["reason"] == "Se corrió un día"
    # No rule broken: a reason given anyway records nothing.
    plain = await _book(
        client, unit["id"], start + timedelta(days=5), nights=3, override_reason="por las dudas"
    )
    assert "override" not in plain.json()["events"][0]["data"]


async def test_guests_and_the_bot_can_never_book_past_a_rule_nor_agree_a_price(db: Database) -> None:
    start = plain_weekdays(1)
    await _min_three_nights(db, start)
    async with db.session_scope() as session:
        unit = await units.create_accommodation(
            session, UnitFields(name="Bosque", capacity=4, base_price=Decimal("50000"))
        )
        stay = NewStay(
            accommodation_id=unit.id,
            check_in=start,
            check_out=start + timedelta(days=1),
            guests=2,
            guest_name="Ana",
            guest_phone="+5491155551234",
            source=ReservationSource.whatsapp,
            override_reason="me lo dijo el bot",
        )
        with pytest.raises(AppError) as refused:
            await holds.hold(session, stay, actor="bot")
        assert refused.value.code == "invalid_override"
        priced = replace(stay, override_reason=None, check_out=start + timedelta(days=3))
        with pytest.raises(AppError) as refused:
            await holds.hold(
                session,
                replace(priced, price=AgreedPrice(reason="regateo", discount_percent=Decimal(50))),
                actor="bot",
            )
        assert refused.value.code == "invalid_override"
        # The same stay within the rules and at the list's price is fine for the bot.
        assert (await holds.hold(session, priced, actor="bot")).total_amount == Decimal("150000.00")
