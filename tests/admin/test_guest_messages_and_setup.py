"""Issue 13, points 4, 5 and 8 as the operator meets them in the panel (Chromium).

This module runs its own server, aimed at the fake Graph API and the loopback SMTP server (and with
no Mercado Pago token), with a private BACKUP_DIR whose off-machine copy goes through a command. The
worker runs as the operator runs it, `alojamientos worker --once`, with the same environment.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from alojamientos.kit.phone import to_e164
from tests.admin.conftest import Panel, log_in, screenshot, upcoming
from tests.cli.test_cli import cli
from tests.fakes.graph import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeGraph
from tests.fakes.smtp import SMTP_FROM, FakeSMTP
from tests.fixtures.server import serve

GUEST_PHONE = "11 4444-5678"
BANK = "Alias: CABANAS.DEL.LAGO"


@pytest.fixture(scope="module")
def backup_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backups")


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the copy command puts backups; removed to make the copy fail."""
    return tmp_path_factory.mktemp("nas")


@pytest.fixture(scope="module")
def server_env(
    graph_server: FakeGraph, smtp_server: FakeSMTP, backup_dir: Path, copies: Path
) -> dict[str, str]:
    script = 'cp "$1" "$DEST/" && sha256sum "$DEST/$(basename "$1")"'
    return {
        "WHATSAPP_API_BASE": graph_server.url,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_FROM": SMTP_FROM,
        "SMTP_STARTTLS": "false",
        "MERCADOPAGO_ACCESS_TOKEN": "",
        "BACKUP_DIR": str(backup_dir),
        "BACKUP_COPY_COMMAND": f"env DEST={shlex.quote(str(copies))} sh -c {shlex.quote(script)} copiar",
        "REDIS_URL": "",
    }


