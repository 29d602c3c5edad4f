"""Feed names as operators type them (issue 11, point 7): "Airbnb", "Booking.com", "Cabaña 3" are
accepted and stored as keys; only a name with no letters or digits is refused, saying what it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from alojamientos.kit.inputs import key_for, slug
from tests.calendar_sync.conftest import FeedHost, feed
from tests.cli.test_cli import cli


@pytest.mark.parametrize(
    ("typed", "source"),
    [
        ("Airbnb", "airbnb"),
        ("Booking.com", "booking"),
        ("Cabaña 3", "cabana-3"),
        ("  VRBO  ", "vrbo"),
        ("Google Calendar", "google-calendar"),
        ("airbnb.com.ar", "airbnb"),
        ("Mi_Calendario", "mi-calendario"),
    ],
)
async def test_the_api_takes_the_name_as_typed(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, typed: str, source: str
) -> None:
    feeds.files["cal.ics"] = feed("airbnb.ics")
    response = await api.post(
        f"/api/v1/accommodations/{unit['id']}/feeds", json={"name": typed, "url": feeds.url("cal.ics")}
    )
    assert response.status_code == 201, response.text
    assert response.json()["source"] == source


async def test_the_same_channel_typed_twice_is_one_feed(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost
) -> None:
    feeds.files["cal.ics"] = feed("booking.ics")
    url = f"/api/v1/accommodations/{unit['id']}/feeds"
    first = await api.post(url, json={"name": "Booking.com", "url": feeds.url("cal.ics")})
    assert first.status_code == 201, first.text
    again = await api.post(url, json={"name": "booking", "url": feeds.url("cal.ics")})
    assert again.status_code == 409 and again.json()["error"]["code"] == "feed_exists"


@pytest.mark.parametrize("typed", ["!!!", "—", "日本"])
async def test_a_name_without_letters_or_digits_says_what_it_needs(
    api: httpx.AsyncClient, unit: dict[str, Any], feeds: FeedHost, typed: str
) -> None:
    response = await api.post(
        f"/api/v1/accommodations/{unit['id']}/feeds", json={"name": typed, "url": feeds.url("cal.ics")}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_feed" and error["field"] == "name"
    assert error["message"] == f"{typed!r}: name the calendar with letters or digits, e.g. Airbnb"
    assert "pattern" not in error["message"]


def test_the_cli_takes_the_source_as_typed(unit: dict[str, Any], clean_db: str, tmp_path: Path) -> None:
    booking = tmp_path / "booking.ics"
    booking.write_bytes(feed("booking.ics"))
    done = cli("ical", "import", str(booking), "--accommodation", str(unit["id"]), "--source", "Booking.com")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("applied (2 events)")
    refused = cli("ical", "import", str(booking), "--accommodation", str(unit["id"]), "--source", "¿?")
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        == "error: --source '¿?' has no letters or digits: name the calendar, e.g. Airbnb"
    )


def test_slug_and_key_table() -> None:
    assert [slug(s) for s in ("Airbnb", "Booking.com", "Cabaña 3", "  ¡Hola!  ", "", "ÑANDÚ")] == [
        "airbnb",
        "booking-com",
        "cabana-3",
        "hola",
        "",
        "nandu",
    ]
    assert slug("x" * 50 + " y") == "x" * 40
    flags = ("mercadopago", "ical_sync", "whatsapp_auto_replies", "email")
    assert [key_for(s, flags) for s in ("Mercado Pago", "iCal sync", "E-mail", "WhatsApp auto-replies")] == [
        "mercadopago",
        "ical_sync",
        "email",
        "whatsapp_auto_replies",
    ]
    assert key_for("Wi-Fi", ("wifi",)) == "wifi" and key_for("Pileta", ("wifi",)) == "pileta"
