"""The reservation API as an operator's script uses it: units, quotes, holds, confirm, cancel."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.fixtures.api import create_unit, hold, next_weekday, today_ar


async def test_requests_without_a_token_are_401(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/v1/reservations")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_wrong_password_is_refused(anon: httpx.AsyncClient, operator: None) -> None:
    response = await anon.post(
        "/api/v1/auth/token",
        data={"username": "operadora@example.com", "password": "nope-nope-nope"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


async def test_a_forged_token_is_refused(anon: httpx.AsyncClient) -> None:
    anon.headers["Authorization"] = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
    response = await anon.get("/api/v1/accommodations")
    assert response.status_code == 401


async def test_hold_then_confirm_then_cancel_releases_the_dates(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    check_in = next_weekday(0)  # a Monday: two weekday nights
    created = await hold(client, unit["id"], check_in)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pre_reserved"
    assert body["guest_phone"] == "+5491155551234"
    assert body["total_amount"] == "100000.00"
    assert body["deposit_amount"] == "30000.00"
    assert body["expires_at"] is not None
    assert [e["to_status"] for e in body["events"]] == ["pre_reserved"]
    code = body["code"]

    assert (await hold(client, unit["id"], check_in + timedelta(days=1))).status_code == 409

    confirmed = await client.post(f"/api/v1/reservations/{code}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["expires_at"] is None
    again = await client.post(f"/api/v1/reservations/{code}/confirm")
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "invalid_transition",
        "message": f"reservation {code} is confirmed; it cannot become confirmed",
        "status": "confirmed",
    }

    cancelled = await client.post(f"/api/v1/reservations/{code}/cancel", json={"reason": "cambio de planes"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.post(f"/api/v1/reservations/{code}/cancel")).status_code == 409

    detail = (await client.get(f"/api/v1/reservations/{code.lower()}")).json()
    assert [(e["from_status"], e["to_status"]) for e in detail["events"]] == [
        (None, "pre_reserved"),
        ("pre_reserved", "confirmed"),
        ("confirmed", "cancelled"),
    ]
    assert detail["events"][2]["reason"] == "cambio de planes"
    assert detail["events"][1]["actor"] == "operator:operadora@example.com"

    # The cancelled stay no longer occupies the dates.
    assert (await hold(client, unit["id"], check_in)).status_code == 201


async def test_overlap_is_409_naming_the_conflicting_range(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    check_in = today_ar() + timedelta(days=20)
    first = await hold(client, unit["id"], check_in, nights=3)
    assert first.status_code == 201
    clash = await hold(client, unit["id"], check_in + timedelta(days=2), nights=4)
    assert clash.status_code == 409
    error = clash.json()["error"]
    assert error["code"] == "dates_unavailable"
    assert error["conflict"] == {
        "code": first.json()["code"],
        "kind": "stay",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=3)).isoformat(),
    }


async def test_back_to_back_stays_are_accepted(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    first = today_ar() + timedelta(days=10)
    assert (await hold(client, unit["id"], first, nights=3)).status_code == 201
    assert (await hold(client, unit["id"], first + timedelta(days=3), nights=2)).status_code == 201
    assert (await hold(client, unit["id"], first - timedelta(days=2), nights=2)).status_code == 201


async def test_confirmed_at_creation_has_no_expiry(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    created = await hold(client, unit["id"], today_ar() + timedelta(days=5), status="confirmed")
    assert created.status_code == 201
    assert created.json()["status"] == "confirmed"
    assert created.json()["expires_at"] is None


async def test_bad_input_is_4xx_in_the_error_shape(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client, capacity=2)
    soon = today_ar() + timedelta(days=5)
    cases = [
        ({"check_out": soon.isoformat()}, 422, "validation_error"),  # check_out == check_in
        ({"guests": 0}, 422, "validation_error"),
        ({"guests": 3}, 422, "too_many_guests"),
        ({"check_in": (today_ar() - timedelta(days=1)).isoformat()}, 422, "past_dates"),
        ({"accommodation_id": 999_999}, 404, "accommodation_not_found"),
        ({"guest_phone": "12"}, 422, "validation_error"),
        ({"guest_email": "not-an-email"}, 422, "validation_error"),
        ({"status": "completed"}, 422, "validation_error"),
        ({"check_in": "2026-02-30"}, 422, "validation_error"),
    ]
    for override, status, code in cases:
        response = await hold(client, unit["id"], soon, **override)
        assert response.status_code == status, (override, response.text)
        assert response.json()["error"]["code"] == code, (override, response.text)
        assert response.json()["error"]["message"]

    malformed = await client.post(
        "/api/v1/reservations",
        content=b'{"accommodation_id": 1,',
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "malformed_json"
    assert (await client.get("/api/v1/reservations/NOPE99")).status_code == 404
    assert (await client.post("/api/v1/reservations/NOPE99/confirm")).status_code == 404
    assert (await client.get("/api/v1/nowhere")).json()["error"]["code"] == "not_found"
    listed = await client.get("/api/v1/reservations", params={"status": "bogus"})
    assert listed.status_code == 422


async def test_list_filters_by_status_and_date_range(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    base = today_ar() + timedelta(days=30)
    a = (await hold(client, unit["id"], base, nights=2)).json()["code"]
    b = (await hold(client, unit["id"], base + timedelta(days=5), nights=2)).json()["code"]
    await client.post(f"/api/v1/reservations/{b}/confirm")

    def codes(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [r["code"] for r in response.json()["items"]]

    assert codes(await client.get("/api/v1/reservations")) == [a, b]
    assert codes(await client.get("/api/v1/reservations", params={"status": "confirmed"})) == [b]
    window = {
        "from": (base + timedelta(days=1)).isoformat(),
        "to": (base + timedelta(days=2)).isoformat(),
    }
    assert codes(await client.get("/api/v1/reservations", params=window)) == [a]
    after = {"from": (base + timedelta(days=2)).isoformat()}
    assert codes(await client.get("/api/v1/reservations", params=after)) == [b]


async def test_availability_filters_dates_party_and_active_units(client: httpx.AsyncClient) -> None:
    small = await create_unit(client, name="Chica", capacity=2, base_price="40000")
    big = await create_unit(client, name="Grande", capacity=6, base_price="90000")
    await create_unit(client, name="Cerrada", capacity=6, base_price="10000", active=False)
    check_in = next_weekday(0)
    params = {
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=2)).isoformat(),
        "guests": 2,
    }

    def names(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [u["accommodation"]["name"] for u in response.json()["available"]]

    assert names(await client.get("/api/v1/availability", params=params)) == ["Chica", "Grande"]
    assert names(await client.get("/api/v1/availability", params={**params, "guests": 5})) == ["Grande"]
    assert (await hold(client, small["id"], check_in + timedelta(days=1), nights=1)).status_code == 201
    offers = (await client.get("/api/v1/availability", params=params)).json()["available"]
    assert [o["accommodation"]["id"] for o in offers] == [big["id"]]
    assert offers[0]["quote"]["total"] == "180000.00"
    bad = await client.get("/api/v1/availability", params={**params, "check_out": params["check_in"]})
    assert bad.status_code == 422


async def test_quote_breaks_down_nights_with_weekend_and_extra_guests(
    client: httpx.AsyncClient,
) -> None:
    unit = await create_unit(client, capacity=4, base_occupancy=2, base_price="50000")
    # Settings from the database: weekend x1.2 (default); no extra guest fee yet -> Thursday..Sunday.
    thursday = next_weekday(3)
    response = await client.post(
        "/api/v1/quotes",
        json={
            "accommodation_id": unit["id"],
            "check_in": thursday.isoformat(),
            "check_out": (thursday + timedelta(days=3)).isoformat(),
            "guests": 4,
        },
    )
    assert response.status_code == 200, response.text
    quote = response.json()
    nights = [(n["date"], n["weekend"], n["amount"]) for n in quote["nights"]]
    # Unless a holiday falls on Friday (then Thursday is weekend too), Fri and Sat are weekend.
    assert nights[1][1:] == (True, "60000.00")
    assert nights[2][1:] == (True, "60000.00")
    assert quote["total"] == str(sum(float(n[2]) for n in nights).__format__(".2f"))
    assert quote["deposit"] == format(round(float(quote["total"]) * 0.3, 2), ".2f")


async def test_unit_creation_validates(client: httpx.AsyncClient) -> None:
    assert (
        await client.post("/api/v1/accommodations", json={"name": "X", "capacity": 0, "base_price": "1"})
    ).status_code == 422
    assert (
        await client.post("/api/v1/accommodations", json={"name": "X", "capacity": 2, "base_price": "-1"})
    ).status_code == 422
    assert (
        await client.post(
            "/api/v1/accommodations",
            json={"name": "X", "capacity": 2, "base_price": "1", "base_occupancy": 3},
        )
    ).status_code == 422
    await create_unit(client, name="Única")
    dup = await client.post(
        "/api/v1/accommodations", json={"name": "Única", "capacity": 2, "base_price": "1"}
    )
    assert dup.status_code == 409
    listed = (await client.get("/api/v1/accommodations")).json()
    assert [u["name"] for u in listed] == ["Única"]


async def test_a_phone_dictated_the_local_way_is_stored_as_the_guests_whatsapp_number(
    client: httpx.AsyncClient,
) -> None:
    """Without the 9, with a 15, with the trunk 0: the same mobile, in the form WhatsApp uses."""
    unit = await create_unit(client)
    start = next_weekday(0)
    dictated = ["11 5555-1234", "011 15 5555-1234", "+54 11 5555 1234", "+54 9 11 5555-1234"]
    for week, phone in enumerate(dictated):
        created = await hold(client, unit["id"], start + timedelta(weeks=week + 1), guest_phone=phone)
        assert created.status_code == 201, created.text
        assert created.json()["guest_phone"] == "+5491155551234", phone
    abroad = await hold(client, unit["id"], start + timedelta(weeks=9), guest_phone="+34 612 345 678")
    assert abroad.json()["guest_phone"] == "+34612345678"
