"""A channel's stay that collides with one of ours: the free nights stay blocked, the collision is
alerted, and no night the channel holds is ever bookable here. Identities survive moves."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import icalendar
import pytest

from alojamientos.jobs.worker import Worker
from alojamientos.kit.clock import utc_now
from tests.calendar_sync.conftest import FeedHost
from tests.calendar_sync.test_import import blocks
from tests.fixtures.api import hold, today_ar

Y = today_ar().year + 1


def j(day: int, month: int = 6) -> date:
    return date(Y, month, day)


def calendar(*events: tuple[str, date, date]) -> bytes:
    """An Airbnb-style feed: all-day events `(uid, check_in, check_out)`."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN"]
    for uid, start, end in events:
        lines += [
            "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261130T120000Z",
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}", f"DTEND;VALUE=DATE:{end:%Y%m%d}",
            "SUMMARY:Reserved", "END:VEVENT",
        ]  # fmt: skip
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


async def add_feed(api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, body: bytes) -> int:
    feeds.files["airbnb.ics"] = body
    response = await api.post(
        f"/api/v1/accommodations/{unit['id']}/feeds", json={"name": "airbnb", "url": feeds.url("airbnb.ics")}
    )
    assert response.status_code == 201, response.text
    feed_id: int = response.json()["id"]
    return feed_id


async def sync(api: httpx.AsyncClient, feed_id: int) -> dict[str, Any]:
    response = await api.post(f"/api/v1/feeds/{feed_id}/sync")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def nights(url: str, unit_id: int) -> list[tuple[date, date]]:
    return [(a, b) for a, b, *_ in blocks(url, unit_id)]


async def bookable(api: httpx.AsyncClient, unit: dict[str, Any], start: date, end: date) -> bool:
    """Whether any single night of `[start, end)` can be held here (each night tried on its own)."""
    for night in range((end - start).days):
        day = date.fromordinal(start.toordinal() + night)
        params = {"check_in": day.isoformat(), "check_out": date.fromordinal(day.toordinal() + 1).isoformat()}
        offered = (await api.get("/api/v1/availability", params={**params, "guests": 2})).json()["available"]
        if offered:
            return True
    return False


# Our hold, the channel's stay [23, 27), and the nights that must stay blocked for the channel.
COLLISIONS = {
    "at_the_start": ([(22, 24)], [(24, 27)]),  # the input
    "in_the_middle": ([(24, 25)], [(23, 24), (25, 27)]),
    "at_the_end": ([(25, 29)], [(23, 25)]),
    "whole": ([(20, 30)], []),
    "two_holds": ([(22, 24), (25, 26)], [(24, 25), (26, 27)]),
}


