"""WhatsApp not configured is a setting, not an incident: replies wait in the conversation as not
sent, nothing is dead-lettered or alerted, and they go out once the credentials are there."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.kit.clock import utc_now
from tests.fakes.graph import FakeGraph
from tests.fixtures.api import operator_client, worker_for
from tests.whatsapp.conftest import envelope, post_signed

PHONE = "+5492944222333"


async def statuses(client: httpx.AsyncClient) -> list[str | None]:
    detail = (await client.get(f"/api/v1/conversations/{PHONE}")).json()
    return [m["delivery_status"] for m in detail["messages"] if m["direction"] == "out"]


async def test_replies_are_held_then_sent_once_configured(
    graph: FakeGraph, wa_settings: Settings, operator: None
) -> None:
    unconfigured = Settings(whatsapp_api_base=graph.url)
    assert not unconfigured.whatsapp_configured
    async with operator_client(unconfigured) as client, worker_for(unconfigured) as worker:
        hello = envelope(PHONE, {"id": "wamid.HELD1", "type": "text", "text": {"body": "hola"}})
        assert (await post_signed(client, hello)).status_code == 200
        await worker.run_pending()
        await worker.run_periodic(utc_now(), force=True)  # still unconfigured: nothing leaves
        await worker.run_pending()
        assert graph.texts_to(PHONE) == []
        held = await statuses(client)
        assert held and set(held) == {"held"}
        assert (await client.get("/api/v1/alerts")).json() == []
        assert (await client.get("/api/v1/jobs", params={"status": "dead"})).json() == []
        waiting = (await client.get("/api/v1/jobs", params={"status": "held"})).json()
        assert {j["kind"] for j in waiting} == {"whatsapp.send"}
        assert all(j["attempts"] == 0 for j in waiting)
    async with operator_client(wa_settings) as client, worker_for(wa_settings) as worker:
        await worker.run_periodic(utc_now(), force=True)
        await worker.run_pending()
        assert len(graph.texts_to(PHONE)) == len(held)
        assert set(await statuses(client)) == {"sent"}
        assert (await client.get("/api/v1/jobs", params={"status": "held"})).json() == []


async def test_replies_held_for_over_a_day_stay_unsent(
    graph: FakeGraph, wa_settings: Settings, operator: None, db: Database
) -> None:
    unconfigured = Settings(whatsapp_api_base=graph.url)
    async with operator_client(unconfigured) as client, worker_for(unconfigured) as worker:
        hello = envelope(PHONE, {"id": "wamid.HELD2", "type": "text", "text": {"body": "hola"}})
        assert (await post_signed(client, hello)).status_code == 200
        await worker.run_pending()
    async with db.session_scope() as session:
        await session.execute(update(Job).values(created_at=utc_now() - timedelta(hours=25)))
    async with operator_client(wa_settings) as client, worker_for(wa_settings) as worker:
        await worker.run_periodic(utc_now(), force=True)
        await worker.run_pending()
        assert graph.texts_to(PHONE) == []
        assert set(await statuses(client)) == {"held"}
