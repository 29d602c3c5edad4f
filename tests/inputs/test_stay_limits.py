"""Stays are bounded by the operator's limits (issue 11, point 6): the longest stay in nights and how
far ahead a stay may end. Beyond them, the API answers a clear 4xx in milliseconds, before pricing."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from alojamientos.pricing.rules import StayLimits
from tests.fixtures.api import create_unit, hold, today_ar


def error(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    return body


async def timed(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    started = time.perf_counter()
    response = await client.request(method, path, **kwargs)
    assert time.perf_counter() - started < 1, f"{method} {path} took over a second"
    return response


async def test_the_issue_availability_request_is_refused_in_milliseconds(client: httpx.AsyncClient) -> None:
    await create_unit(client, capacity=30)
    response = await timed(
        client, "GET", "/api/v1/availability?check_in=3247-09-27&check_out=3730-03-30&guests=23"
    )
    assert error(response) == {
        "code": "stay_too_long",
        "message": "stays are limited to 60 nights",
        "max_nights": 60,
        "nights": (date(3730, 3, 30) - date(3247, 9, 27)).days,
    }


async def test_defaults_are_60_nights_and_730_days(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/settings/stay-limits")
    assert response.status_code == 200
    assert response.json() == {"max_nights": 60, "booking_horizon_days": 730}


async def test_each_booking_path_applies_the_same_limits(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    start = today_ar() + timedelta(days=10)
    stay = {"check_in": start.isoformat(), "check_out": (start + timedelta(days=61)).isoformat()}
    availability = await timed(client, "GET", "/api/v1/availability", params={**stay, "guests": 2})
    quote = await timed(
        client, "POST", "/api/v1/quotes", json={**stay, "accommodation_id": unit["id"], "guests": 2}
    )
    reservation = await hold(client, unit["id"], start, nights=61)
    for response in (availability, quote, reservation):
        assert error(response)["code"] == "stay_too_long"
    assert (await client.get("/api/v1/reservations")).json()["count"] == 0

    # Exactly the maximum is fine.
    assert (await hold(client, unit["id"], start, nights=60)).status_code == 201


async def test_a_stay_ending_beyond_the_horizon_is_refused_with_the_last_date(
    client: httpx.AsyncClient,
) -> None:
    unit = await create_unit(client)
    today = today_ar()
    last = today + timedelta(days=730)
    late = {
        "check_in": (last - timedelta(days=2)).isoformat(),
        "check_out": (last + timedelta(days=1)).isoformat(),
    }
    for response in (
        await timed(client, "GET", "/api/v1/availability", params={**late, "guests": 2}),
        await timed(
            client, "POST", "/api/v1/quotes", json={**late, "accommodation_id": unit["id"], "guests": 2}
        ),
    ):
        assert error(response) == {
            "code": "beyond_booking_horizon",
            "message": f"stays can be booked up to {last.isoformat()} (730 days ahead)",
            "last_check_out": last.isoformat(),
            "horizon_days": 730,
        }
    assert (await hold(client, unit["id"], last - timedelta(days=2), nights=2)).status_code == 201


async def test_the_operator_changes_the_limits_and_every_path_follows(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    changed = await client.put(
        "/api/v1/settings/stay-limits", json={"max_nights": 30, "booking_horizon_days": 90}
    )
    assert changed.status_code == 200 and changed.json() == {"max_nights": 30, "booking_horizon_days": 90}
    start = today_ar() + timedelta(days=5)
    too_long = await hold(client, unit["id"], start, nights=31)
    assert error(too_long)["max_nights"] == 30
    too_far = await hold(client, unit["id"], today_ar() + timedelta(days=89), nights=2)
    assert error(too_far)["code"] == "beyond_booking_horizon"
    assert (await hold(client, unit["id"], start, nights=30)).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"max_nights": 0, "booking_horizon_days": 730},
        {"max_nights": 366, "booking_horizon_days": 730},
        {"max_nights": 60, "booking_horizon_days": 0},
        {"max_nights": 60, "booking_horizon_days": 99999999999999999999},
        {"max_nights": 60},
    ],
)
async def test_limits_outside_their_range_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert error(await client.put("/api/v1/settings/stay-limits", json=body))["code"] == "validation_error"
    assert (await client.get("/api/v1/settings/stay-limits")).json() == {
        "max_nights": 60,
        "booking_horizon_days": 730,
    }


@pytest.mark.parametrize(
    ("check_in", "check_out", "guests", "code"),
    [
        ("0001-01-01", "0001-01-03", 2, "past_dates"),  # far in the past
        ("2020-02-29", "2020-03-02", 2, "past_dates"),
        ("9999-12-29", "9999-12-31", 2, "beyond_booking_horizon"),  # far in the future
        ("+1", "+3", 0, "validation_error"),  # guests 0
        ("+1", "+3", -4, "validation_error"),  # guests negative
        ("+1", "+3", 10**12, "validation_error"),  # guests huge
        ("+5", "+3", 2, "invalid_input"),  # check-out before check-in
        ("+5", "+5", 2, "invalid_input"),  # empty stay
        ("+1", "+900", 2, "stay_too_long"),
    ],
)
async def test_availability_refuses_every_unbookable_shape_in_milliseconds(
    client: httpx.AsyncClient, check_in: str, check_out: str, guests: int, code: str
) -> None:
    await create_unit(client)

    def day(value: str) -> str:
        return (today_ar() + timedelta(days=int(value))).isoformat() if value.startswith("+") else value

    response = await timed(
        client,
        "GET",
        "/api/v1/availability",
        params={"check_in": day(check_in), "check_out": day(check_out), "guests": guests},
    )
    assert error(response)["code"] == code


async def test_quotes_and_holds_refuse_check_out_before_check_in(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    start = today_ar() + timedelta(days=5)
    backwards = {"check_in": start.isoformat(), "check_out": (start - timedelta(days=2)).isoformat()}
    quote = await client.post(
        "/api/v1/quotes", json={**backwards, "accommodation_id": unit["id"], "guests": 2}
    )
    assert error(quote)["code"] == "validation_error"
    assert error(await hold(client, unit["id"], start, nights=-2))["code"] == "validation_error"


def test_stay_limits_rule_table() -> None:
    limits, today = StayLimits(max_nights=7, horizon_days=30), date(2027, 1, 10)
    cases = [
        (date(2027, 1, 9), date(2027, 1, 11), "past"),
        (date(2027, 1, 10), date(2027, 1, 10), "empty"),
        (date(2027, 1, 10), date(2027, 1, 17), None),
        (date(2027, 1, 10), date(2027, 1, 18), "too_long"),
        (date(2027, 2, 5), date(2027, 2, 9), None),  # ends on the last day
        (date(2027, 2, 5), date(2027, 2, 10), "beyond_horizon"),
    ]
    assert [limits.problem(a, b, today) for a, b, _ in cases] == [want for _, _, want in cases]
