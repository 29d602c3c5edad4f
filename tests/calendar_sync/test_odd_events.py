"""One odd event never stops a feed: every readable event is imported, the odd ones are reported
(with their lines) and keep whatever block they had. RFC 5545 §3.6.1 (VEVENT) and §3.8.5 (recurrence)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.calendar_sync.conftest import FeedHost
from tests.calendar_sync.test_collisions import add_feed, nights, sync
from tests.cli.test_cli import cli
from tests.fixtures.api import today_ar

Y = today_ar().year + 1
# What a person must never read: a Python exception class or a traceback.
INTERNALS = re.compile(r"Traceback|[A-Z][a-z]+(Error|Exception|Format|Property)\b|KeyError|'dt'")

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Feed//EN\r\n"
GOOD_1 = (
    "BEGIN:VEVENT\r\nUID:good-1@example.test\r\nDTSTAMP:20261130T120000Z\r\nDTSTART;VALUE=DATE:20270310\r\n"
    "DTEND;VALUE=DATE:20270313\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n"
)
ODD_2 = "BEGIN:VEVENT\r\nUID:odd-2@example.test\r\nDTSTAMP:20261130T120000Z\r\nSUMMARY:no start at all\r\nEND:VEVENT\r\n"
ODD_3 = (
    "BEGIN:VEVENT\r\nUID:odd-3@example.test\r\nDTSTART:20270401T120000Z\r\nRDATE;VALUE=TIME:133000Z\r\n"
    "END:VEVENT\r\n"
)
ODD_2_READABLE = ODD_2.replace(
    "SUMMARY:", "DTSTART;VALUE=DATE:20270501\r\nDTEND;VALUE=DATE:20270504\r\nSUMMARY:"
)


def ics(*events: str) -> bytes:
    """A calendar of `events`, dated next year (the issue's 2027 moved along with the clock)."""
    return (HEAD + "".join(events) + "END:VCALENDAR\r\n").replace("2027", str(Y)).encode()


def d(month: int, day: int) -> date:
    return date(Y, month, day)


ISSUE_FEED = ics(GOOD_1, ODD_2, ODD_3)


def test_the_issue_feed_through_the_cli(unit: dict[str, Any], clean_db: str, tmp_path: Path) -> None:
    path = tmp_path / "peer.ics"
    path.write_bytes(ISSUE_FEED)
    args = ("ical", "import", str(path), "--accommodation", str(unit["id"]), "--source", "peer")

    first = cli(*args)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "feed 1: applied (2 events, 2 could not be read)",
        "  skipped odd-2@example.test: it has no start date (DTSTART)",
        "  skipped odd-3@example.test: its repetition (RRULE/RDATE/EXDATE) cannot be read;"
        " only its first date was imported",
    ]
    assert not INTERNALS.search(first.stdout + first.stderr)
    # good-1 as sent; odd-3 from its DTSTART (12:00Z is 09:00 in Buenos Aires: the night of April 1).
    assert nights(clean_db, unit["id"]) == [(d(3, 10), d(3, 13)), (d(4, 1), d(4, 2))]

    path.write_bytes(ics(GOOD_1, ODD_2_READABLE, ODD_3))  # later, odd-2 becomes readable
    later = cli(*args)

    assert later.returncode == 0, later.stderr
    assert later.stdout.splitlines()[0] == "feed 1: applied (3 events, 1 could not be read)"
    assert nights(clean_db, unit["id"]) == [(d(3, 10), d(3, 13)), (d(4, 1), d(4, 2)), (d(5, 1), d(5, 4))]


def test_files_that_are_not_calendars_get_one_line_through_the_cli(
    unit: dict[str, Any], tmp_path: Path
) -> None:
    for body in (b"<html>maintenance</html>", b"", b"BEGIN:VEVENT\r\nEND:VEVENT\r\n", b"\xff\xfe\x00garbage"):
        path = tmp_path / "bad.ics"
        path.write_bytes(body)
        refused = cli("ical", "import", str(path), "--accommodation", str(unit["id"]), "--source", "peer")
        assert refused.returncode == 1
        assert (
            refused.stderr.startswith("error: not an iCalendar file")
            and len(refused.stderr.splitlines()) == 1
        )
        assert not INTERNALS.search(refused.stderr), refused.stderr


