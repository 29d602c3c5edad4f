"""Settings pointing at the loopback SMTP server (and, for guest messages, the fake WhatsApp Graph API),
and a worker over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import alojamientos.notifications.email  # noqa: F401 - registers the email.send job
from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.jobs.worker import Worker
from alojamientos.ops.flags import flags
from tests.fakes.graph import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeGraph
from tests.fakes.smtp import FakeSMTP


@pytest.fixture
def mail_settings(smtp: FakeSMTP, clean_db: str) -> Settings:
    return smtp.settings()


@pytest.fixture
async def mail_worker(mail_settings: Settings, db: Database) -> AsyncIterator[Worker]:
    async with httpx.AsyncClient() as http:
        yield Worker(mail_settings, db, http, name="test-worker")


GUEST_EMAIL = "ana@example.com"
GUEST_PHONE = "+5492944111111"
ACTOR = "operator:ops@example.com"


@pytest.fixture
def settings(smtp: FakeSMTP, graph: FakeGraph, clean_db: str) -> Settings:
    """E-mail and WhatsApp both reachable: what a guest is told goes through the real clients."""
    return smtp.settings(
        whatsapp_api_base=graph.url,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_access_token=ACCESS_TOKEN,
    )


@pytest.fixture
async def worker(settings: Settings, db: Database) -> AsyncIterator[Worker]:
    async with httpx.AsyncClient() as http:
        yield Worker(settings, db, http, name="test-worker")


@pytest.fixture
def forget_flags() -> Iterator[None]:
    yield
    flags.forget()
