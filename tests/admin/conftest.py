"""Browser tests of the panel: real Chromium (Debian's) against a real `alojamientos serve`.

The tests are plain sync functions (Playwright's sync API cannot run inside pytest-asyncio's loop);
data is made through the JSON API and sync psycopg, as an operator would see it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from tests.fixtures.api import OPERATOR_EMAIL, OPERATOR_PASSWORD, today_ar
from tests.fixtures.database import psycopg_url

# The panel's server starts once per session: the iCal feeds the settings tests serve on loopback must
# be allowed there (the SSRF guard itself is tested in tests/calendar_sync, with its own settings).
os.environ["ICAL_ALLOW_PRIVATE_URLS"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PHONE_VIEWPORT: ViewportSize = {"width": 412, "height": 915}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Panel:
    """The running server, an API client logged in as the operator, and the test database."""

    base: str
    api: httpx.Client
    database_url: str

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(psycopg_url(self.database_url), autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def unit(self, name: str = "Cabaña del Bosque", **overrides: Any) -> dict[str, Any]:
        body = {"name": name, "capacity": 4, "base_price": "50000", **overrides}
        response = self.api.post("/api/v1/accommodations", json=body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def booking(self, unit_id: int, start: date, nights: int = 2, **overrides: Any) -> dict[str, Any]:
        body = {
            "accommodation_id": unit_id,
            "check_in": start.isoformat(),
            "check_out": (start + timedelta(days=nights)).isoformat(),
            "guests": 2,
            "guest_name": "Ana Pérez",
            "guest_phone": "+54 9 11 5555-1234",
            **overrides,
        }
        response = self.api.post("/api/v1/reservations", json=body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def reservation(self, code: str) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/reservations/{code}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def panel(live_server: str, clean_db: str) -> Iterator[Panel]:
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO operators (email, name, password_hash) VALUES (%s, %s, %s)",
            (OPERATOR_EMAIL, "Operadora", PasswordHasher().hash(OPERATOR_PASSWORD)),
        )
    with httpx.Client(base_url=live_server, timeout=10) as api:
        token = api.post(
            "/api/v1/auth/token", data={"username": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}
        )
        assert token.status_code == 200, token.text
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield Panel(live_server, api, clean_db)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    chromium = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="es-AR")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def log_in(page: Page, base: str, password: str = OPERATOR_PASSWORD) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("E-mail").fill(OPERATOR_EMAIL)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def upcoming(days: int = 20) -> date:
    return today_ar() + timedelta(days=days)


@contextmanager
def form_session(base: str) -> Iterator[tuple[httpx.Client, str]]:
    """An httpx client logged in through the login form, and the session's CSRF token."""
    with httpx.Client(base_url=base, timeout=10) as client:
        form = client.get("/admin/login")
        match = CSRF_INPUT.search(form.text)
        assert match, form.text
        response = client.post(
            "/admin/login",
            data={"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD, "csrf_token": match.group(1)},
        )
        assert response.status_code == 303, response.text
        dashboard = client.get("/admin/")
        token = CSRF_INPUT.search(dashboard.text)
        assert token, dashboard.text
        yield client, token.group(1)
