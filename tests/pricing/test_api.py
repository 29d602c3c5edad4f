"""Seasons, pricing rules and the booking policy over the JSON API, as an operator's script uses them,
and the long-weekend minimum and yearly seasons reaching quotes, availability and holds."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from alojamientos.kit import calendar_ar
from tests.fixtures.api import create_unit, hold, today_ar

RULES = {
    "deposit_percent": "30",
    "weekend_multiplier": "1",
    "default_min_nights": 1,
    "extra_guest_fee": "0",
}
SUMMER = {
    "name": "Verano",
    "yearly": True,
    "first_night": "12-15",
    "last_night": "02-29",
    "price_per_night": "90000",
}


async def put_rules(client: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    return await client.put("/api/v1/settings/pricing", json={**RULES, **changes})


def next_long_weekend() -> calendar_ar.Window:
    window = calendar_ar.next_long_weekend(today_ar() + timedelta(days=2))
    assert window is not None
    return window


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    return body


async def test_a_yearly_season_is_created_listed_changed_and_deleted(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/seasons", json=SUMMER)
    assert created.status_code == 201, created.text
    season = created.json()
    assert season | {"id": 0} == {
        "id": 0,
        "name": "Verano",
        "accommodation_id": None,
        "yearly": True,
        "start_date": None,
        "end_date": None,
        "first_night": "12-15",
        "last_night": "02-29",
        "price_per_night": "90000.00",
        "multiplier": None,
        "min_nights": None,
    }
    listed = await client.get("/api/v1/seasons")
    assert [s["id"] for s in listed.json()] == [season["id"]]
    assert (await client.get(f"/api/v1/seasons/{season['id']}")).json() == season

    changed = await client.put(
        f"/api/v1/seasons/{season['id']}",
        json={**SUMMER, "price_per_night": None, "multiplier": "1.5", "min_nights": 3},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["multiplier"], changed.json()["min_nights"]) == ("1.500", 3)

    deleted = await client.delete(f"/api/v1/seasons/{season['id']}")
    assert deleted.status_code == 204
    assert error(await client.get(f"/api/v1/seasons/{season['id']}"), 404)["code"] == "season_not_found"
    assert error(await client.delete(f"/api/v1/seasons/{season['id']}"), 404)["code"] == "season_not_found"
    assert (await client.get("/api/v1/seasons")).json() == []


async def test_a_dated_season_can_become_yearly(client: httpx.AsyncClient) -> None:
    dated = {"name": "Vacaciones", "start_date": "2027-07-10", "end_date": "2027-07-25", "multiplier": "1.3"}
    season = (await client.post("/api/v1/seasons", json=dated)).json()
    assert (season["yearly"], season["start_date"], season["end_date"]) == (False, "2027-07-10", "2027-07-25")
    yearly = {**dated, "start_date": None, "end_date": None, "yearly": True}
    yearly |= {"first_night": "07-10", "last_night": "07-24"}
    changed = (await client.put(f"/api/v1/seasons/{season['id']}", json=yearly)).json()
    assert (changed["yearly"], changed["start_date"], changed["first_night"]) == (True, None, "07-10")


async def test_a_yearly_season_prices_every_year_through_the_end_of_february(
    client: httpx.AsyncClient,
) -> None:
    assert (await put_rules(client)).status_code == 200
    unit = await create_unit(client)
    assert (await client.post("/api/v1/seasons", json=SUMMER)).status_code == 201
    for year in (today_ar().year + 1, today_ar().year + 2):  # one of the next few years is leap, or not
        march = date(year, 3, 1)
        body = {"accommodation_id": unit["id"], "check_in": f"{year}-02-26", "check_out": f"{year}-03-03"}
        response = await client.post("/api/v1/quotes", json={**body, "guests": 2})
        assert response.status_code == 200, response.text
        february = calendar.monthrange(year, 2)[1]
        prices = {n["date"]: n["amount"] for n in response.json()["nights"]}
        assert [prices[f"{year}-02-{d:02d}"] for d in range(26, february + 1)] == ["90000.00"] * (
            february - 25
        )
        assert prices[march.isoformat()] == "50000.00"
    year = today_ar().year + 1  # within the booking horizon (two years by default)
    crossing = await client.post(
        "/api/v1/quotes",
        json={
            "accommodation_id": unit["id"],
            "check_in": f"{year}-12-14",
            "check_out": f"{year + 1}-01-02",
            "guests": 2,
        },
    )
    assert crossing.status_code == 200, crossing.text
    amounts = [n["amount"] for n in crossing.json()["nights"]]
    assert amounts == ["50000.00"] + ["90000.00"] * 18


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"name": "Al revés", "start_date": "2027-03-10", "end_date": "2027-03-01", "multiplier": "1.2"},
            422,
            "invalid_season",
            "end_date",
        ),
        (
            {"name": "Vacía", "start_date": "2027-03-10", "end_date": "2027-03-10", "multiplier": "1.2"},
            422,
            "invalid_season",
            "end_date",
        ),
        (
            {
                "name": "Negativa",
                "start_date": "2027-03-01",
                "end_date": "2027-03-10",
                "price_per_night": "-1",
            },
            422,
            "invalid_season",
            "price_per_night",
        ),
        (
            {"name": "Cero", "start_date": "2027-03-01", "end_date": "2027-03-10", "multiplier": "0"},
            422,
            "invalid_season",
            "multiplier",
        ),
        (
            {
                "name": "Ambas",
                "start_date": "2027-03-01",
                "end_date": "2027-03-10",
                "multiplier": "1.2",
                "price_per_night": "1",
            },
            422,
            "invalid_season",
            "price_per_night",
        ),
        (
            {"name": "Ninguna", "start_date": "2027-03-01", "end_date": "2027-03-10"},
            422,
            "invalid_season",
            "price_per_night",
        ),
        ({"name": "Sin fechas", "multiplier": "1.2"}, 422, "invalid_season", "start_date"),
        ({**SUMMER, "first_night": "04-31"}, 422, "invalid_season", "first"),
        ({**SUMMER, "last_night": "13-01"}, 422, "invalid_season", "last"),
        (
            {**SUMMER, "start_date": "2027-01-01", "end_date": "2027-02-01"},
            422,
            "invalid_season",
            "start_date",
        ),
        ({**SUMMER, "min_nights": 0}, 422, "invalid_season", "min_nights"),
        ({**SUMMER, "accommodation_id": 999999}, 422, "invalid_season", "accommodation_id"),
        ({**SUMMER, "first_night": None}, 422, "validation_error", None),
        ({**SUMMER, "first_night": "15/12"}, 422, "validation_error", None),
        ({**SUMMER, "name": ""}, 422, "validation_error", None),
        ({**SUMMER, "colour": "red"}, 422, "validation_error", None),
    ],
)
async def test_a_bad_season_is_refused_with_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    for response in (
        await client.post("/api/v1/seasons", json=body),
        await client.put(f"/api/v1/seasons/{await _some_season(client)}", json=body),
    ):
        problem = error(response, status)
        assert problem["code"] == code
        if field:
            assert problem["field"] == field


async def _some_season(client: httpx.AsyncClient) -> int:
    seasons = (await client.get("/api/v1/seasons")).json()
    if seasons:
        return int(seasons[0]["id"])
    return int((await client.post("/api/v1/seasons", json=SUMMER)).json()["id"])


async def test_changing_an_unknown_season_is_404(client: httpx.AsyncClient) -> None:
    assert error(await client.put("/api/v1/seasons/424242", json=SUMMER), 404)["code"] == "season_not_found"
    assert error(await client.get("/api/v1/seasons/abc"), 422)["code"] == "validation_error"


async def test_pricing_rules_are_read_and_written(client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/v1/settings/pricing")).json()
    assert before["long_weekend_min_nights"] is None
    written = await put_rules(
        client,
        deposit_percent="40",
        weekend_multiplier="1.25",
        extra_guest_fee="5000",
        long_weekend_min_nights=3,
    )
    assert written.status_code == 200, written.text
    expected = {
        "deposit_percent": "40.00",
        "weekend_multiplier": "1.250",
        "default_min_nights": 1,
        "extra_guest_fee": "5000.00",
        "long_weekend_min_nights": 3,
    }
    assert written.json() == expected
    assert (await client.get("/api/v1/settings/pricing")).json() == expected
    whole = await put_rules(client, long_weekend_min_nights="whole_run")
    assert whole.json()["long_weekend_min_nights"] == "whole_run"
    assert (await put_rules(client)).json()["long_weekend_min_nights"] is None


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"deposit_percent": "-1"}, "invalid_setting"),
        ({"deposit_percent": "101"}, "invalid_setting"),
        ({"weekend_multiplier": "0"}, "invalid_setting"),
        ({"extra_guest_fee": "-500"}, "invalid_setting"),
        ({"default_min_nights": 0}, "invalid_setting"),
        ({"long_weekend_min_nights": 0}, "invalid_setting"),
        ({"long_weekend_min_nights": 61}, "invalid_setting"),
        ({"long_weekend_min_nights": "todo"}, "validation_error"),
        ({"deposit_percent": "NaN"}, "validation_error"),
        ({"surprise": 1}, "validation_error"),
    ],
)
async def test_bad_pricing_rules_are_refused_and_nothing_changes(
    client: httpx.AsyncClient, changes: dict[str, Any], code: str
) -> None:
    before = (await client.get("/api/v1/settings/pricing")).json()
    assert error(await put_rules(client, **{"long_weekend_min_nights": 4, **changes}), 422)["code"] == code
    assert (await client.get("/api/v1/settings/pricing")).json() == before


async def test_the_booking_policy_is_read_and_written(client: httpx.AsyncClient) -> None:
    body = {
        "hold_minutes_mercadopago": 90,
        "hold_hours_transfer": 12,
        "cancellation_policy": "Hasta 7 días antes, se devuelve la seña.",
        "bank_transfer_details": "Alias: cabanas.test",
    }
    written = await client.put("/api/v1/settings/booking", json=body)
    assert written.status_code == 200, written.text
    assert written.json() == body
    assert (await client.get("/api/v1/settings/booking")).json() == body


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"hold_minutes_mercadopago": 4}, "invalid_hold_window"),
        ({"hold_hours_transfer": 0}, "invalid_hold_window"),
        ({"hold_hours_transfer": 169}, "invalid_hold_window"),
        ({"cancellation_policy": "x" * 4001}, "invalid_setting"),
        ({"hold_minutes_mercadopago": "pronto"}, "validation_error"),
    ],
)
async def test_a_bad_booking_policy_is_refused(
    client: httpx.AsyncClient, changes: dict[str, Any], code: str
) -> None:
    body = {"hold_minutes_mercadopago": 60, "hold_hours_transfer": 24, **changes}
    assert error(await client.put("/api/v1/settings/booking", json=body), 422)["code"] == code


async def test_the_long_weekend_minimum_holds_in_quotes_availability_and_holds(
    client: httpx.AsyncClient,
) -> None:
    unit = await create_unit(client)
    window = next_long_weekend()
    short = {
        "check_in": window.run.first.isoformat(),
        "check_out": (window.run.first + timedelta(days=2)).isoformat(),
    }
    assert (await put_rules(client, long_weekend_min_nights="whole_run")).status_code == 200

    problem = error(
        await client.post("/api/v1/quotes", json={**short, "accommodation_id": unit["id"], "guests": 2}), 422
    )
    assert problem["code"] == "minimum_stay"
    assert (problem["min_nights"], problem["rule"]) == (window.run.days, "long_weekend")
    assert problem["long_weekend"] == {
        "first": window.run.first.isoformat(),
        "last": window.run.last.isoformat(),
    }
    free = await client.get("/api/v1/availability", params={**short, "guests": 2})
    assert free.json()["available"] == []
    held = await hold(client, unit["id"], window.run.first, nights=2)
    assert error(held, 422)["code"] == "minimum_stay"

    whole = {"check_in": window.check_in.isoformat(), "check_out": window.check_out.isoformat(), "guests": 2}
    assert [
        u["accommodation"]["id"]
        for u in (await client.get("/api/v1/availability", params=whole)).json()["available"]
    ] == [unit["id"]]

    assert (await put_rules(client, long_weekend_min_nights=2)).status_code == 200
    assert (
        await client.post("/api/v1/quotes", json={**short, "accommodation_id": unit["id"], "guests": 2})
    ).status_code == 200
    assert (await hold(client, unit["id"], window.run.first, nights=2)).status_code == 201


async def test_without_a_token_the_settings_are_401(anon: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/seasons"),
        ("PUT", "/api/v1/settings/pricing"),
        ("GET", "/api/v1/settings/booking"),
    ]:
        assert (await anon.request(method, path)).status_code == 401


async def test_openapi_documents_each_action_with_its_errors(anon: httpx.AsyncClient) -> None:
    paths = (await anon.get("/openapi.json")).json()["paths"]
    expected = {
        ("/api/v1/seasons", "get"): {"200", "401"},
        ("/api/v1/seasons", "post"): {"201", "401", "422"},
        ("/api/v1/seasons/{season_id}", "get"): {"200", "401", "404", "422"},
        ("/api/v1/seasons/{season_id}", "put"): {"200", "401", "404", "422"},
        ("/api/v1/seasons/{season_id}", "delete"): {"204", "401", "404", "422"},
        ("/api/v1/settings/pricing", "put"): {"200", "401", "422"},
        ("/api/v1/settings/booking", "put"): {"200", "401", "422"},
    }
    for (path, method), statuses in expected.items():
        assert set(paths[path][method]["responses"]) == statuses, (path, method)
