"""Our availability, as Airbnb and Booking.com import it."""

from __future__ import annotations

from typing import Any

import httpx
import icalendar

from tests.fixtures.api import today_ar


async def test_export_is_valid_rfc5545_without_guest_data(
    api: httpx.AsyncClient, unit: dict[str, Any]
) -> None:
    start = today_ar()
    from datetime import timedelta

    made = []
    for offset, status in ((5, "pre_reserved"), (12, "confirmed"), (20, "confirmed")):
        response = await api.post(
            "/api/v1/reservations",
            json={
                "accommodation_id": unit["id"],
                "check_in": (start + timedelta(days=offset)).isoformat(),
                "check_out": (start + timedelta(days=offset + 3)).isoformat(),
                "guests": 2,
                "guest_name": "Ana Pérez Secreta",
                "guest_phone": "+5491155551234",
                "guest_email": "ana@example.com",
                "status": status,
            },
        )
        made.append(response.json()["code"])
    await api.post(f"/api/v1/reservations/{made[2]}/cancel")

    url = unit["ical_export_url"]
    assert url.startswith(f"https://reservas.example.com/api/v1/ical/{unit['id']}.ics?token=")
    path = url.removeprefix("https://reservas.example.com")
    first = await api.get(path, headers={"Authorization": ""})
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    raw = first.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded
    assert b"\n" not in raw.replace(b"\r\n", b"")
    for secret in (b"Ana", b"P\xc3\xa9rez", b"5491155551234", b"ana@example.com"):
        assert secret not in raw
    calendar = icalendar.Calendar.from_ical(raw)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = calendar.walk("VEVENT")
    assert [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in events] == [
        (start + timedelta(days=5), start + timedelta(days=8)),
        (start + timedelta(days=12), start + timedelta(days=15)),
    ]  # the cancelled stay is gone
    assert b"DTSTART;VALUE=DATE:" in raw and b"DTEND;VALUE=DATE:" in raw
    second = await api.get(path)
    assert [e["UID"] for e in icalendar.Calendar.from_ical(second.content).walk("VEVENT")] == [
        e["UID"] for e in events
    ]


async def test_wrong_missing_or_rotated_tokens_are_refused(
    api: httpx.AsyncClient, unit: dict[str, Any]
) -> None:
    base = f"/api/v1/ical/{unit['id']}.ics"
    assert (await api.get(base)).status_code == 404
    assert (await api.get(base, params={"token": "nope"})).status_code == 404
    assert (await api.get("/api/v1/ical/999.ics", params={"token": "x"})).status_code == 404
    old = unit["ical_export_url"].split("token=")[1]
    assert (await api.get(base, params={"token": old})).status_code == 200
    rotated = (await api.post(f"/api/v1/accommodations/{unit['id']}/ical-token")).json()["ical_export_url"]
    assert (await api.get(base, params={"token": old})).status_code == 404
    assert (await api.get(base, params={"token": rotated.split("token=")[1]})).status_code == 200
