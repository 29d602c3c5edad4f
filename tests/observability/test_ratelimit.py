"""Rate limits for login and webhooks in Redis: 429 over the budget, nothing blocked when Redis is down."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from alojamientos.config import Settings
from alojamientos.main import create_app
from alojamientos.observability.metrics import ERRORS
from alojamientos.observability.ratelimit import RateLimitMiddleware, Rule, mark_signed
from tests.fixtures.server import free_port


async def ok(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def signed(request: Request) -> JSONResponse:
    """A webhook whose signature verified (what the real ones do before anything else)."""
    mark_signed(request)
    return JSONResponse({"status": "ok"})


async def unsigned(request: Request) -> JSONResponse:
    """A webhook whose signature does not match (what the real ones answer)."""
    return JSONResponse({"error": {"code": "forbidden"}}, status_code=403)


def tiny_app(redis: Redis | None, **options: object) -> Starlette:
    routes = [
        Route("/api/v1/auth/token", ok, methods=["POST"]),
        Route("/admin/login", ok, methods=["GET", "POST"]),
        Route("/api/v1/webhooks/whatsapp", ok, methods=["GET"]),
        Route("/api/v1/webhooks/whatsapp", signed, methods=["POST"]),
        Route("/api/v1/webhooks/mercadopago", ok, methods=["POST"]),
        Route("/api/v1/webhooks/unsigned", unsigned, methods=["POST"]),
        Route("/api/v1/reservations", ok, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    # A busy machine must not make Redis look down (the limiter would let everything through).
    options.setdefault("redis_timeout", 5.0)
    app.add_middleware(RateLimitMiddleware, redis_getter=lambda: redis, **options)  # type: ignore[arg-type]
    return app


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(os.environ["REDIS_URL"])
    yield client
    await client.aclose()


@pytest.fixture
async def prefix() -> str:
    """Keys of one test never meet another's (or the application's own limiter).

    Windows are fixed minutes, so a test that counts requests starts at least 5 s before the next
    one begins: otherwise its requests could be split across two windows and never reach the limit.
    """
    left = 60 - time.time() % 60
    if left < 5:
        await asyncio.sleep(left + 0.05)
    return f"test-ratelimit:{uuid.uuid4().hex}"


def http(app: Starlette | object, client_ip: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def errors(where: str) -> float:
    value: float = ERRORS.labels(where)._value.get()
    return value


async def test_the_eleventh_login_in_a_minute_is_refused_with_retry_after(redis: Redis, prefix: str) -> None:
    async with http(tiny_app(redis, key_prefix=prefix)) as client:
        for _ in range(10):
            assert (await client.post("/api/v1/auth/token", data={"username": "a"})).status_code == 200
        response = await client.post("/api/v1/auth/token", data={"username": "a"})
    assert response.status_code == 429
    body = response.json()
    assert body["error"]["code"] == "rate_limited"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert body["error"]["retry_after"] == retry_after
    assert response.headers["content-type"] == "application/json"


async def test_admin_login_shares_the_login_budget(redis: Redis, prefix: str) -> None:
    async with http(tiny_app(redis, key_prefix=prefix, login_per_minute=3)) as client:
        for _ in range(2):
            assert (await client.post("/api/v1/auth/token")).status_code == 200
        assert (await client.post("/admin/login")).status_code == 200
        refused = await client.post("/admin/login")
        assert refused.status_code == 429
        assert (await client.get("/admin/login")).status_code == 200  # the form itself is not limited
        api = await client.post("/api/v1/auth/token")
    # The operator filled in a form: a short page in Spanish, not the API's JSON.
    assert refused.headers["content-type"] == "text/html; charset=utf-8"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert '<html lang="es-AR">' in refused.text
    assert "Demasiados intentos de ingreso" in refused.text
    assert "Esperá un minuto y volvé a probar." in refused.text
    assert 'href="/admin/login"' in refused.text
    # The API shares the budget and keeps answering JSON.
    assert api.status_code == 429
    assert api.headers["content-type"] == "application/json"
    assert api.json()["error"]["code"] == "rate_limited"


async def test_limits_are_per_client_ip_from_the_first_forwarded_hop(redis: Redis, prefix: str) -> None:
    async with http(tiny_app(redis, key_prefix=prefix, login_per_minute=2)) as client:
        for _ in range(2):
            assert (await client.post("/api/v1/auth/token")).status_code == 200
        assert (await client.post("/api/v1/auth/token")).status_code == 429
        other = {"X-Forwarded-For": "198.51.100.20, 10.0.0.2"}
        assert (await client.post("/api/v1/auth/token", headers=other)).status_code == 200
    async with http(tiny_app(redis, key_prefix=prefix, login_per_minute=2), client_ip="192.0.2.1") as client:
        assert (await client.post("/api/v1/auth/token")).status_code == 200


async def test_only_unsigned_webhooks_count_and_other_routes_none(redis: Redis, prefix: str) -> None:
    """Meta sends 50 signed messages a second from one IP: none counts. Unsigned ones (a Mercado Pago
    hint, a bad signature, a path nobody serves) use the budget; past it that IP is refused
    everything, signed or not, until the window ends."""
    async with http(tiny_app(redis, key_prefix=prefix, webhooks_per_minute=40)) as client:
        for n in range(200):
            assert (await client.post("/api/v1/webhooks/whatsapp", content=b"{}")).status_code == 200, n
        for n in range(40):
            path = ("/api/v1/webhooks/mercadopago", "/api/v1/webhooks/unsigned", "/api/v1/webhooks/nobody")[
                n % 3
            ]
            assert (await client.post(path, content=b"{}")).status_code in (200, 403, 404), n
        refused = await client.post("/api/v1/webhooks/whatsapp", content=b"{}")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # The GET handshake and everything else are not limited.
        assert (await client.get("/api/v1/webhooks/whatsapp")).status_code == 200
        for _ in range(60):
            assert (await client.post("/api/v1/reservations", json={})).status_code == 200
    # Another IP's budget is its own.
    async with http(
        tiny_app(redis, key_prefix=prefix, webhooks_per_minute=40), client_ip="192.0.2.7"
    ) as client:
        assert (await client.post("/api/v1/webhooks/mercadopago", content=b"{}")).status_code == 200


async def test_a_parallel_burst_of_unsigned_webhooks_is_held_to_the_budget(redis: Redis, prefix: str) -> None:
    """A request counts while it runs: 30 at once with a budget of 3 let 3 through."""
    async with http(tiny_app(redis, key_prefix=prefix, webhooks_per_minute=3)) as client:
        answers = await asyncio.gather(*(client.post("/api/v1/webhooks/unsigned") for _ in range(30)))
    assert sorted(a.status_code for a in answers) == [403] * 3 + [429] * 27


async def test_default_webhook_budget_is_well_above_the_login_one(redis: Redis, prefix: str) -> None:
    async with http(tiny_app(redis, key_prefix=prefix)) as client:
        for n in range(100):
            assert (await client.post("/api/v1/webhooks/whatsapp")).status_code == 200, n


async def test_a_zero_budget_turns_a_rule_off(redis: Redis, prefix: str) -> None:
    async with http(tiny_app(redis, key_prefix=prefix, login_per_minute=0, webhooks_per_minute=1)) as client:
        for _ in range(15):
            assert (await client.post("/api/v1/auth/token")).status_code == 200
        assert (await client.post("/api/v1/webhooks/unsigned")).status_code == 403
        assert (await client.post("/api/v1/webhooks/whatsapp")).status_code == 429


async def test_custom_rules(redis: Redis, prefix: str) -> None:
    rules = [Rule("booking", "/api/v1/reservations", limit=1)]
    async with http(tiny_app(redis, rules=rules, key_prefix=prefix)) as client:
        assert (await client.post("/api/v1/reservations")).status_code == 200
        assert (await client.post("/api/v1/reservations")).status_code == 429
        for _ in range(15):
            assert (await client.post("/api/v1/auth/token")).status_code == 200


async def test_redis_down_lets_requests_through_counts_and_logs_once(
    prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    before = errors("ratelimit.redis")
    app = tiny_app(dead, key_prefix=prefix, login_per_minute=1, backoff_seconds=0)
    try:
        with caplog.at_level(logging.WARNING, logger="alojamientos.observability.ratelimit"):
            async with http(app) as client:
                for _ in range(5):
                    assert (await client.post("/api/v1/auth/token")).status_code == 200
                    assert (await client.post("/api/v1/webhooks/mercadopago")).status_code == 200
    finally:
        await dead.aclose()
    assert errors("ratelimit.redis") == before + 10
    logged = [r for r in caplog.records if r.getMessage() == "ratelimit.redis_unavailable"]
    assert len(logged) == 1  # at most once a minute


async def test_redis_not_configured_limits_nothing(prefix: str) -> None:
    before = errors("ratelimit.redis")
    async with http(tiny_app(None, key_prefix=prefix, login_per_minute=1)) as client:
        for _ in range(5):
            assert (await client.post("/api/v1/auth/token")).status_code == 200
    assert errors("ratelimit.redis") == before


async def test_real_app_login_limited_and_booking_unaffected_when_redis_is_down(
    clean_db: str, prefix: str
) -> None:
    """The wiring `create_app` uses: the getter reads app.state.redis, set in the lifespan."""
    app = create_app(Settings(rate_limit_login_per_minute=10))
    client_ip = f"2001:db8::{uuid.uuid4().hex[:4]}"  # a fresh client: counts of earlier runs don't apply
    async with app.router.lifespan_context(app), http(app, client_ip=client_ip) as client:
        statuses = [
            (
                await client.post("/api/v1/auth/token", data={"username": "x@example.com", "password": "no"})
            ).status_code
            for _ in range(11)
        ]
        assert statuses[:10] == [401] * 10
        assert statuses[10] == 429

    down = create_app(
        Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_login_per_minute=10)
    )
    before = errors("ratelimit.redis")
    async with down.router.lifespan_context(down), http(down) as client:
        response = await client.post(
            "/api/v1/auth/token", data={"username": "x@example.com", "password": "no"}
        )
        assert response.status_code == 401  # reached the app: not blocked by the limiter
        health = await client.get("/api/v1/healthz")
        assert health.json()["status"] == "degraded"
    assert errors("ratelimit.redis") == before + 1
