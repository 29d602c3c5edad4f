"""E-mail tests: settings pointing at the loopback SMTP server (tests.fixtures.fakes), and a worker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import alojamientos.notifications.email  # noqa: F401 - registers the email.send job
from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.jobs.worker import Worker
from alojamientos.ops.flags import flags
from tests.fakes.smtp import FakeSMTP


@pytest.fixture
def mail_settings(smtp: FakeSMTP, clean_db: str) -> Settings:
    return smtp.settings()


@pytest.fixture
async def mail_worker(mail_settings: Settings, db: Database) -> AsyncIterator[Worker]:
    async with httpx.AsyncClient() as http:
        yield Worker(mail_settings, db, http, name="test-worker")


@pytest.fixture
def forget_flags() -> Iterator[None]:
    yield
    flags.forget()