async def test_the_issue_feed_through_the_url_sync_and_a_skipped_event_keeps_its_block(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    feed_id = await add_feed(api, unit, feeds, ics(GOOD_1, ODD_2_READABLE, ODD_3))
    await sync(api, feed_id)
    assert nights(clean_db, unit["id"]) == [(d(3, 10), d(3, 13)), (d(4, 1), d(4, 2)), (d(5, 1), d(5, 4))]

    # odd-2 turns unreadable and good-1 is cancelled: odd-2's nights stay blocked, good-1's are freed.
    feeds.files["airbnb.ics"] = ics(ODD_2, ODD_3)
    result = await sync(api, feed_id)

    assert (result["status"], result["events"]) == ("applied", 1)
    assert [(s["uid"], s["reason"], s["partial"]) for s in result["skipped"]] == [
        ("odd-2@example.test", "no_start", False),
        ("odd-3@example.test", "bad_recurrence", True),
    ]
    assert result["skipped"][0]["raw"] == ODD_2.removesuffix("\r\n")
    assert nights(clean_db, unit["id"]) == [(d(4, 1), d(4, 2)), (d(5, 1), d(5, 4))]
    [listed] = (await api.get(f"/api/v1/accommodations/{unit['id']}/feeds")).json()
    assert [s["uid"] for s in listed["skipped_events"]] == ["odd-2@example.test", "odd-3@example.test"]
    assert listed["last_error"] is None

    feeds.files["airbnb.ics"] = ics(ODD_2_READABLE.replace("20270501", "20270502"), ODD_3)
    await sync(api, feed_id)  # readable again, and moved: applied
    assert nights(clean_db, unit["id"]) == [(d(4, 1), d(4, 2)), (d(5, 2), d(5, 4))]
    metrics = (await api.get("/metrics")).text
    assert 'alojamientos_errors_total{where="ical.event_skipped"}' in metrics


def event(uid: str, *lines: str) -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261130T120000Z\r\n"
        + "".join(f"{x}\r\n" for x in lines)
        + ("END:VEVENT\r\n")
    )


# Each odd kind next to good-1: what is skipped (uid, reason) and the nights the odd event blocks.
ODD_KINDS: dict[str, tuple[str, list[tuple[str | None, str]], list[tuple[date, date]]]] = {
    "two_dtstart": (
        event("odd@x", "DTSTART;VALUE=DATE:20270320", "DTSTART;VALUE=DATE:20270321", "DTEND;VALUE=DATE:20270323"),
        [("odd@x", "two_starts")], [],
    ),
    "no_dtstart": (event("odd@x", "DTEND;VALUE=DATE:20270323"), [("odd@x", "no_start")], []),
    "broken_dtstart": (event("odd@x", "DTSTART:nonsense"), [("odd@x", "bad_start")], []),
    "broken_dtend": (
        event("odd@x", "DTSTART;VALUE=DATE:20270320", "DTEND;VALUE=DATE:2027032"), [("odd@x", "bad_end")], []
    ),
    "rdate_list": (  # a list is valid (§3.8.5.2): every date is imported, nothing skipped
        event("odd@x", "DTSTART;VALUE=DATE:20270320", "DTEND;VALUE=DATE:20270322",
              "RDATE;VALUE=DATE:20270401,20270410"),
        [], [(d(3, 20), d(3, 22)), (d(4, 1), d(4, 3)), (d(4, 10), d(4, 12))],
    ),
    "rdate_period_list": (
        event("odd@x", "DTSTART:20270320T150000Z", "DTEND:20270322T130000Z",
              "RDATE;VALUE=PERIOD:20270401T150000Z/20270403T130000Z,20270410T150000Z/P2D"),
        [], [(d(3, 20), d(3, 22)), (d(4, 1), d(4, 3)), (d(4, 10), d(4, 12))],
    ),
    "rdate_time": (
        event("odd@x", "DTSTART:20270320T120000Z", "RDATE;VALUE=TIME:133000Z"),
        [("odd@x", "bad_recurrence")], [(d(3, 20), d(3, 21))],
    ),
    "rrule_rscale": (
        event("odd@x", "DTSTART;VALUE=DATE:20270320", "DTEND;VALUE=DATE:20270322",
              "RRULE:RSCALE=CHINESE;FREQ=YEARLY;COUNT=2"),
        [("odd@x", "bad_recurrence")], [(d(3, 20), d(3, 22))],
    ),
    "rrule_bad_until": (
        event("odd@x", "DTSTART;VALUE=DATE:20270320", "DTEND;VALUE=DATE:20270322",
              "RRULE:FREQ=WEEKLY;UNTIL=2027XX01"),
        [("odd@x", "bad_recurrence")], [(d(3, 20), d(3, 22))],
    ),
    "invalid_duration": (
        event("odd@x", "DTSTART;VALUE=DATE:20270320", "DURATION:P1X"), [("odd@x", "bad_duration")], []
    ),
    "no_uid": (
        "BEGIN:VEVENT\r\nSUMMARY:no uid, no start\r\nEND:VEVENT\r\n", [(None, "no_start")], []
    ),
    "second_vcalendar": (  # read like the first one
        "END:VCALENDAR\r\n" + HEAD + event("odd@x", "DTSTART;VALUE=DATE:20270320", "DTEND;VALUE=DATE:20270322"),
        [], [(d(3, 20), d(3, 22))],
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", ODD_KINDS)
async def test_each_odd_kind_skips_only_itself(
    kind: str, api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, clean_db: str
) -> None:
    odd, skipped, blocked = ODD_KINDS[kind]
    feed_id = await add_feed(api, unit, feeds, ics(GOOD_1, odd))

    result = await sync(api, feed_id)

    assert (result["status"], result["error"]) == ("applied", None)
    assert [(s["uid"], s["reason"]) for s in result["skipped"]] == skipped
    assert sorted(nights(clean_db, unit["id"])) == sorted([(d(3, 10), d(3, 13)), *blocked])
    assert not INTERNALS.search(str(result))
