"""E-mail tests: a real loopback SMTP server, settings pointing at it, and a worker to deliver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import alojamientos.notifications.email  # noqa: F401 - registers the email.send job
from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.jobs.worker import Worker
from alojamientos.ops.flags import flags
from tests.fakes.smtp import FakeSMTP, SMTPServer


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[FakeSMTP]:
    with SMTPServer() as smtp:
        yield smtp


@pytest.fixture
def smtp(smtp_server: FakeSMTP) -> FakeSMTP:
    smtp_server.reset()
    return smtp_server


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
