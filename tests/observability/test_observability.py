"""Health, metrics, request ids and masked JSON logs, seen from outside."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from alojamientos import __version__
from alojamientos.config import Settings
from alojamientos.main import create_app
from alojamientos.migrations import head_revision
from alojamientos.observability.logging import JsonFormatter, mask, request_id
from tests.fixtures.api import create_unit, hold, today_ar
from tests.fixtures.server import free_port


async def test_healthz_reports_version_revision_and_checks(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/v1/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["version"] == __version__
    assert body["revision"] == head_revision()
    assert body["checks"]["database"]["status"] == "healthy"
    assert body["checks"]["redis"] == {"status": "healthy", "configured": True}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_healthz_is_degraded_without_redis_and_booking_still_works(clean_db: str) -> None:
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/api/v1/healthz")
            assert response.status_code == 200
            assert response.json()["status"] == "degraded"
            assert response.json()["checks"]["redis"]["status"] == "degraded"


async def test_healthz_is_unhealthy_503_without_the_database(clean_db: str) -> None:
    settings = Settings(database_url=f"postgresql://aloj@127.0.0.1:{free_port()}/nothing")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/api/v1/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["checks"]["database"]["status"] == "unhealthy"


async def test_metrics_count_routes_and_transitions(client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    code = (await hold(client, unit["id"], today_ar() + timedelta(days=9))).json()["code"]
    await client.post(f"/api/v1/reservations/{code}/confirm")
    await client.get(f"/api/v1/reservations/{code}")
    text = (await client.get("/metrics")).text
    assert (
        'alojamientos_http_requests_total{method="GET",route="/api/v1/reservations/{code}",status="200"}'
        in text
    )
    assert (
        'alojamientos_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/api/v1/reservations"}'
        in text
    )
    assert (
        'alojamientos_reservation_transitions_total{from_status="pre_reserved",to_status="confirmed"}' in text
    )
    assert code not in text  # routes are templates, never raw paths


async def test_request_id_is_echoed_or_made(anon: httpx.AsyncClient) -> None:
    given = await anon.get("/api/v1/healthz", headers={"X-Request-ID": "abc12345-from-proxy"})
    assert given.headers["x-request-id"] == "abc12345-from-proxy"
    made = await anon.get("/api/v1/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("guest +5491155551234 wrote", "guest +54911******34 wrote"),
        ("mail ana.perez@example.com now", "mail a***@example.com now"),
        ("check_in 2027-01-10 total 150000.00", "check_in 2027-01-10 total 150000.00"),
    ],
)
def test_mask_hides_phones_and_emails(raw: str, masked: str) -> None:
    assert mask(raw) == masked


def test_json_log_lines_carry_request_id_and_masked_fields() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hold for %s", ("+5491155551234",), None)
    record.guest_email = "ana@example.com"
    token = request_id.set("req-123456")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["event"] == "hold for +54911******34"
    assert line["guest_email"] == "a***@example.com"
    assert line["request_id"] == "req-123456"
    assert line["level"] == "info"


def test_health_reads_the_same_migration_head_as_alembic() -> None:
    """Health finds the head without importing Alembic (server processes stay lighter)."""
    from alojamientos import migrations
    from alojamientos.observability import health

    assert health.head_revision() == migrations.head_revision()
    assert health.known_revisions() == migrations.known_revisions()


def test_the_server_app_does_not_import_alembic() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, alojamientos.main; print('alembic' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"