@pytest.fixture(scope="module")
def live_server(
    database_url: str, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Overrides the session's server for this module (see the module docstring)."""
    with serve(tmp_path_factory.mktemp("messages-server"), **server_env) as base:
        yield base


def run_worker(env: dict[str, str]) -> None:
    done = cli("worker", "--once", env=env)
    assert done.returncode == 0, done.stderr


def _fill(page: Page, unit_name: str, *, phone: str = GUEST_PHONE, email: str = "") -> None:
    start = upcoming(25)
    page.get_by_label("Cabaña").select_option(label=f"{unit_name} (hasta 4 personas)")
    page.get_by_label("Entrada").fill(start.isoformat())
    page.get_by_label("Salida").fill((start + timedelta(days=2)).isoformat())
    page.get_by_label("Personas").fill("2")
    page.get_by_label("Nombre y apellido").fill("Diego Fernández")
    page.get_by_label("Teléfono (WhatsApp)").fill(phone)
    if email:
        page.get_by_label("E-mail").fill(email)


def test_a_panel_hold_tells_the_guest_by_whatsapp_and_can_be_resent(
    panel: Panel, page: Page, graph: FakeGraph, server_env: dict[str, str]
) -> None:
    unit = panel.unit()
    log_in(page, panel.base)
    # Bank details are empty on a fresh install: the dashboard and Ajustes say so until they are set.
    expect(page.locator("#faltan-datos-de-pago")).to_contain_text(
        "No están cargados los datos para transferir"
    )
    page.get_by_role("link", name="Cargalos en Ajustes → Precios y reglas").click()
    expect(page.locator("#faltan-datos-de-pago")).to_contain_text("Faltan los datos para transferencia.")
    page.get_by_label("Datos para transferencia").fill(BANK)
    page.get_by_role("button", name="Guardar plazos y textos").click()
    expect(page.locator("#faltan-datos-de-pago")).to_have_count(0)
    page.goto(f"{panel.base}/admin/")
    expect(page.locator("#faltan-datos-de-pago")).to_have_count(0)

    page.goto(f"{panel.base}/admin/reservas/nueva")
    _fill(page, unit["name"])
    page.get_by_role("button", name="Cargar la reserva").click()
    expect(page.locator("#estado")).to_have_text("Pre-reserva")
    code = page.url.split("/admin/reservas/")[1].split("?")[0]
    run_worker(server_env)
    [message] = graph.texts_to(to_e164(GUEST_PHONE))
    assert message.startswith("¡Hola, Diego! Te reservamos Cabaña del Bosque del ")
    assert f"Código de reserva: *{code}*" in message
    assert f"Podés pagar la seña por transferencia: · {BANK}" in message
    run_worker(server_env)
    assert len(graph.texts_to(to_e164(GUEST_PHONE))) == 1  # exactly once

    page.get_by_text("Reenviar el pedido de seña", exact=True).click()
    page.get_by_role("button", name="Sí, reenviar el pedido de seña").click()
    expect(page.get_by_role("status")).to_have_text(
        "Listo: el pedido de seña va en camino al huésped otra vez."
    )
    expect(page.locator("#historial")).to_contain_text("Pedido de seña reenviado al huésped")
    screenshot(page, "pedido-de-sena-reenviado")
    run_worker(server_env)
    assert graph.texts_to(to_e164(GUEST_PHONE)) == [message, message]


def test_a_guest_with_only_an_email_address_gets_it_by_email(
    panel: Panel, page: Page, graph: FakeGraph, smtp: FakeSMTP, server_env: dict[str, str]
) -> None:
    unit = panel.unit()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas/nueva")
    _fill(page, unit["name"], phone="", email="diego@example.com")
    page.get_by_role("button", name="Cargar la reserva").click()
    expect(page.locator("#estado")).to_have_text("Pre-reserva")
    code = page.url.split("/admin/reservas/")[1].split("?")[0]
    run_worker(server_env)
    [mail] = smtp.to("diego@example.com")
    assert code in mail.get_body(("plain",)).get_content()
    assert graph.sent == []

    page.get_by_text("Reenviar el pedido de seña", exact=True).click()
    page.get_by_role("button", name="Sí, reenviar el pedido de seña").click()
    run_worker(server_env)
    assert len(smtp.to("diego@example.com")) == 2


def test_integrations_show_whether_they_are_configured(panel: Panel, page: Page) -> None:
    """WhatsApp and e-mail have their settings; Mercado Pago has no token: on, but it cannot work."""
    panel.unit()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/funciones")
    expect(page.locator("#configuracion-whatsapp")).to_have_text("Configurada")
    expect(page.locator("#configuracion-email")).to_have_text("Configurada")
    expect(page.locator("#configuracion-mercadopago")).to_have_text("Sin configurar")
    expect(page.locator("#falta-mercadopago")).to_have_text(
        "Aunque está prendida, no funciona: falta el token de acceso de Mercado Pago"
        " (MERCADOPAGO_ACCESS_TOKEN) en la configuración del servidor (archivo .env)."
    )
    expect(page.locator("#funcion-mercadopago")).to_contain_text("Prendida")
    screenshot(page, "funciones-configuradas")

    page.goto(f"{panel.base}/admin/sistema")
    expect(page.locator("#canal-whatsapp")).to_have_text("configurado")
    expect(page.locator("#canal-mercadopago")).to_have_text(
        "apagado: no está configurado. Las señas se cobran solo por transferencia hasta que cargues"
        " el token de acceso de Mercado Pago (MERCADOPAGO_ACCESS_TOKEN)."
    )
    expect(page.locator("#canales")).to_have_class("tarjeta")  # a setting, not an alarm

    # Never offered where it cannot work, and refused by the API.
    page.goto(f"{panel.base}/admin/reservas/nueva")
    expect(page.get_by_label("Cómo va a pagar la seña").locator("option")).to_have_text(["Transferencia"])
    start = upcoming(30)
    unit_id = panel.api.get("/api/v1/accommodations").json()[0]["id"]
    refused = panel.api.post(
        "/api/v1/reservations",
        json={"accommodation_id": unit_id, "check_in": start.isoformat(),
              "check_out": (start + timedelta(days=2)).isoformat(), "guests": 2, "guest_name": "Ana",
              "guest_phone": "+5491155551234", "payment_method": "mercadopago"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "payment_method_unavailable"


def test_backups_download_and_show_their_off_machine_copy(
    panel: Panel, page: Page, backup_dir: Path, copies: Path, server_env: dict[str, str]
) -> None:
    copies.rmdir()  # the destination is gone: the copy fails and says so
    failed = cli("backup", "create", "--quiet", env=server_env)
    assert failed.returncode == 1 and "off-machine copy failed" in failed.stderr
    [backup] = sorted(backup_dir.glob("alojamientos-*.tar"))

    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/sistema")
    expect(page.locator("#copia-afuera")).to_contain_text("Falló")
    expect(page.locator("#copia-afuera")).to_contain_text("BACKUP_COPY_COMMAND exited with 1")
    expect(page.locator("#copia-afuera-fallo")).to_contain_text(
        "La última copia no se pudo guardar fuera de esta máquina."
    )
    screenshot(page, "sistema-copia-fallida")
    doctor = cli("doctor", env=server_env)
    assert "✗ backup copied off the machine" in doctor.stdout and doctor.returncode == 1

    with page.expect_download() as download:
        page.locator("#copias").get_by_role("link", name="Descargar la copia del").first.click()
    saved = download.value.path()
    assert download.value.suggested_filename == backup.name
    assert hashlib.sha256(Path(saved).read_bytes()).digest() == hashlib.sha256(backup.read_bytes()).digest()

    copies.mkdir()
    copied = cli("backup", "copy", env=server_env)
    assert copied.returncode == 0, copied.stderr
    page.reload()
    expect(page.locator("#copia-afuera")).to_contain_text("Copiada y verificada")
    expect(page.locator("#copia-afuera-fallo")).to_have_count(0)

    # Only the operator, only names from the list.
    with httpx.Client(base_url=panel.base) as anonymous:
        outside = anonymous.get(f"/admin/sistema/copias/{backup.name}")
        assert outside.status_code in (303, 401) and "tar" not in outside.headers.get("content-type", "")
    for name in ("..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", f"{backup.name}.offsite.json", "nada.tar"):
        response = page.request.get(f"{panel.base}/admin/sistema/copias/{name}")
        assert response.status in (404, 422), name
