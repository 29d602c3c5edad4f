"""The system page: version, health, the newest backup, the job backlog and dead letters, all measured.

This module runs its own server (not the session's) so it can give it a private BACKUP_DIR, where the
test writes a real backup with the project's backup code, and a small login budget on a Redis database
of its own, so the rate-limited login page can be reached through the browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import alojamientos
from alojamientos.admin.system import BACKUP_STALE_AFTER, backup_is_stale
from alojamientos.config import get_settings
from alojamientos.ops.backup import list_backups, verify_backup
from alojamientos.ops.doctor import BACKUP_MAX_AGE_MINUTES
from tests.admin.conftest import Panel, log_in, screenshot
from tests.fixtures.api import OPERATOR_EMAIL
from tests.fixtures.server import serve

LOGIN_BUDGET = 10  # each test's API client logs in from 127.0.0.1 too: leave room for reruns


def _private_redis_url() -> str:
    """The same server, another database number: the login counters of other servers never meet ours."""
    base = os.environ["REDIS_URL"].rsplit("/", 1)[0]
    return f"{base}/13"


@pytest.fixture(scope="module")
def backup_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backups")


@pytest.fixture(scope="module")
def live_server(
    database_url: str, backup_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Overrides the session's server for this module (see the module docstring)."""
    with serve(
        tmp_path_factory.mktemp("system-server"),
        BACKUP_DIR=str(backup_dir),
        REDIS_URL=_private_redis_url(),
        RATE_LIMIT_LOGIN_PER_MINUTE=str(LOGIN_BUDGET),
    ) as base:
        yield base


@pytest.fixture
def fresh_client(page: Page) -> str:
    """A client address of its own (the first X-Forwarded-For hop), so its login budget starts at zero."""
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"
    page.set_extra_http_headers({"X-Forwarded-For": address})
    return address


def test_the_stale_threshold_is_doctors() -> None:
    assert BACKUP_STALE_AFTER == timedelta(minutes=BACKUP_MAX_AGE_MINUTES)
    assert backup_is_stale(None)
    assert not backup_is_stale(timedelta(hours=23))
    assert backup_is_stale(timedelta(minutes=BACKUP_MAX_AGE_MINUTES + 1))


