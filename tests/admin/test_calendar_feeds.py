"""The feed page (Ajustes → Calendarios) when a feed holds odd events or is not a calendar at all:
the operator reads why in plain Spanish, sees the raw lines, and never a Python exception."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.admin.conftest import Panel, log_in, screenshot
from tests.calendar_sync.test_odd_events import GOOD_1, INTERNALS, ISSUE_FEED, ODD_2_READABLE, ODD_3, Y, ics
from tests.fakes.http import ThreadedServer


@dataclass
class Feeds:
    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)


@pytest.fixture(scope="module")
def feeds() -> Iterator[Feeds]:
    host = Feeds()

    async def serve(request: Request) -> Response:
        body = host.files.get(request.path_params["name"])
        return Response(status_code=404) if body is None else Response(body, media_type="text/calendar")

    server = ThreadedServer(Starlette(routes=[Route("/{name}", serve)]))
    server.start()
    host.base = server.base
    yield host
    server.stop()


def add_and_sync(page: Page, panel: Panel, name: str, url: str) -> None:
    page.goto(f"{panel.base}/admin/ajustes/calendarios")
    page.get_by_label("Nombre del calendario").fill(name)
    page.get_by_label("Dirección del calendario (.ics)").fill(url)
    page.get_by_role("button", name="Agregar calendario").click()
    page.locator(".ajustes-feed", has_text=name).get_by_role("button", name="Sincronizar ahora").click()


def test_odd_events_are_listed_with_their_lines_and_the_rest_is_blocked(
    panel: Panel, page: Page, feeds: Feeds
) -> None:
    unit = panel.unit()
    feeds.files["peer.ics"] = ISSUE_FEED
    log_in(page, panel.base)

    add_and_sync(page, panel, "peer", f"{feeds.base}/peer.ics")

    expect(page.get_by_role("status")).to_contain_text("sincronizamos el calendario")
    feed = page.locator(".ajustes-feed", has_text="peer")
    expect(feed).to_contain_text("2 eventos no se pudieron leer")
    expect(feed).to_contain_text("odd-2@example.test: No tiene fecha de inicio (DTSTART); no se importó.")
    expect(feed).to_contain_text(
        "odd-3@example.test: Su repetición (RRULE, RDATE o EXDATE) no se entiende: importamos solo su primera fecha."
    )
    raw = feed.get_by_role("listitem").filter(has_text="odd-2@example.test")
    raw.get_by_text("Ver el texto del evento").click()
    expect(raw.locator("pre")).to_contain_text("SUMMARY:no start at all")
    expect(feed.locator("dd").nth(1)).to_have_text("2")  # good-1 and odd-3's first date
    assert panel.sql(
        "SELECT check_in::text, check_out::text FROM reservations WHERE accommodation_id = %s ORDER BY 1",
        unit["id"],
    ) == [(f"{Y}-03-10", f"{Y}-03-13"), (f"{Y}-04-01", f"{Y}-04-02")]
    assert not INTERNALS.search(page.locator("main").inner_text())
    scroll = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert scroll <= 0  # the raw lines wrap on a phone
    screenshot(page, "ajustes-calendarios-eventos-sin-leer")

    feeds.files["peer.ics"] = ics(GOOD_1, ODD_2_READABLE, ODD_3)  # odd-2 becomes readable
    page.locator(".ajustes-feed", has_text="peer").get_by_role("button", name="Sincronizar ahora").click()

    feed = page.locator(".ajustes-feed", has_text="peer")
    expect(feed).to_contain_text("1 evento no se pudo leer")
    expect(feed).not_to_contain_text("odd-2@example.test")
    expect(feed.locator("dd").nth(1)).to_have_text("3")


def test_a_feed_that_is_not_a_calendar_says_so_in_spanish(panel: Panel, page: Page, feeds: Feeds) -> None:
    panel.unit()
    feeds.files["roto.ics"] = b"<html><body>Maintenance</body></html>"
    log_in(page, panel.base)

    add_and_sync(page, panel, "booking", f"{feeds.base}/roto.ics")

    expect(page.get_by_role("alert")).to_contain_text("No se pudo sincronizar el calendario")
    feed = page.locator(".ajustes-feed", has_text="booking")
    expect(feed).to_contain_text("Lo que devuelve esa dirección no es un calendario (.ics).")
    assert not INTERNALS.search(page.locator("main").inner_text())
    assert "iCalendar" not in feed.inner_text()
