"""Importing other channels' calendars: conventions, atomic replace per source, failures, conflicts."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from alojamientos.calendar_sync.ical_import import IcalError, parse_feed
from alojamientos.jobs.worker import Worker
from alojamientos.kit.clock import utc_now
from tests.calendar_sync.conftest import FeedHost, feed
from tests.cli.test_cli import cli
from tests.fixtures.api import today_ar
from tests.fixtures.database import psycopg_url

Y = today_ar().year + 1
TZ = __import__("zoneinfo").ZoneInfo("America/Argentina/Buenos_Aires")


def d(month: int, day: int) -> date:
    return date(Y, month, day)


def stays(events: list[Any]) -> list[tuple[date, date, str, bool]]:
    return [(e.check_in, e.check_out, e.summary, e.is_block) for e in events]


def parse(name: str) -> list[Any]:
    return parse_feed(feed(name), tz=TZ, start=today_ar(), end=today_ar() + timedelta(days=540)).events


def test_airbnb_export_dtend_exclusive_and_one_night_without_dtend() -> None:
    assert stays(parse("airbnb.ics")) == [
        (d(1, 8), d(1, 12), "Reserved", False),
        (d(1, 18), d(1, 20), "Airbnb (Not available)", True),
        (d(2, 1), d(2, 2), "Reserved", False),
    ]


def test_booking_export_duration_honoured_and_cancelled_ignored() -> None:
    assert stays(parse("booking.ics")) == [
        (d(1, 22), d(1, 25), "CLOSED - Not available", True),
        (d(3, 1), d(3, 4), "CLOSED - Not available", True),
    ]


def test_vrbo_timed_events_by_local_date_with_tzid_and_utc() -> None:
    assert stays(parse("vrbo.ics")) == [
        (d(2, 10), d(2, 13), "Reserved - Martina", False),
        # 02:00Z on the 20th is 23:00 on the 19th in Buenos Aires; 13:00Z on the 21st is 10:00 there.
        (d(2, 19), d(2, 21), "Blocked", True),
    ]


def test_google_floating_times_use_x_wr_timezone_and_rrules_expand() -> None:
    assert [(a, b) for a, b, *_ in stays(parse("google.ics"))] == [
        (d(3, 1), d(3, 2)),  # 22:00 to 09:00 next day: one night, at least
        (d(4, 5), d(4, 6)),
        (d(4, 12), d(4, 13)),
        (d(4, 19), d(4, 20)),
    ]


def test_garbage_is_refused_with_a_reason() -> None:
    for junk in (b"", b"hello", b"<html>maintenance</html>", b"BEGIN:VEVENT\r\nEND:VEVENT\r\n"):
        try:
            parse_feed(junk, tz=TZ, start=today_ar(), end=today_ar() + timedelta(days=30))
        except IcalError as exc:
            assert str(exc).startswith("not an iCalendar file") and "Error" not in str(exc)
            continue
        raise AssertionError(f"accepted {junk!r}")
    # A calendar whose one event is unreadable is not garbage: the event is reported, the feed read.
    broken = (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:nonsense\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    parsed = parse_feed(broken, tz=TZ, start=today_ar(), end=today_ar() + timedelta(days=30))
    assert parsed.events == [] and [(s.uid, s.reason) for s in parsed.skipped] == [("x", "bad_start")]


def blocks(url: str, unit_id: int) -> list[tuple[Any, ...]]:
    with psycopg.connect(psycopg_url(url)) as conn:
        return conn.execute(
            "SELECT r.check_in, r.check_out, f.source, r.guest_name FROM reservations r JOIN ical_feeds f"
            " ON f.id = r.feed_id WHERE r.accommodation_id = %s AND r.kind = 'block' ORDER BY r.check_in",
            (unit_id,),
        ).fetchall()


def test_cli_import_replaces_one_source_and_leaves_the_others(
    unit: dict[str, Any], clean_db: str, tmp_path: Path
) -> None:
    airbnb, booking = tmp_path / "airbnb.ics", tmp_path / "booking.ics"
    airbnb.write_bytes(feed("airbnb.ics"))
    booking.write_bytes(feed("booking.ics"))
    uid = str(unit["id"])
    first = cli("ical", "import", str(airbnb), "--accommodation", uid, "--source", "airbnb")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("applied (3 events)")
    assert cli("ical", "import", str(booking), "--accommodation", uid, "--source", "booking").returncode == 0
    assert [(a, b, s) for a, b, s, _ in blocks(clean_db, unit["id"])] == [
        (d(1, 8), d(1, 12), "airbnb"),
        (d(1, 18), d(1, 20), "airbnb"),
        (d(1, 22), d(1, 25), "booking"),
        (d(2, 1), d(2, 2), "airbnb"),
        (d(3, 1), d(3, 4), "booking"),
    ]
    # Airbnb drops a stay: only that source's dates are released.
    text = airbnb.read_bytes()
    start = text.index(b"BEGIN:VEVENT")
    airbnb.write_bytes(text[:start] + text[text.index(b"END:VEVENT") + len(b"END:VEVENT\r\n") :])
    assert cli("ical", "import", str(airbnb), "--accommodation", uid, "--source", "airbnb").returncode == 0
    assert [(a, s) for a, _, s, _ in blocks(clean_db, unit["id"])] == [
        (d(1, 18), "airbnb"),
        (d(1, 22), "booking"),
        (d(2, 1), "airbnb"),
        (d(3, 1), "booking"),
    ]
    bad = tmp_path / "bad.ics"
    bad.write_bytes(b"<html>not a calendar</html>")
    refused = cli("ical", "import", str(bad), "--accommodation", uid, "--source", "airbnb")
    assert refused.returncode == 1 and refused.stderr.startswith("error: not an iCalendar file")
    assert len(blocks(clean_db, unit["id"])) == 4  # unchanged
    assert (
        cli(
            "ical", "import", str(tmp_path / "missing.ics"), "--accommodation", uid, "--source", "x1"
        ).returncode
        == 1
    )


async def test_blocked_dates_are_not_offered_and_cannot_be_held(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost
) -> None:
    feeds.files["airbnb.ics"] = feed("airbnb.ics")
    registered = await api.post(
        f"/api/v1/accommodations/{unit['id']}/feeds", json={"name": "airbnb", "url": feeds.url("airbnb.ics")}
    )
    assert registered.status_code == 201, registered.text
    synced = await api.post(f"/api/v1/feeds/{registered.json()['id']}/sync")
    assert synced.json() == {
        "feed_id": registered.json()["id"],
        "status": "applied",
        "events": 3,
        "conflicts": [],
        "error": None,
        "skipped": [],
    }
    params = {"check_in": d(1, 9).isoformat(), "check_out": d(1, 11).isoformat(), "guests": 2}
    assert (await api.get("/api/v1/availability", params=params)).json()["available"] == []
    held = await api.post(
        "/api/v1/reservations",
        json={
            "accommodation_id": unit["id"],
            "check_in": d(1, 10).isoformat(),
            "check_out": d(1, 13).isoformat(),
            "guests": 2,
            "guest_name": "Ana",
            "guest_phone": "+5491155551234",
        },
    )
    assert held.status_code == 409
    conflict = held.json()["error"]["conflict"]
    assert conflict.pop("kind") == "block" and conflict.pop("code")
    assert conflict == {
        "check_in": d(1, 8).isoformat(),
        "check_out": d(1, 12).isoformat(),
    }
    stays_only = (await api.get("/api/v1/reservations")).json()
    assert stays_only["items"] == []
    assert len((await api.get("/api/v1/reservations", params={"kind": "block"})).json()["items"]) == 3


async def test_url_sync_is_conditional_and_failures_change_nothing(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    feeds.files["booking.ics"] = feed("booking.ics")
    feed_id = (
        await api.post(
            f"/api/v1/accommodations/{unit['id']}/feeds",
            json={"name": "booking", "url": feeds.url("booking.ics")},
        )
    ).json()["id"]
    assert (await api.post(f"/api/v1/feeds/{feed_id}/sync")).json()["status"] == "applied"
    assert (await api.post(f"/api/v1/feeds/{feed_id}/sync")).json()["status"] == "unchanged"
    assert feeds.not_modified == 1
    feeds.status = 500
    for _attempt in range(3):
        result = (await api.post(f"/api/v1/feeds/{feed_id}/sync")).json()
        assert (result["status"], result["error"]) == ("failed", "the feed answered HTTP 500")
    assert len(blocks(clean_db, unit["id"])) == 2
    [listed] = (await api.get(f"/api/v1/accommodations/{unit['id']}/feeds")).json()
    assert (listed["consecutive_failures"], listed["last_error"]) == (3, "the feed answered HTTP 500")
    assert [a["kind"] for a in (await api.get("/api/v1/alerts")).json()] == ["calendar_failing"]
    feeds.status = 200
    feeds.files["booking.ics"] = b"<html>maintenance</html>"
    assert (await api.post(f"/api/v1/feeds/{feed_id}/sync")).json()["status"] == "failed"
    assert len(blocks(clean_db, unit["id"])) == 2


async def test_a_feed_that_suddenly_empties_is_trusted_only_the_second_time(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    feeds.files["airbnb.ics"] = feed("airbnb.ics")
    feed_id = (
        await api.post(
            f"/api/v1/accommodations/{unit['id']}/feeds",
            json={"name": "airbnb", "url": feeds.url("airbnb.ics")},
        )
    ).json()["id"]
    await api.post(f"/api/v1/feeds/{feed_id}/sync")
    feeds.files["airbnb.ics"] = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nEND:VCALENDAR\r\n"
    )
    assert (await api.post(f"/api/v1/feeds/{feed_id}/sync")).json()["status"] == "empty_pending"
    assert len(blocks(clean_db, unit["id"])) == 3
    assert "calendar_empty" in [a["kind"] for a in (await api.get("/api/v1/alerts")).json()]
    assert (await api.post(f"/api/v1/feeds/{feed_id}/sync")).json()["status"] == "applied"
    assert blocks(clean_db, unit["id"]) == []


async def test_an_overlap_with_our_stay_is_a_stored_conflict_and_the_rest_applies(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    ours = await api.post(
        "/api/v1/reservations",
        json={
            "accommodation_id": unit["id"],
            "check_in": d(1, 10).isoformat(),
            "check_out": d(1, 14).isoformat(),
            "guests": 2,
            "guest_name": "Ana",
            "guest_phone": "+5491155551234",
            "status": "confirmed",
        },
    )
    assert ours.status_code == 201
    feeds.files["airbnb.ics"] = feed("airbnb.ics")
    feed_id = (
        await api.post(
            f"/api/v1/accommodations/{unit['id']}/feeds",
            json={"name": "airbnb", "url": feeds.url("airbnb.ics")},
        )
    ).json()["id"]
    for _ in range(2):  # the same conflict twice: one alert
        result = (await api.post(f"/api/v1/feeds/{feed_id}/sync")).json()
        feeds.files["airbnb.ics"] += b""  # same content, new request
    assert result["events"] == 3 and len(result["conflicts"]) == 1
    # Airbnb's [8, 12) meets our [10, 14): its free nights 8 and 9 stay blocked.
    assert [(a, b) for a, b, *_ in blocks(clean_db, unit["id"])] == [
        (d(1, 8), d(1, 10)),
        (d(1, 18), d(1, 20)),
        (d(2, 1), d(2, 2)),
    ]
    alerts = [a for a in (await api.get("/api/v1/alerts")).json() if a["kind"] == "calendar_conflict"]
    assert len(alerts) == 1 and alerts[0]["data"]["check_in"] == d(1, 8).isoformat()


async def test_private_addresses_are_refused_unless_allowed(
    unit: dict[str, Any], operator: None, clean_db: str
) -> None:
    from alojamientos.config import Settings
    from alojamientos.main import create_app
    from tests.fixtures.api import OPERATOR_EMAIL, OPERATOR_PASSWORD

    app = create_app(Settings(ical_allow_private_urls=False))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            token = await client.post(
                "/api/v1/auth/token", data={"username": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}
            )
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            for url in (
                "http://127.0.0.1:8000/x.ics",
                "http://10.0.0.5/cal.ics",
                "http://[::1]/a.ics",
                "file:///etc/passwd",
                "ftp://example.com/a.ics",
                "http://localhost/a.ics",
            ):
                response = await client.post(
                    f"/api/v1/accommodations/{unit['id']}/feeds", json={"name": "airbnb", "url": url}
                )
                assert response.status_code == 422, (url, response.text)


async def test_the_worker_syncs_feeds_periodically_and_health_notices_staleness(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, cal_worker: Worker, clean_db: str
) -> None:
    feeds.files["vrbo.ics"] = feed("vrbo.ics")
    await api.post(
        f"/api/v1/accommodations/{unit['id']}/feeds", json={"name": "vrbo", "url": feeds.url("vrbo.ics")}
    )
    await cal_worker.run_periodic(utc_now(), force=True)
    await cal_worker.run_pending()
    assert len(blocks(clean_db, unit["id"])) == 2
    health = (await api.get("/api/v1/healthz")).json()
    assert health["checks"]["calendars"]["status"] == "healthy"
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute("UPDATE ical_feeds SET last_success_at = now() - interval '25 minutes'")
    health = (await api.get("/api/v1/healthz")).json()
    assert (health["status"], health["checks"]["calendars"]["status"]) == ("degraded", "degraded")
    metrics = (await api.get("/metrics")).text
    assert 'alojamientos_ical_sync_lag_seconds{feed="1",source="vrbo"}' in metrics
