"""Generated requests (issue 11, point 6): integers beyond PostgreSQL's types and text it cannot store
are clear 422s in the contract's shape, never 500s; the bounds are declared in /openapi.json."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from alojamientos.kit.inputs import INT4_MAX, INT8_MAX, MAX_TEXT
from tests.fixtures.api import create_unit, hold, today_ar

HUGE = "5466988169880650005872640"


def assert_refused(response: httpx.Response, field: str, *, code: str = "validation_error") -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if code == "validation_error":
        assert field in [f["field"] for f in error["fields"]], error
    else:
        assert error["field"] == field, error


# -- integers out of range ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        # The three from the issue.
        ("POST", "/api/v1/accommodations/5466988169880650005872640/ical-token", "path.accommodation_id"),
        ("POST", "/api/v1/alerts/1689390017559551004377088/resolve", "path.alert_id"),
        ("POST", "/api/v1/feeds/4694946343238372425728/sync", "path.feed_id"),
        # Siblings: every other integer in a path or query.
        ("GET", f"/api/v1/accommodations/{HUGE}/feeds", "path.accommodation_id"),
        ("DELETE", f"/api/v1/feeds/{HUGE}", "path.feed_id"),
        ("POST", f"/api/v1/jobs/{HUGE}/retry", "path.job_id"),
        ("GET", f"/api/v1/attachments/{HUGE}", "path.attachment_id"),
        ("GET", f"/api/v1/ical/{HUGE}.ics?token=x", "path.accommodation_id"),
        ("GET", f"/api/v1/reservations?offset={HUGE}", "query.offset"),
        ("GET", f"/api/v1/reservations?offset={INT4_MAX + 1}", "query.offset"),
        ("POST", f"/api/v1/accommodations/{INT4_MAX + 1}/ical-token", "path.accommodation_id"),
        ("POST", f"/api/v1/alerts/{INT8_MAX + 1}/resolve", "path.alert_id"),
        ("POST", "/api/v1/alerts/0/resolve", "path.alert_id"),
        ("POST", "/api/v1/feeds/-1/sync", "path.feed_id"),
        (
            "GET",
            "/api/v1/availability?check_in=2030-01-01&check_out=2030-01-03&guests=" + HUGE,
            "query.guests",
        ),
    ],
)
async def test_an_integer_beyond_what_postgres_stores_is_a_422(
    client: httpx.AsyncClient, method: str, path: str, field: str
) -> None:
    assert_refused(await client.request(method, path), field)


async def test_a_largest_stored_id_that_does_not_exist_is_a_404(client: httpx.AsyncClient) -> None:
    unit = await client.post(f"/api/v1/accommodations/{INT4_MAX}/ical-token")
    assert unit.status_code == 404 and unit.json()["error"]["code"] == "accommodation_not_found"
    alert = await client.post(f"/api/v1/alerts/{INT8_MAX}/resolve")
    assert alert.status_code == 404 and alert.json()["error"]["code"] == "alert_not_found"
    feed = await client.post(f"/api/v1/feeds/{INT8_MAX}/sync")
    assert feed.status_code == 404 and feed.json()["error"]["code"] == "feed_not_found"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/quotes", {"accommodation_id": int(HUGE)}, "accommodation_id"),
        ("/api/v1/reservations", {"accommodation_id": INT4_MAX + 1}, "accommodation_id"),
        ("/api/v1/reservations", {"guests": int(HUGE)}, "guests"),
        ("/api/v1/reservations", {"guests": -3}, "guests"),
        ("/api/v1/accommodations", {"base_occupancy": int(HUGE)}, "base_occupancy"),
        ("/api/v1/accommodations", {"capacity": int(HUGE)}, "capacity"),
    ],
)
async def test_an_integer_beyond_what_postgres_stores_in_a_body_is_a_422(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    start = today_ar().replace(year=today_ar().year + 1)
    base: dict[str, Any] = {
        "/api/v1/quotes": {"accommodation_id": 1, "check_in": f"{start}", "check_out": f"{start.replace(day=28)}",
                           "guests": 2},
        "/api/v1/reservations": {"accommodation_id": 1, "check_in": "2030-01-01", "check_out": "2030-01-03",
                                 "guests": 2, "guest_name": "Ana", "guest_phone": "+5491155551234"},
        "/api/v1/accommodations": {"name": "Cabaña", "capacity": 4, "base_price": "1000"},
    }[path]  # fmt: skip
    assert_refused(await client.post(path, json={**base, **body}), field)


def _integer_schemas(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "integer":
            found.append((where, node))
        for key, value in node.items():
            found += _integer_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _integer_schemas(value, f"{where}/{index}")
    return found


async def test_openapi_declares_a_storable_range_for_every_integer_input(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    inputs = {
        "paths": schema["paths"],
        # Request bodies only: what the server answers is not an input.
        "bodies": {
            name: body
            for name, body in schema["components"]["schemas"].items()
            if not name.endswith(("Out", "List", "Detail"))
            and name not in ("HTTPValidationError", "ValidationError")
        },
    }
    unbounded = [
        where
        for where, node in _integer_schemas(inputs)
        if "/responses/" not in where
        and not (-(2**63) <= node.get("minimum", -(2**64)) and node.get("maximum", 2**64) <= INT8_MAX)
    ]
    assert unbounded == []
    parameters = schema["paths"]["/api/v1/alerts/{alert_id}/resolve"]["post"]["parameters"]
    assert parameters[0]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": INT8_MAX,
        "title": "Alert Id",
    }


# -- text PostgreSQL cannot store -------------------------------------------------------------------


async def test_a_nul_in_a_bot_answer_is_a_422_and_nothing_is_stored(client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/v1/bot/answers")).json()
    response = await client.put("/api/v1/bot/answers/checkin", json={"text": "a\u0000b"})
    assert_refused(response, "text", code="invalid_text")
    assert response.json()["error"]["message"] == (
        "text contains a NUL character (U+0000), which cannot be stored"
    )
    assert (await client.get("/api/v1/bot/answers")).json() == before


async def test_a_nul_in_a_feed_url_is_a_422(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    response = await client.post(
        f"/api/v1/accommodations/{unit['id']}/feeds",
        json={"name": "Airbnb", "url": "https://www.airbnb.com/calendar/ical/1.ics?s=\u0000"},
    )
    assert_refused(response, "url", code="invalid_text")
    assert (await client.get(f"/api/v1/accommodations/{unit['id']}/feeds")).json() == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("POST", "/api/v1/accommodations", {"json": {"name": "Caba\u0000ña", "capacity": 2, "base_price": "1"}},
         "name"),
        ("POST", "/api/v1/accommodations",
         {"json": {"name": "Cabaña", "capacity": 2, "base_price": "1", "amenities": ["wi\u0000fi"]}},
         "amenities.0"),
        ("POST", "/api/v1/accommodations", {"json": {"name": "Cabaña", "capacity": 2, "base_price": "1",
                                                      "description\u0000": "x"}}, "body"),
        ("GET", "/api/v1/reservations?status=confirmed%00", {}, "query.status"),
        ("GET", "/api/v1/conversations/%2B5491155551234%00", {}, "path.phone"),
        ("POST", "/api/v1/conversations/%2B5491155551234/messages", {"json": {"text": "hola\u0000"}},
         "text"),
        ("POST", "/api/v1/reservations/ABC234/cancel", {"json": {"reason": "\u0000"}}, "reason"),
        ("PUT", "/api/v1/flags/email%00", {"json": {"enabled": True}}, "path.name"),
        ("POST", "/api/v1/auth/token", {"data": {"username": "a\u0000@b.com", "password": "x"}}, "username"),
    ],
)  # fmt: skip
async def test_a_nul_anywhere_in_a_request_is_a_422(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any], field: str
) -> None:
    assert_refused(await client.request(method, path, **kwargs), field, code="invalid_text")


async def test_a_nul_in_a_reservation_is_refused_and_no_hold_is_made(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    start = today_ar().replace(year=today_ar().year + 1)
    response = await hold(client, unit["id"], start, guest_name="Ana\u0000", notes="x")
    assert_refused(response, "guest_name", code="invalid_text")
    assert (await client.get("/api/v1/reservations")).json()["count"] == 0


async def test_a_text_longer_than_any_field_takes_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/reservations", params={"status": "x" * (MAX_TEXT + 1)})
    assert_refused(response, "query.status", code="invalid_text")
    unit = await client.post(
        "/api/v1/accommodations",
        json={"name": "Cabaña", "capacity": 2, "base_price": "1", "description": "x" * 5001},
    )
    assert_refused(unit, "description")
    assert_refused(
        await client.post(
            "/api/v1/accommodations",
            json={"name": "Cabaña", "capacity": 2, "base_price": "1", "amenities": ["x" * 81]},
        ),
        "amenities.0",
    )


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(client: httpx.AsyncClient) -> None:
    # JSON "\\u0000" is the six characters \u0000, not a NUL: stored as typed.
    response = await client.put("/api/v1/bot/answers/checkin", json={"text": "ruta C:\\u0000"})
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "ruta C:\\u0000"
