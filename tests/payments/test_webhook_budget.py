"""The webhook rate limit through the real endpoints: only deliveries whose signature verified are
free; unsigned Mercado Pago hints, bad signatures and unknown paths use the budget, one at a time or
all at once."""

from __future__ import annotations

import asyncio

import httpx
from redis.asyncio import Redis

from alojamientos.config import Settings
from tests.fakes.mercadopago import ipn_notification
from tests.fixtures.api import operator_client

NO_AUTH = {"Authorization": ""}


async def _forget_webhook_counts(settings: Settings) -> None:
    redis = Redis.from_url(str(settings.redis_url))
    try:
        keys = [k async for k in redis.scan_iter("alojamientos:ratelimit*") if b"webhooks" in k]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def _flood(api: httpx.AsyncClient, path: str, n: int, **kwargs: object) -> list[int]:
    return [(await api.post(path, **kwargs)).status_code for _ in range(n)]  # type: ignore[arg-type]


async def test_unsigned_mercadopago_hints_never_count_against_the_webhook_budget(
    pay_settings: Settings, operator: None
) -> None:
    """Anyone may POST an unsigned Mercado Pago hint (IPN), and the endpoint answers 200 (`accepted`,
    then `duplicate`; `ignored` for a topic it does not act on): each costs a database transaction,
    so they use the budget (here 3 a minute) like any unsigned delivery."""
    settings = pay_settings.model_copy(update={"rate_limit_webhooks_per_minute": 3})
    await _forget_webhook_counts(settings)
    async with operator_client(settings) as api:
        hints = await _flood(api, ipn_notification("700000"), 20, headers=NO_AUTH)
        ignored = await _flood(api, ipn_notification("1", topic="nonsense"), 20, headers=NO_AUTH)
    assert 429 in hints, hints
    assert 429 in ignored, ignored


async def test_unknown_webhook_paths_and_wrong_methods_are_never_counted(
    pay_settings: Settings, operator: None
) -> None:
    """Probing paths nobody serves under /api/v1/webhooks/ uses the budget too."""
    settings = pay_settings.model_copy(update={"rate_limit_webhooks_per_minute": 3})
    await _forget_webhook_counts(settings)
    async with operator_client(settings) as api:
        codes = await _flood(api, "/api/v1/webhooks/nothing-here", 10, content=b"{}", headers=NO_AUTH)
    assert 429 in codes, codes


async def test_bad_signatures_are_cut_off_then_everything_from_that_ip(
    pay_settings: Settings, operator: None
) -> None:
    """What the change means to do, through the real endpoints: 3 refused WhatsApp deliveries
    (no signature: 401, wrong one: 403), then that IP is refused whatever it sends."""
    settings = pay_settings.model_copy(update={"rate_limit_webhooks_per_minute": 3})
    await _forget_webhook_counts(settings)
    async with operator_client(settings) as api:
        wa = "/api/v1/webhooks/whatsapp"
        first = await _flood(api, wa, 2, content=b"{}", headers=NO_AUTH)
        wrong = await api.post(wa, content=b"{}", headers={**NO_AUTH, "x-hub-signature-256": "sha256=00"})
        after = await api.post(ipn_notification("700001"), headers=NO_AUTH)
    assert first == [401, 401]
    assert wrong.status_code == 403
    assert after.status_code == 429


async def test_a_concurrent_burst_of_bad_signatures_is_held_to_the_budget(
    pay_settings: Settings, operator: None
) -> None:
    """A delivery counts while it runs: a burst of concurrent forged deliveries is held to the budget
    (3 here), not only a sender's one-after-another tries."""
    settings = pay_settings.model_copy(update={"rate_limit_webhooks_per_minute": 3})
    await _forget_webhook_counts(settings)
    async with operator_client(settings) as api:
        forged = {**NO_AUTH, "x-hub-signature-256": "sha256=00"}
        answers = await asyncio.gather(
            *(api.post("/api/v1/webhooks/whatsapp", content=b"{}", headers=forged) for _ in range(30))
        )
    codes = [a.status_code for a in answers]
    assert sorted(codes) == [403] * 3 + [429] * 27, codes
