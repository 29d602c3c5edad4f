"""The product stands on its own (issue 13.9): its reference lives in the repository and matches the
code, `/` leads to the panel, the README names the panel's tabs as they are, and the calendar page
warns while the export links point at an address the internet cannot reach."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main

from alojamientos.cli import app as cli_app
from alojamientos.config import Settings
from alojamientos.kit.public_url import NotPublic, why_not_public
from alojamientos.main import create_app
from tests.fixtures.api import OPERATOR_EMAIL, OPERATOR_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
REFERENCE = (ROOT / "docs" / "reference.md").read_text()
NAV = (ROOT / "src/alojamientos/admin/templates/admin/settings/_nav.html").read_text()
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_the_bare_address_leads_to_the_panel(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/admin"
    assert (await anon.head("/")).status_code in (307, 405)  # never a JSON 404


def test_the_readme_links_the_reference_inside_the_repository() -> None:
    assert "[docs/reference.md](docs/reference.md)" in README
    links = re.findall(r"\]\(([^)]+)\)|`(\.\./[^`]+)`", README + REFERENCE)
    outside = [target for pair in links for target in pair if target.startswith("..")]
    assert outside == []
    for target in re.findall(r"\]\(([^)#:]+)\)", README):
        assert (ROOT / target).exists(), target
    for target in re.findall(r"\]\(([^)#:]+)\)", REFERENCE):
        assert (ROOT / "docs" / target).exists(), target


def test_the_readme_names_the_settings_tabs_as_the_panel_shows_them() -> None:
    tabs = set(re.findall(r">([^<>{}]+)</a>", NAV))
    # What follows each "Ajustes →" in the README must start with a tab's whole name.
    named = re.findall(r"Ajustes →\s+([^\n`]{1,40})", README)
    assert "Cuentas" in tabs and any(text.startswith("Cuentas") for text in named)
    assert [text for text in named if not any(text.startswith(tab) for tab in tabs)] == []


def _reference_lines(prefix: str) -> list[str]:
    return [line for line in REFERENCE.splitlines() if line.startswith(prefix)]


def test_the_reference_lists_every_endpoint_the_application_serves() -> None:
    schema: dict[str, Any] = create_app(Settings()).openapi()
    rows = _reference_lines("| `")
    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if not any(
            re.search(rf"`(?:[A-Z, ]*\b{method.upper()}\b[A-Z, ]*) {re.escape(path)}[`?]", row)
            for row in rows
        )
    ]
    assert missing == []


def _commands(command: Any, prefix: str) -> Iterator[str]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from _commands(sub, f"{prefix} {name}")
    else:
        yield prefix


def test_the_reference_lists_every_command() -> None:
    root = typer.main.get_command(cli_app)
    commands = list(_commands(root, "alojamientos"))
    assert len(commands) >= 20
    # `db upgrade` may be written as `alojamientos db upgrade …` or after a slash: `/ db downgrade`.
    missing = [c for c in commands if f"`{c}" not in REFERENCE and f"`{c.split(' ', 1)[1]}" not in REFERENCE]
    assert missing == []


def test_the_reference_lists_every_setting() -> None:
    names = [(field.alias or name).upper() for name, field in Settings.model_fields.items()] + [
        "ALOJAMIENTOS_ENV_FILE",
        "ALOJAMIENTOS_VERSION",
    ]
    assert [n for n in names if f"`{n}`" not in REFERENCE] == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8000", NotPublic.loopback),  # the default
        ("http://localhost:8000", NotPublic.loopback),
        ("https://LOCALHOST", NotPublic.loopback),
        ("http://[::1]:8000", NotPublic.loopback),
        ("https://127.8.0.1", NotPublic.loopback),
        ("http://192.168.0.10:8000", NotPublic.private),
        ("https://10.1.2.3", NotPublic.private),
        ("https://172.16.5.4", NotPublic.private),
        ("https://100.64.0.1", NotPublic.private),  # carrier-grade NAT
        ("https://169.254.1.1", NotPublic.private),  # link-local
        ("https://[fd00::1]", NotPublic.private),
        ("https://servidor", NotPublic.private),  # a dotless name only the LAN knows
        ("https://cabanas.local", NotPublic.private),
        ("https://reservas.home.arpa", NotPublic.private),
        ("http://reservas.example.com.ar", NotPublic.http),
        ("http://203.0.113.0", NotPublic.private),  # documentation range, not global
        ("reservas.example.com.ar", NotPublic.invalid),
        ("ftp://reservas.example.com.ar", NotPublic.invalid),
        ("", NotPublic.invalid),
        ("https://reservas.example.com.ar", None),
        ("https://reservas.example.com.ar/", None),
        ("https://8.8.8.8", None),
        ("https://[2001:4860:4860::8888]", None),
    ],
)
def test_which_base_urls_the_internet_can_reach(url: str, problem: NotPublic | None) -> None:
    assert why_not_public(url) == problem


async def _calendars_page(public_base_url: str) -> str:
    """Ajustes → Calendarios as the operator sees it, with PUBLIC_BASE_URL set to `public_base_url`."""
    application = create_app(Settings(public_base_url=public_base_url))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            form = await client.get("/admin/login")
            token = CSRF_INPUT.search(form.text)
            assert token, form.text
            login = await client.post(
                "/admin/login",
                data={"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD, "csrf_token": token.group(1)},
            )
            assert login.status_code == 303, login.text
            await client.post(
                "/api/v1/accommodations",
                json={"name": "Cabaña del Bosque", "capacity": 4, "base_price": "50000"},
                headers={"Authorization": "Bearer " + (await _token(client))},
            )
            page = await client.get("/admin/ajustes/calendarios")
            assert page.status_code == 200, page.text
            return page.text


async def _token(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}
    )
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize(
    ("public_base_url", "reason"),
    [
        ("http://127.0.0.1:8000", "que es esta misma computadora"),
        ("http://192.168.1.20:8000", "una dirección de una red privada"),
        ("http://reservas.example.com.ar", "sin https"),
        ("https://reservas.example.com.ar", None),
    ],
)
async def test_the_calendars_page_warns_while_the_export_links_are_not_public(
    operator: None, public_base_url: str, reason: str | None
) -> None:
    page = await _calendars_page(public_base_url)
    assert f'value="{public_base_url.rstrip("/")}/api/v1/ical/' in page
    if reason is None:
        assert "PUBLIC_BASE_URL" not in page
        assert 'id="direccion-publica"' not in page
        return
    assert "Airbnb y Booking no van a poder leer estas direcciones para exportar." in page
    assert f"Empiezan con {public_base_url}, {reason}" in page
    assert "configurá <code>PUBLIC_BASE_URL</code> con la dirección pública del servidor, con https" in page