def test_the_system_page_measures_health_backups_and_jobs_and_retries_a_dead_one(
    panel: Panel, page: Page, backup_dir: Path, fresh_client: str
) -> None:
    panel.sql(
        "INSERT INTO jobs (kind, status, attempts, payload) VALUES"
        " ('email.send', 'done', 1, '{}'), ('email.send', 'pending', 0, '{}'),"
        " ('whatsapp.send', 'pending', 0, '{}'),"
        " ('reservation.remind', 'pending', 0, '{}')"
    )
    panel.sql("UPDATE jobs SET run_at = now() - interval '2 hours' WHERE kind = 'whatsapp.send'")
    panel.sql("UPDATE jobs SET run_at = now() + interval '3 hours' WHERE kind = 'reservation.remind'")
    panel.sql(
        "INSERT INTO jobs (kind, status, attempts, payload, last_error, finished_at) VALUES"
        " ('email.send', 'dead', 1, '{}', 'e-mail is not configured: set SMTP_HOST and SMTP_FROM', now()),"
        " ('payments.mercadopago', 'dead', 3, '{}', 'RetryLater: Mercado Pago 503: <html>upstream</html>', now()),"
        " ('ical.sync_feed', 'dead', 2, '{}', 'KeyError: postgres', now())"
    )
    [(dead_id,)] = panel.sql(
        "INSERT INTO jobs (kind, status, attempts, payload, last_error, finished_at)"
        " VALUES ('whatsapp.send', 'dead', 8, %s, %s, now()) RETURNING id",
        json.dumps({"message_id": 41}),
        "WhatsApp 400: 131026 Message undeliverable",  # as channels/whatsapp/client.py words it
    )

    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/sistema")
    expect(page.locator("#version")).to_contain_text(alojamientos.__version__)
    [(revision,)] = panel.sql("SELECT version_num FROM alembic_version")
    expect(page.locator("#version")).to_contain_text(revision)
    expect(page.locator("#chequeo-database")).to_contain_text("Funciona bien")
    expect(page.locator("#chequeo-redis")).to_contain_text("Funciona bien")
    expect(page.locator("#salud")).to_contain_text("Base de datos")
    expect(page.locator("#salud")).to_contain_text("Calendarios externos")
    # No backup yet: said in red.
    expect(page.locator("#copia")).to_have_class("tarjeta alarma")
    expect(page.locator("#copia")).to_contain_text("No hay ninguna copia de seguridad.")
    # The backlog, counted: 3 pending (one due for 2 h, one scheduled later), 1 done, 1 dead.
    expect(page.locator("#tareas-pending .valor")).to_have_text("3")
    expect(page.locator("#tareas-done .valor")).to_have_text("1")
    expect(page.locator("#tareas-dead .valor")).to_have_text("4")
    expect(page.locator("#tareas-running .valor")).to_have_text("0")
    failed = page.locator("#fallidas")
    email = failed.locator("article", has_text="Enviar un e-mail")
    expect(email).to_contain_text("1 intento ·")  # agrees: never "1 intentos"
    expect(email).to_contain_text("El e-mail no está configurado: faltan SMTP_HOST y SMTP_FROM.")
    expect(failed.locator("article", has_text="Consultar un pago de Mercado Pago")).to_contain_text(
        "Mercado Pago respondió con un error (HTTP 503)."
    )
    feed = failed.locator("article", has_text="Sincronizar un calendario externo")
    expect(feed).to_contain_text("Falló por un error inesperado; el detalle técnico quedó en el registro")
    expect(failed).not_to_contain_text("KeyError")
    expect(failed).not_to_contain_text("upstream")
    expect(page.locator("#mas-vieja")).to_contain_text("desde hace 2 h")
    expect(page.locator("#mas-vieja")).to_contain_text("1 programada para más adelante")
    whatsapp = page.locator('#por-tarea tr[data-kind="whatsapp.send"]')
    expect(whatsapp).to_contain_text("Enviar un WhatsApp")
    expect(whatsapp.locator('[data-status="pending"]')).to_have_text("1")
    expect(whatsapp.locator('[data-status="dead"]')).to_have_text("1")
    # The dead letter: task, attempts, last error, when.
    dead = page.locator(f"#tarea-{dead_id}")
    expect(dead).to_contain_text("Enviar un WhatsApp")
    expect(dead).to_contain_text("8 intentos")
    # The error in Spanish; the English detail is in the log (jobs.dead), not on the page.
    expect(dead.locator(".error-tarea")).to_have_text(
        "Último error: WhatsApp no pudo entregar el mensaje: ese número no puede recibirlo."
    )
    expect(page.locator("#fallidas")).not_to_contain_text("Message undeliverable")
    expect(dead).to_contain_text("se abandonó el")
    assert page.evaluate("document.documentElement.scrollWidth") <= 412  # no sideways scrolling on a phone
    screenshot(page, "sistema")

    # "Reintentar" does what POST /api/v1/jobs/{id}/retry does: pending again, fresh attempts.
    page.get_by_role("button", name=f"Reintentar la tarea n.º {dead_id}").click()
    expect(page.get_by_role("status")).to_contain_text("la tarea volvió a la cola")
    expect(page.locator(f"#tarea-{dead_id}")).to_have_count(0)
    expect(page.locator("#tareas-dead .valor")).to_have_text("3")
    expect(page.locator("#tareas-pending .valor")).to_have_text("4")
    [(status, attempts, finished_at)] = panel.sql(
        "SELECT status, attempts, finished_at FROM jobs WHERE id = %s", dead_id
    )
    assert (status, attempts, finished_at) == ("pending", 0, None)
    # Retrying it again (a stale page, a second tab) is refused in Spanish, not a 500.
    response = panel.api.post(f"/api/v1/jobs/{dead_id}/retry")
    assert response.status_code == 409 and response.json()["error"]["code"] == "job_not_dead"

    # "Hacer una copia ahora": the worker takes a real backup into the server's BACKUP_DIR.
    expect(page.locator("#copia-programa")).to_contain_text("Las copias automáticas están apagadas")
    page.get_by_role("button", name="Hacer una copia ahora").click()
    expect(page.get_by_role("status").first).to_contain_text("Pedimos la copia de seguridad")
    expect(page.locator("#copia-en-curso")).to_be_visible()
    assert panel.sql("SELECT payload->>'reason' FROM jobs WHERE kind = 'ops.backup'") == [
        (f"operator:{OPERATOR_EMAIL}",)
    ]
    worker = subprocess.run(
        [sys.executable, "-m", "alojamientos", "worker", "--once"],
        env={**os.environ, "BACKUP_DIR": str(backup_dir), "REDIS_URL": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    settings = get_settings().model_copy(update={"backup_dir": backup_dir, "redis_url": None})
    [made] = [backup.path for backup in list_backups(settings)]
    assert all(check.ok for check in verify_backup(settings, made))
    page.reload()
    expect(page.locator("#copia")).not_to_have_class("tarjeta alarma")
    expect(page.locator("#copia")).to_contain_text(made.name)
    expect(page.locator("#copia-fecha")).to_contain_text("hace menos de un minuto")
    expect(page.locator("#copia")).to_contain_text(alojamientos.__version__)


def test_too_many_logins_show_a_spanish_page_to_wait(panel: Panel, page: Page, fresh_client: str) -> None:
    page.goto(f"{panel.base}/admin/login")
    statuses = []
    # The budget is per fixed minute: if a minute boundary falls inside the loop the count restarts,
    # so allow one more full budget before giving up.
    for _ in range(2 * LOGIN_BUDGET + 2):
        page.get_by_label("E-mail").fill(OPERATOR_EMAIL)
        page.get_by_label("Contraseña").fill("no-es-la-clave")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Ingresar").click()
        statuses.append(answer.value.status)
        if answer.value.status == 429:
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {401}
    assert 1 <= int(answer.value.headers["retry-after"]) <= 60
    expect(page.get_by_role("heading", name="Demasiados intentos de ingreso")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Esperá un minuto y volvé a probar.")
    screenshot(page, "ingreso-demasiados-intentos")
    page.get_by_role("link", name="Volver al ingreso").click()
    expect(page.get_by_label("E-mail")).to_be_visible()  # the form itself is never limited


def test_an_unconfigured_channel_is_one_calm_line_not_an_alarm(panel: Panel, page: Page) -> None:
    panel.sql(
        "INSERT INTO jobs (kind, status, attempts, payload, last_error) VALUES"
        " ('whatsapp.send', 'held', 0, '{}', 'WhatsApp is not configured'),"
        " ('whatsapp.send', 'held', 0, '{}', 'WhatsApp is not configured')"
    )
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/sistema")
    expect(page.locator("#canal-whatsapp")).to_contain_text("apagado: no está configurado")
    expect(page.locator("#canal-email")).to_contain_text("apagado: no está configurado")
    expect(page.locator("#esperando-canal")).to_have_text("2 mensajes esperan un canal configurado.")
    expect(page.locator("#canales")).to_have_class("tarjeta")
    expect(page.locator("#tareas-held .valor")).to_have_text("2")
    expect(page.locator("#tareas-dead .valor")).to_have_text("0")
    page.goto(f"{panel.base}/admin/")
    expect(page.locator("#atencion h2")).to_have_text("Requiere atención (0)")
