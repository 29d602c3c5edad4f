"""Calendar sync fixtures: real exports served over HTTP by a local server with ETag support."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import alojamientos.tasks  # noqa: F401 - registers the worker's jobs
from alojamientos.config import Settings
from alojamientos.jobs.worker import Worker
from tests.fakes.http import ThreadedServer
from tests.fixtures.api import operator_client, today_ar, worker_for

FEEDS = Path(__file__).with_name("feeds")


def feed(name: str) -> bytes:
    """An export from feeds/, moved to next year so its dates are always ahead of today."""
    return (FEEDS / name).read_bytes().replace(b"2027", str(today_ar().year + 1).encode())


@dataclass
class FeedHost:
    """Serves named calendars; `status` forces an error; counts requests and 304s."""

    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    requests: int = 0
    not_modified: int = 0

    async def serve(self, request: Request) -> Response:
        self.requests += 1
        if self.status != 200:
            return Response("upstream trouble", status_code=self.status)
        name = request.path_params["name"]
        if name not in self.files:
            return Response(status_code=404)
        body = self.files[name]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == etag:
            self.not_modified += 1
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="text/calendar", headers={"ETag": etag})

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture(scope="session")
def feed_server() -> Iterator[FeedHost]:
    host = FeedHost()
    server = ThreadedServer(Starlette(routes=[Route("/{name}", host.serve)]))
    host.base = server.base
    server.start()
    yield host
    server.stop()


@pytest.fixture
def feeds(feed_server: FeedHost) -> FeedHost:
    feed_server.files.clear()
    feed_server.status, feed_server.requests, feed_server.not_modified = 200, 0, 0
    return feed_server


@pytest.fixture
def cal_settings(clean_db: str) -> Settings:
    return Settings(ical_allow_private_urls=True, public_base_url="https://reservas.example.com")


@pytest.fixture
async def api(cal_settings: Settings, operator: None) -> AsyncIterator[httpx.AsyncClient]:
    async with operator_client(cal_settings) as client:
        yield client


@pytest.fixture
async def cal_worker(cal_settings: Settings) -> AsyncIterator[Worker]:
    async with worker_for(cal_settings, "cal-worker") as worker:
        yield worker


@pytest.fixture
async def unit(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/accommodations", json={"name": "Cabaña del Bosque", "capacity": 4, "base_price": "60000"}
    )
    result: dict[str, Any] = response.json()
    return result