@pytest.mark.parametrize("kind", COLLISIONS)
async def test_a_stay_colliding_with_our_hold_keeps_its_free_nights_blocked(
    kind: str, api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    ours, expected = COLLISIONS[kind]
    codes = []
    for start, end in ours:
        held = await hold(api, unit["id"], j(start), end - start)
        assert held.status_code == 201, held.text
        codes.append(held.json()["code"])
    feed_id = await add_feed(api, unit, feeds, calendar(("HMMOVED@airbnb.com", j(23), j(27))))

    result = await sync(api, feed_id)

    assert (result["status"], result["events"], result["conflicts"]) == ("applied", 1, ["HMMOVED@airbnb.com"])
    assert nights(clean_db, unit["id"]) == [(j(a), j(b)) for a, b in expected]
    # No night the channel holds can be booked here: the free ones are blocked, the rest are ours.
    assert not await bookable(api, unit, j(23), j(27))
    late = await hold(api, unit["id"], j(24), 3)
    assert late.status_code == 409, late.text
    [alert] = [a for a in (await api.get("/api/v1/alerts")).json() if a["kind"] == "calendar_conflict"]
    assert alert["data"]["uid"] == "HMMOVED@airbnb.com"
    assert sorted(alert["data"]["collides_with"]) == sorted(codes)
    assert alert["data"]["blocked"] == [[j(a).isoformat(), j(b).isoformat()] for a, b in expected]
    assert f"del {j(23):%d/%m/%Y} al {j(27):%d/%m/%Y}" in alert["message"]
    # The same collision on the next sync is not a new alert.
    await sync(api, feed_id)
    assert len([a for a in (await api.get("/api/v1/alerts")).json() if a["kind"] == "calendar_conflict"]) == 1


async def test_when_our_hold_goes_the_channel_gets_every_night_back_under_the_same_identity(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    held = (await hold(api, unit["id"], j(24), 1)).json()
    feed_id = await add_feed(api, unit, feeds, calendar(("HMSPLIT@airbnb.com", j(22), j(27))))
    await sync(api, feed_id)
    assert nights(clean_db, unit["id"]) == [(j(22), j(24)), (j(25), j(27))]
    first = [r for r in (await api.get("/api/v1/reservations", params={"kind": "block"})).json()["items"]]
    assert (await api.post(f"/api/v1/reservations/{held['code']}/cancel")).status_code == 200

    result = await sync(api, feed_id)  # a feed with collisions is fetched in full again

    assert result["conflicts"] == []
    assert nights(clean_db, unit["id"]) == [(j(22), j(27))]
    [after] = (await api.get("/api/v1/reservations", params={"kind": "block"})).json()["items"]
    assert after["code"] == min(first, key=lambda r: r["check_in"])["code"]


async def test_a_moved_stay_keeps_its_block_and_the_uid_we_export(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    feed_id = await add_feed(
        api, unit, feeds, calendar(("HMA@airbnb.com", j(10), j(13)), ("HMB@airbnb.com", j(15), j(18)))
    )
    await sync(api, feed_id)
    before = {r["check_in"]: r["code"] for r in (await export_items(api, unit))}
    exported = await exported_uids(api, unit)

    # A moves onto B's old nights and B moves on: updated in place, whatever the order.
    feeds.files["airbnb.ics"] = calendar(("HMA@airbnb.com", j(14), j(17)), ("HMB@airbnb.com", j(17), j(20)))
    result = await sync(api, feed_id)

    assert (result["status"], result["conflicts"]) == ("applied", [])
    assert nights(clean_db, unit["id"]) == [(j(14), j(17)), (j(17), j(20))]
    after = {r["check_in"]: r["code"] for r in (await export_items(api, unit))}
    assert after[j(14).isoformat()] == before[j(10).isoformat()]
    assert after[j(17).isoformat()] == before[j(15).isoformat()]
    assert await exported_uids(api, unit) == exported  # what Booking.com imports from us: same events


async def export_items(api: httpx.AsyncClient, unit: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.get("/api/v1/reservations", params={"kind": "block"})).json()[
        "items"
    ]
    return items


async def exported_uids(api: httpx.AsyncClient, unit: dict[str, Any]) -> set[str]:
    path = unit["ical_export_url"].removeprefix("https://reservas.example.com")
    raw = (await api.get(path)).content
    return {str(e["UID"]) for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")}


async def test_occurrences_of_a_series_stay_distinct_and_overlapping_events_are_no_conflict(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    series = (
        f"BEGIN:VEVENT\r\nUID:weekly@google.com\r\nDTSTART;VALUE=DATE:{j(1, 7):%Y%m%d}\r\n"
        f"DTEND;VALUE=DATE:{j(3, 7):%Y%m%d}\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\nSUMMARY:Dueño\r\nEND:VEVENT\r\n"
    )
    # Smoobu-style: a second event over the same stay's nights.
    body = calendar(("HMA@airbnb.com", j(10, 7), j(14, 7)), ("echo@airbnb.com", j(12, 7), j(16, 7)))
    feed_id = await add_feed(
        api, unit, feeds, body.replace(b"END:VCALENDAR", series.encode() + b"END:VCALENDAR")
    )

    result = await sync(api, feed_id)

    assert (result["events"], result["conflicts"]) == (4, [])
    assert nights(clean_db, unit["id"]) == [
        (j(1, 7), j(3, 7)), (j(8, 7), j(10, 7)), (j(10, 7), j(14, 7)), (j(14, 7), j(16, 7)),
    ]  # fmt: skip
    assert [a for a in (await api.get("/api/v1/alerts")).json() if a["kind"] == "calendar_conflict"] == []


async def test_the_worker_blocks_the_nights_our_cancelled_hold_let_go_without_waiting(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, cal_worker: Worker, clean_db: str
) -> None:
    held = (await hold(api, unit["id"], j(22), 2)).json()
    await add_feed(api, unit, feeds, calendar(("HMMOVED@airbnb.com", j(23), j(27))))
    await cal_worker.run_periodic(utc_now(), force=True)  # the first, scheduled sync
    await cal_worker.run_pending()
    assert nights(clean_db, unit["id"]) == [(j(24), j(27))]
    await cal_worker.run_periodic(utc_now(), force=True)  # nothing freed, the interval not over: no sync
    await cal_worker.run_pending()
    requests = feeds.requests

    assert (await api.post(f"/api/v1/reservations/{held['code']}/cancel")).status_code == 200
    await cal_worker.run_periodic(utc_now(), force=True)
    await cal_worker.run_pending()

    assert feeds.requests == requests + 1
    assert nights(clean_db, unit["id"]) == [(j(23), j(27))]
    assert not await bookable(api, unit, j(23), j(27))
    alerts = [a for a in (await api.get("/api/v1/alerts")).json() if a["kind"] == "calendar_conflict"]
    assert alerts == []  # the collision is over, so is its alert
