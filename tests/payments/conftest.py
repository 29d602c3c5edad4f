"""Payments end to end: the app and worker aimed at local fakes of Mercado Pago, WhatsApp and SMTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

import alojamientos.tasks  # noqa: F401 - registers the worker's jobs
from alojamientos.config import Settings
from alojamientos.jobs.worker import Worker
from tests.fakes.graph import ACCESS_TOKEN as GRAPH_TOKEN
from tests.fakes.graph import PHONE_NUMBER_ID, FakeGraph
from tests.fakes.mercadopago import ACCESS_TOKEN, WEBHOOK_SECRET, FakeMercadoPago, MercadoPagoServer
from tests.fixtures.api import operator_client, today_ar, worker_for

GUEST_PHONE = "+5492944555555"
GUEST_EMAIL = "lucia@example.com"


@pytest.fixture(scope="session")
def mp_server() -> Iterator[FakeMercadoPago]:
    with MercadoPagoServer() as fake:
        yield fake


@pytest.fixture
def mp(mp_server: FakeMercadoPago) -> FakeMercadoPago:
    mp_server.reset()
    return mp_server


@pytest.fixture
def pay_settings(mp: FakeMercadoPago, graph: FakeGraph, smtp: Any, clean_db: str) -> Settings:
    return Settings(
        mercadopago_api_base=mp.url,
        mercadopago_access_token=ACCESS_TOKEN,
        mercadopago_webhook_secret=WEBHOOK_SECRET,
        # An hour's window, so a test's hints never straddle two; the overall limit has its own tests.
        mercadopago_hint_window_seconds=3600,
        mercadopago_hints_per_minute=100_000,
        whatsapp_api_base=graph.url,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_access_token=GRAPH_TOKEN,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="Cabañas <reservas@example.com>",
        smtp_starttls=False,
        operator_email="dueno@example.com",
        public_base_url="https://reservas.example.com",
    )


@pytest.fixture
async def api(pay_settings: Settings, operator: None) -> AsyncIterator[httpx.AsyncClient]:
    async with operator_client(pay_settings) as client:
        yield client


@pytest.fixture
async def pay_worker(pay_settings: Settings) -> AsyncIterator[Worker]:
    async with worker_for(pay_settings, "pay-worker") as worker:
        yield worker


@pytest.fixture
async def unit(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/accommodations", json={"name": "Cabaña del Bosque", "capacity": 4, "base_price": "60000"}
    )
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
async def hold(api: httpx.AsyncClient, unit: dict[str, Any], pay_worker: Worker) -> dict[str, Any]:
    """A transfer hold made from the panel for a guest with phone and e-mail; its own messages drained."""
    start = today_ar() + timedelta(days=30)
    response = await api.post("/api/v1/reservations", json={
        "accommodation_id": unit["id"], "check_in": start.isoformat(),
        "check_out": (start + timedelta(days=3)).isoformat(), "guests": 2,
        "guest_name": "Lucía Gómez", "guest_phone": GUEST_PHONE, "guest_email": GUEST_EMAIL,
    })  # fmt: skip
    assert response.status_code == 201, response.text
    await pay_worker.run_pending()
    created: dict[str, Any] = response.json()
    return created
