"""The operator's actions on a stay through the JSON API, as the panel does them: move a stay, mark a
no-show, correct the guest, block and unblock nights. Same services underneath, so the same events;
every refusal in the contract's error shape."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.reservations.events import GUEST_UPDATED, NOTIFY, STAY_CHANGED
from tests.fixtures.api import OPERATOR_EMAIL, OPERATOR_PASSWORD, create_unit, hold, today_ar

ACTOR = f"operator:{OPERATOR_EMAIL}"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def _later(days: int) -> date:
    return today_ar() + timedelta(days=days)


async def _book(client: httpx.AsyncClient, unit_id: int, start: date, **overrides: Any) -> dict[str, Any]:
    response = await hold(client, unit_id, start, **overrides)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _detail(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/reservations/{code}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _notify_jobs(db: Database) -> int:
    async with db.session_scope() as session:
        return await session.scalar(select(func.count()).select_from(Job).where(Job.kind == NOTIFY)) or 0


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


def _stay(start: date, nights: int = 2, **extra: Any) -> dict[str, Any]:
    return {"check_in": start.isoformat(), "check_out": (start + timedelta(days=nights)).isoformat(), **extra}


# --- moving a stay -------------------------------------------------------------------------------


async def test_a_confirmed_stay_moves_to_another_unit_and_dates_and_the_guest_is_told(
    client: httpx.AsyncClient, db: Database
) -> None:
    bosque = await create_unit(client, name="Bosque")
    lago = await create_unit(client, name="Lago", capacity=6, base_price="80000")
    booked = await _book(client, bosque["id"], _later(20), status="confirmed")
    jobs_before = await _notify_jobs(db)

    moved = await client.post(
        f"/api/v1/reservations/{booked['code']}/change",
        json=_stay(_later(40), nights=3, accommodation_id=lago["id"], guests=5),
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    quote = await client.post(
        "/api/v1/quotes", json=_stay(_later(40), nights=3, accommodation_id=lago["id"], guests=5)
    )
    assert (body["code"], body["status"], body["accommodation_id"], body["guests"]) == (
        booked["code"],
        "confirmed",
        lago["id"],
        5,
    )
    assert (body["check_in"], body["check_out"]) == (_later(40).isoformat(), _later(43).isoformat())
    assert body["total_amount"] == quote.json()["total"]
    event = body["events"][-1]
    assert (event["from_status"], event["to_status"], event["reason"], event["actor"]) == (
        "confirmed",
        "confirmed",
        STAY_CHANGED,
        ACTOR,
    )
    assert (event["data"]["before"]["unit"], event["data"]["after"]["unit"]) == ("Bosque", "Lago")
    assert event["data"]["after"]["check_in"] == _later(40).isoformat()
    # The guest is told through the same `reservation.notify` job the panel's move enqueues.
    assert await _notify_jobs(db) == jobs_before + 1
    # The old nights are free, the new ones taken.
    assert (await hold(client, bosque["id"], _later(20))).status_code == 201
    _error(await hold(client, lago["id"], _later(41)), 409, "dates_unavailable")


async def test_a_move_of_dates_only_keeps_the_unit_and_the_party(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client, capacity=6)
    booked = await _book(client, unit["id"], _later(20), guests=3)
    moved = await client.post(f"/api/v1/reservations/{booked['code']}/change", json=_stay(_later(25), 4))
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["accommodation_id"], body["guests"], body["status"]) == (unit["id"], 3, "pre_reserved")
    assert (body["check_in"], body["check_out"]) == (_later(25).isoformat(), _later(29).isoformat())
    # A hold may move onto part of its own nights.
    onto_itself = await client.post(
        f"/api/v1/reservations/{booked['code']}/change", json=_stay(_later(26), 4)
    )
    assert onto_itself.status_code == 200, onto_itself.text


async def test_a_move_onto_taken_nights_is_409_naming_the_stay_in_the_way(
    client: httpx.AsyncClient, db: Database
) -> None:
    unit = await create_unit(client)
    ana = await _book(client, unit["id"], _later(20))
    bruno = await _book(client, unit["id"], _later(30), guest_name="Bruno Díaz", status="confirmed")
    jobs_before = await _notify_jobs(db)

    refused = await client.post(f"/api/v1/reservations/{ana['code']}/change", json=_stay(_later(29), 3))
    error = _error(refused, 409, "dates_unavailable")
    assert error["conflict"] == {
        "code": bruno["code"],
        "kind": "stay",
        "check_in": bruno["check_in"],
        "check_out": bruno["check_out"],
    }
    assert bruno["code"] in error["message"]
    after = await _detail(client, ana["code"])
    assert (after["check_in"], after["check_out"]) == (ana["check_in"], ana["check_out"])
    assert [e["reason"] for e in after["events"]] == [None]
    assert await _notify_jobs(db) == jobs_before

    # A block of ours in the way is named as a block.
    blocked = await client.post("/api/v1/blocks", json=_stay(_later(50), 2, accommodation_id=unit["id"]))
    assert blocked.status_code == 201, blocked.text
    refused = await client.post(f"/api/v1/reservations/{ana['code']}/change", json=_stay(_later(49), 3))
    assert _error(refused, 409, "dates_unavailable")["conflict"]["kind"] == "block"
    assert _error(refused, 409, "dates_unavailable")["conflict"]["code"] == blocked.json()["code"]


async def test_a_move_in_the_wrong_state_or_of_an_unknown_code_is_refused(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    booked = await _book(client, unit["id"], _later(20))
    cancelled = await client.post(f"/api/v1/reservations/{booked['code']}/cancel")
    assert cancelled.status_code == 200, cancelled.text

    refused = await client.post(f"/api/v1/reservations/{booked['code']}/change", json=_stay(_later(40)))
    assert _error(refused, 409, "invalid_transition")["status"] == "cancelled"
    unknown = await client.post("/api/v1/reservations/ZZZZ99/change", json=_stay(_later(40)))
    _error(unknown, 404, "reservation_not_found")

    live = await _book(client, unit["id"], _later(60))
    no_unit = await client.post(
        f"/api/v1/reservations/{live['code']}/change", json=_stay(_later(40), accommodation_id=999_999)
    )
    _error(no_unit, 404, "accommodation_not_found")
    block = await client.post("/api/v1/blocks", json=_stay(_later(80), accommodation_id=unit["id"]))
    a_block = await client.post(f"/api/v1/reservations/{block.json()['code']}/change", json=_stay(_later(90)))
    _error(a_block, 422, "wrong_kind")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"check_in": "2027-01-10", "check_out": "2027-01-10"}, "validation_error"),  # empty stay
        ({"check_in": "2027-01-12", "check_out": "2027-01-10"}, "validation_error"),  # backwards
        ({"check_in": "2027-02-30", "check_out": "2027-03-02"}, "validation_error"),  # no such day
        ({"check_in": "mañana", "check_out": "2027-03-02"}, "validation_error"),
        ({"check_out": "2027-03-02"}, "validation_error"),  # no check-in
        ({"check_in": "2027-03-01", "check_out": "2027-03-03", "guests": 0}, "validation_error"),
        ({"check_in": "2027-03-01", "check_out": "2027-03-03", "guests": 51}, "validation_error"),
        (
            {"check_in": "2027-03-01", "check_out": "2027-03-03", "accommodation_id": 2**31},
            "validation_error",
        ),
        ({"check_in": "2027-03-01", "check_out": "2027-03-03", "accommodation_id": 0}, "validation_error"),
        ({"check_in": "2027-03-01", "check_out": "2027-03-03", "precio": 1}, "validation_error"),  # unknown
    ],
)
async def test_a_move_with_bad_input_is_422_and_changes_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    unit = await create_unit(client)
    booked = await _book(client, unit["id"], _later(20))
    refused = await client.post(f"/api/v1/reservations/{booked['code']}/change", json=body)
    assert _error(refused, 422, code)["fields"]
    after = await _detail(client, booked["code"])
    assert (after["check_in"], len(after["events"])) == (booked["check_in"], 1)


async def test_a_move_the_rules_refuse_says_why(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client, capacity=4)
    booked = await _book(client, unit["id"], _later(20))
    url = f"/api/v1/reservations/{booked['code']}/change"
    _error(await client.post(url, json=_stay(_later(-3))), 422, "past_dates")
    _error(await client.post(url, json=_stay(_later(20), guests=2)), 422, "nothing_changed")
    _error(await client.post(url, json=_stay(_later(20), guests=5)), 422, "too_many_guests")
    inactive = await create_unit(client, name="Cerrada", active=False)
    _error(
        await client.post(url, json=_stay(_later(30), accommodation_id=inactive["id"])),
        422,
        "accommodation_inactive",
    )
    assert len((await _detail(client, booked["code"]))["events"]) == 1


async def test_a_dates_only_move_of_an_agreed_price_asks_then_keeps_it(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    agreed = {"total": "70000", "reason": "Cliente de siempre"}
    booked = await _book(client, unit["id"], _later(20), agreed_price=agreed, status="confirmed")
    url = f"/api/v1/reservations/{booked['code']}/change"
    asked = _error(await client.post(url, json=_stay(_later(40))), 409, "price_choice_required")
    assert (asked["total"], asked["choices"]) == ("70000.00", ["keep", "reprice"])
    _error(await client.post(url, json=_stay(_later(40), price="maybe")), 422, "validation_error")
    kept = await client.post(url, json=_stay(_later(40), price="keep"))
    assert kept.status_code == 200, kept.text
    body = kept.json()
    assert (body["check_in"], body["total_amount"], body["price_reason"]) == (
        _later(40).isoformat(),
        "70000.00",
        "Cliente de siempre",
    )
    assert body["events"][-1]["data"]["price"] == "keep"


# --- no-show -------------------------------------------------------------------------------------


async def test_a_confirmed_guest_who_never_came_is_a_no_show_and_the_nights_free_up(
    client: httpx.AsyncClient,
) -> None:
    unit = await create_unit(client)
    arriving = await _book(client, unit["id"], today_ar(), nights=3, status="confirmed")
    marked = await client.post(f"/api/v1/reservations/{arriving['code']}/no-show")
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "no_show"
    event = marked.json()["events"][-1]
    assert (event["from_status"], event["to_status"], event["actor"]) == ("confirmed", "no_show", ACTOR)
    assert (await hold(client, unit["id"], _later(1))).status_code == 201  # free again
    again = await client.post(f"/api/v1/reservations/{arriving['code']}/no-show")
    assert _error(again, 409, "invalid_transition")["status"] == "no_show"


async def test_a_no_show_before_check_in_day_or_of_a_hold_is_refused(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    coming = await _book(client, unit["id"], _later(1), status="confirmed")
    early = await client.post(f"/api/v1/reservations/{coming['code']}/no-show")
    assert _error(early, 422, "not_arrived_yet")["check_in"] == _later(1).isoformat()
    held = await _book(client, unit["id"], today_ar(), nights=1)
    assert (
        _error(await client.post(f"/api/v1/reservations/{held['code']}/no-show"), 409, "invalid_transition")[
            "status"
        ]
        == "pre_reserved"
    )
    _error(await client.post("/api/v1/reservations/ZZZZ99/no-show"), 404, "reservation_not_found")
    block = await client.post("/api/v1/blocks", json=_stay(_later(10), accommodation_id=unit["id"]))
    _error(await client.post(f"/api/v1/reservations/{block.json()['code']}/no-show"), 422, "wrong_kind")
    assert (await _detail(client, coming["code"]))["status"] == "confirmed"


# --- the guest's details -------------------------------------------------------------------------


async def test_correcting_the_guest_keeps_what_is_left_out_and_tells_nobody(
    client: httpx.AsyncClient, db: Database
) -> None:
    unit = await create_unit(client)
    booked = await _book(client, unit["id"], _later(20), guest_email="ana@example.com")
    url = f"/api/v1/reservations/{booked['code']}/guest"
    jobs_before = await _notify_jobs(db)

    renamed = await client.patch(url, json={"guest_name": "  Ana  María Pérez "})
    assert renamed.status_code == 200, renamed.text
    body = renamed.json()
    assert (body["guest_name"], body["guest_phone"], body["guest_email"]) == (
        "Ana María Pérez",
        "+5491155551234",
        "ana@example.com",
    )
    event = body["events"][-1]
    assert (event["from_status"], event["to_status"], event["reason"], event["actor"]) == (
        "pre_reserved",
        "pre_reserved",
        GUEST_UPDATED,
        ACTOR,
    )
    assert event["data"]["after"] == {
        "name": "Ana María Pérez",
        "phone": "+5491155551234",
        "email": "ana@example.com",
    }

    rephoned = await client.patch(url, json={"guest_phone": "0351 15-444-7788", "guest_email": None})
    assert rephoned.status_code == 200, rephoned.text
    assert (rephoned.json()["guest_phone"], rephoned.json()["guest_email"]) == ("+5493514447788", None)
    assert await _notify_jobs(db) == jobs_before  # nobody is messaged about a correction

    _error(await client.patch(url, json={"guest_phone": "+5493514447788"}), 422, "nothing_changed")
    _error(await client.patch(url, json={}), 422, "nothing_changed")
    assert len((await _detail(client, booked["code"]))["events"]) == 3


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"guest_name": ""}, "validation_error"),
        ({"guest_name": "x" * 201}, "validation_error"),
        ({"guest_name": None}, "invalid_guest"),
        ({"guest_name": "   "}, "invalid_guest"),
        ({"guest_phone": "no tengo"}, "validation_error"),
        ({"guest_email": "no-es-un-mail"}, "validation_error"),
        ({"guest_name": 12}, "validation_error"),
        ({"nombre": "Ana"}, "validation_error"),  # unknown field
    ],
)
async def test_a_guest_correction_with_bad_input_is_422_and_changes_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    unit = await create_unit(client)
    booked = await _book(client, unit["id"], _later(20))
    _error(await client.patch(f"/api/v1/reservations/{booked['code']}/guest", json=body), 422, code)
    after = await _detail(client, booked["code"])
    assert (after["guest_name"], len(after["events"])) == ("Ana Pérez", 1)


async def test_a_guest_correction_of_an_unknown_code_or_a_block_is_refused(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    _error(
        await client.patch("/api/v1/reservations/ZZZZ99/guest", json={"guest_name": "Ana"}),
        404,
        "reservation_not_found",
    )
    block = await client.post("/api/v1/blocks", json=_stay(_later(10), accommodation_id=unit["id"]))
    _error(
        await client.patch(f"/api/v1/reservations/{block.json()['code']}/guest", json={"guest_name": "Ana"}),
        422,
        "wrong_kind",
    )


# --- blocks --------------------------------------------------------------------------------------


async def test_a_block_closes_nights_and_deleting_it_opens_them(
    client: httpx.AsyncClient, db: Database
) -> None:
    unit = await create_unit(client)
    jobs_before = await _notify_jobs(db)
    created = await client.post(
        "/api/v1/blocks", json=_stay(_later(10), 3, accommodation_id=unit["id"], reason="Pintura")
    )
    assert created.status_code == 201, created.text
    block = created.json()
    assert (block["kind"], block["status"], block["guest_name"], block["total_amount"]) == (
        "block",
        "confirmed",
        "Pintura",
        "0.00",
    )
    assert (block["events"][-1]["actor"], block["events"][-1]["reason"]) == (ACTOR, "Pintura")
    listed = (await client.get("/api/v1/reservations", params={"kind": "block"})).json()
    assert [b["code"] for b in listed["items"]] == [block["code"]]
    clash = await hold(client, unit["id"], _later(11))
    assert _error(clash, 409, "dates_unavailable")["conflict"]["code"] == block["code"]

    opened = await client.delete(f"/api/v1/blocks/{block['code']}")
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "cancelled"
    assert (opened.json()["events"][-1]["from_status"], opened.json()["events"][-1]["to_status"]) == (
        "confirmed",
        "cancelled",
    )
    assert (await hold(client, unit["id"], _later(11))).status_code == 201
    assert await _notify_jobs(db) == jobs_before + 1  # the guest's hold only: blocks message nobody
    again = await client.delete(f"/api/v1/blocks/{block['code']}")
    assert _error(again, 409, "invalid_transition")["status"] == "cancelled"


async def test_a_block_without_a_reason_is_named_block(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    created = await client.post("/api/v1/blocks", json=_stay(_later(10), accommodation_id=unit["id"]))
    assert created.status_code == 201, created.text
    assert created.json()["guest_name"] == "Bloqueo"


async def test_a_block_over_a_stay_is_409_naming_the_stay(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    ana = await _book(client, unit["id"], _later(10))
    refused = await client.post("/api/v1/blocks", json=_stay(_later(11), 4, accommodation_id=unit["id"]))
    assert _error(refused, 409, "dates_unavailable")["conflict"]["code"] == ana["code"]
    assert (await client.get("/api/v1/reservations", params={"kind": "block"})).json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"check_in": "2027-03-03", "check_out": "2027-03-03"}, 422, "validation_error"),
        ({"check_in": "2027-03-05", "check_out": "2027-03-03"}, 422, "validation_error"),
        ({"check_in": "2027-03-01", "check_out": "2027-03-03", "reason": "x" * 201}, 422, "validation_error"),
        ({"check_in": "2027-03-01", "check_out": "2027-03-03", "unit": 1}, 422, "validation_error"),
        ({"check_in": "2027-03-01"}, 422, "validation_error"),
    ],
)
async def test_a_block_with_bad_input_is_refused(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, code: str
) -> None:
    unit = await create_unit(client)
    _error(await client.post("/api/v1/blocks", json={"accommodation_id": unit["id"], **body}), status, code)
    assert (await client.get("/api/v1/reservations", params={"kind": "all"})).json()["count"] == 0


async def test_a_block_in_the_past_or_of_an_unknown_unit_is_refused(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    _error(
        await client.post("/api/v1/blocks", json=_stay(_later(-2), accommodation_id=unit["id"])),
        422,
        "past_dates",
    )
    _error(
        await client.post("/api/v1/blocks", json=_stay(_later(2), accommodation_id=999_999)),
        404,
        "accommodation_not_found",
    )
    _error(
        await client.post("/api/v1/blocks", json=_stay(_later(2), accommodation_id=2**31)),
        422,
        "validation_error",
    )


async def test_only_our_blocks_can_be_deleted(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    ana = await _book(client, unit["id"], _later(10))
    _error(await client.delete(f"/api/v1/blocks/{ana['code']}"), 422, "wrong_kind")
    _error(await client.delete("/api/v1/blocks/ZZZZ99"), 404, "reservation_not_found")
    assert (await _detail(client, ana["code"]))["status"] == "pre_reserved"


# --- the API and the panel: one code path --------------------------------------------------------


@pytest.fixture
async def panel(app: FastAPI, operator: None) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The panel in the same app, logged in through its form; with the session's CSRF token."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        form = await browser.get("/admin/login")
        login_token = CSRF_INPUT.search(form.text)
        assert login_token, form.text
        logged = await browser.post(
            "/admin/login",
            data={"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD, "csrf_token": login_token.group(1)},
        )
        assert logged.status_code == 303, logged.text
        token = CSRF_INPUT.search((await browser.get("/admin/")).text)
        assert token
        yield browser, token.group(1)


def _same(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "created_at"}


async def test_the_panel_and_the_api_record_the_same_events(
    client: httpx.AsyncClient, panel: tuple[httpx.AsyncClient, str], db: Database
) -> None:
    browser, csrf = panel
    bosque = await create_unit(client, name="Bosque")
    lago = await create_unit(client, name="Lago", capacity=6)
    booked = await _book(client, bosque["id"], _later(20), status="confirmed")
    code = booked["code"]
    jobs_before = await _notify_jobs(db)

    # Move: the panel there, the API back; each event is the other's mirror.
    by_panel = await browser.post(
        f"/admin/reservas/{code}/cambiar",
        data={
            "unidad": lago["id"],
            "entrada": _later(30),
            "salida": _later(33),
            "personas": 5,
            "csrf_token": csrf,
        },
    )
    assert by_panel.status_code == 303, by_panel.text
    by_api = await client.post(
        f"/api/v1/reservations/{code}/change",
        json=_stay(_later(20), 2, accommodation_id=bosque["id"], guests=2),
    )
    assert by_api.status_code == 200, by_api.text
    panel_move, api_move = by_api.json()["events"][-2:]
    assert {**_same(panel_move), "data": None} == {**_same(api_move), "data": None}
    assert panel_move["reason"] == STAY_CHANGED
    assert panel_move["data"]["before"] == api_move["data"]["after"]
    assert panel_move["data"]["after"] == api_move["data"]["before"]
    assert await _notify_jobs(db) == jobs_before + 2  # the guest is told of each move

    # Guest details: the panel corrects, the API puts them back.
    fixed = await browser.post(
        f"/admin/reservas/{code}/huesped",
        data={
            "nombre": "Ana María",
            "telefono": "0351 15-444-7788",
            "email": "ana@example.com",
            "csrf_token": csrf,
        },
    )
    assert fixed.status_code == 303, fixed.text
    restored = await client.patch(
        f"/api/v1/reservations/{code}/guest",
        json={"guest_name": "Ana Pérez", "guest_phone": "+5491155551234", "guest_email": None},
    )
    assert restored.status_code == 200, restored.text
    panel_fix, api_fix = restored.json()["events"][-2:]
    assert {**_same(panel_fix), "data": None} == {**_same(api_fix), "data": None}
    assert (panel_fix["data"]["before"], panel_fix["data"]["after"]) == (
        api_fix["data"]["after"],
        api_fix["data"]["before"],
    )
    assert await _notify_jobs(db) == jobs_before + 2

    # No-show: two guests arriving today, one marked in the panel, one through the API.
    for_panel = await _book(client, bosque["id"], today_ar(), status="confirmed")
    for_api = await _book(client, lago["id"], today_ar(), status="confirmed")
    marked = await browser.post(f"/admin/reservas/{for_panel['code']}/no-vino", data={"csrf_token": csrf})
    assert marked.status_code == 303, marked.text
    assert (await client.post(f"/api/v1/reservations/{for_api['code']}/no-show")).status_code == 200
    panel_no_show = (await _detail(client, for_panel["code"]))["events"][-1]
    api_no_show = (await _detail(client, for_api["code"]))["events"][-1]
    assert _same(panel_no_show) == _same(api_no_show)
    assert panel_no_show["to_status"] == "no_show"

    # Blocks: one made in the panel, one through the API, each opened by the other.
    blocked = await browser.post(
        "/admin/bloqueos/nuevo",
        data={
            "unidad": bosque["id"],
            "entrada": _later(50),
            "salida": _later(52),
            "motivo": "Pintura",
            "csrf_token": csrf,
        },
    )
    assert blocked.status_code == 303, blocked.text
    panel_block = blocked.headers["location"].split("/")[-1].split("?")[0]
    api_block = (
        await client.post(
            "/api/v1/blocks", json=_stay(_later(50), accommodation_id=lago["id"], reason="Pintura")
        )
    ).json()["code"]
    opened = await browser.post(f"/admin/bloqueos/{api_block}/liberar", data={"csrf_token": csrf})
    assert opened.status_code == 303, opened.text
    assert (await client.delete(f"/api/v1/blocks/{panel_block}")).status_code == 200
    panel_made = (await _detail(client, panel_block))["events"]
    api_made = (await _detail(client, api_block))["events"]
    assert [_same(e) for e in panel_made] == [_same(e) for e in api_made]
    assert [(e["from_status"], e["to_status"]) for e in panel_made] == [
        (None, "confirmed"),
        ("confirmed", "cancelled"),
    ]
    assert await _notify_jobs(db) == jobs_before + 2 + 4  # the four stays booked; blocks message nobody


# --- documented ----------------------------------------------------------------------------------


ACTIONS = [
    ("post", "/api/v1/reservations/{code}/change", {"200", "404", "409", "422"}),  # incl. price
    ("post", "/api/v1/reservations/{code}/no-show", {"200", "404", "409", "422"}),
    ("patch", "/api/v1/reservations/{code}/guest", {"200", "404", "422"}),
    ("post", "/api/v1/blocks", {"201", "404", "409", "422"}),
    ("delete", "/api/v1/blocks/{code}", {"200", "404", "409", "422"}),
]


async def test_each_action_is_in_openapi_with_its_errors_in_the_contract_shape(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    error_body = spec["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["error"]
    assert set(spec["components"]["schemas"]["ErrorDetail"]["required"]) == {"code", "message"}
    for method, path, statuses in ACTIONS:
        operation = spec["paths"][path][method]
        assert set(operation["responses"]) == statuses, (method, path)
        assert operation["description"] or operation["summary"]
        for status in statuses - {"200", "201"}:
            response = operation["responses"][status]
            assert response["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }
            assert "`" in response["description"], (path, status)  # names the error codes


async def test_no_route_is_registered_twice(app: FastAPI) -> None:
    """Two routers declaring the same method and path would silently shadow one another."""
    seen: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in route.methods:
                assert (method, route.path) not in seen, (method, route.path)
                seen.add((method, route.path))
