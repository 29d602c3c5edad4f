"""A guest on WhatsApp: signed webhooks into the app, replies out through the worker to a fake Graph API."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest

import alojamientos.tasks  # noqa: F401 - registers the worker's jobs
from alojamientos.channels.whatsapp.signature import sign
from alojamientos.config import Settings
from alojamientos.jobs.worker import Worker
from tests.fakes.graph import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeGraph
from tests.fixtures.api import operator_client, today_ar, worker_for

APP_SECRET = "whatsapp-test-app-secret"
_wamids = itertools.count(1)


def next_date(month: int, day: int) -> date:
    """The first such date on or after today, as a guest means "el 10 de marzo"."""
    today = today_ar()
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


def envelope(phone: str, message: dict[str, Any], name: str = "Ana") -> dict[str, Any]:
    wa_id = phone.lstrip("+")
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "WABA_ID",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "5492944000001", "phone_number_id": PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                    "messages": [{"from": wa_id, "timestamp": str(int(time.time())), **message}],
                },
            }],
        }],
    }  # fmt: skip


async def post_signed(client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await client.post(
        "/api/v1/webhooks/whatsapp",
        content=body,
        headers={"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET, body)},
    )


@dataclass
class Guest:
    phone: str
    client: httpx.AsyncClient
    graph: FakeGraph
    worker: Worker
    name: str = "Ana"
    seen: int = 0
    last_payload: dict[str, Any] = field(default_factory=dict)

    async def send(self, message: dict[str, Any]) -> list[str]:
        self.last_payload = envelope(self.phone, {"id": f"wamid.IN{next(_wamids):06d}", **message}, self.name)
        response = await post_signed(self.client, self.last_payload)
        assert response.status_code == 200, response.text
        return await self.read()

    async def read(self) -> list[str]:
        """Delivers what is queued (through the real client) and returns what arrived since last time."""
        await self.worker.run_pending()
        texts = self.graph.texts_to(self.phone)
        new, self.seen = texts[self.seen :], len(texts)
        return new

    async def say(self, text: str) -> list[str]:
        return await self.send({"type": "text", "text": {"body": text}})

    async def tap(self, choice_id: str, title: str = "opción", *, kind: str = "button_reply") -> list[str]:
        reply = {"type": kind, kind: {"id": choice_id, "title": title}}
        return await self.send({"type": "interactive", "interactive": reply})

    def last_choices(self) -> list[tuple[str, str]]:
        """(id, title) of the buttons or rows in the last interactive message to this guest."""
        for message in reversed(self.graph.sent):
            if message["to"] == self.phone.lstrip("+") and message["type"] == "interactive":
                action = message["interactive"]["action"]
                if "buttons" in action:
                    return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
                return [(r["id"], r["title"]) for s in action["sections"] for r in s["rows"]]
        return []


@pytest.fixture
def wa_settings(graph: FakeGraph, clean_db: str) -> Settings:
    return Settings(
        whatsapp_api_base=graph.url,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_access_token=ACCESS_TOKEN,
    )


@pytest.fixture
async def wa_client(wa_settings: Settings, operator: None) -> AsyncIterator[httpx.AsyncClient]:
    """The webhook caller, also logged in as the operator for the admin API."""
    async with operator_client(wa_settings) as client:
        yield client


@pytest.fixture
async def worker(wa_settings: Settings) -> AsyncIterator[Worker]:
    async with worker_for(wa_settings) as made:
        yield made


@pytest.fixture
async def units(wa_client: httpx.AsyncClient) -> dict[str, int]:
    created = {}
    for name, capacity, price in (("Cabaña del Bosque", 4, "60000"), ("Cabaña del Lago", 6, "90000")):
        response = await wa_client.post(
            "/api/v1/accommodations", json={"name": name, "capacity": capacity, "base_price": price}
        )
        created[name] = response.json()["id"]
    return created


@pytest.fixture
def guest_factory(wa_client: httpx.AsyncClient, graph: FakeGraph, worker: Worker):  # type: ignore[no-untyped-def]
    def make(phone: str = "+5492944111111", name: str = "Ana") -> Guest:
        return Guest(phone, wa_client, graph, worker, name)

    return make


@pytest.fixture
def guest(guest_factory: Any, units: dict[str, int]) -> Guest:
    made: Guest = guest_factory()
    return made
