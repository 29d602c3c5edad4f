"""Mercado Pago notifications in every format it sends, each only a hint: the endpoint and the worker
against the fake, which is where the truth is fetched from (and whose `fetches` show every call)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from alojamientos.config import Settings
from alojamientos.jobs.worker import Worker
from alojamientos.kit.clock import utc_now
from alojamientos.payments.webhook import HINT_BUDGET_KEY
from tests.fakes.mercadopago import FakeMercadoPago, ipn_notification, signed_notification
from tests.fixtures.api import operator_client
from tests.fixtures.server import free_port
from tests.payments.test_payments import rows

WEBHOOK = "/api/v1/webhooks/mercadopago"
NO_AUTH = {"Authorization": ""}  # Mercado Pago sends no bearer token


async def status_of(api: httpx.AsyncClient, code: str) -> str:
    status: str = (await api.get(f"/api/v1/reservations/{code}")).json()["status"]
    return status


async def alert_kinds(api: httpx.AsyncClient) -> list[str]:
    return [a["kind"] for a in (await api.get("/api/v1/alerts")).json()]


async def test_the_ipn_format_confirms_the_approved_hold(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, clean_db: str
) -> None:
    """The issue's input: `?topic=payment&id=1234567890`, empty body, no x-signature."""
    mp.add_payment("1234567890", hold["code"], hold["deposit_amount"])
    answer = await api.post(f"{WEBHOOK}?topic=payment&id=1234567890", headers=NO_AUTH)
    assert (answer.status_code, answer.json()) == (200, {"status": "accepted"})
    await pay_worker.run_pending()
    assert mp.fetches == ["/v1/payments/1234567890"]
    detail = (await api.get(f"/api/v1/reservations/{hold['code']}")).json()
    assert (detail["status"], detail["paid_amount"]) == ("confirmed", hold["deposit_amount"])
    assert detail["events"][-1]["actor"] == "payment:mercadopago:1234567890"
    assert rows(clean_db, "SELECT count(*) FROM external_events WHERE handled_at IS NOT NULL") == [(1,)]
    assert rows(clean_db, "SELECT status FROM jobs WHERE kind = 'payments.mercadopago'") == [("done",)]


async def test_the_ipn_body_form_with_resource_confirms_too(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    """IPN also comes as `{"resource", "topic"}` in the body, with or without the query."""
    mp.add_payment("555001", hold["code"], hold["deposit_amount"])
    body = {"resource": "555001", "topic": "payment"}
    assert (await api.post(WEBHOOK, json=body, headers=NO_AUTH)).json() == {"status": "accepted"}
    await pay_worker.run_pending()
    assert mp.fetches == ["/v1/payments/555001"]
    assert await status_of(api, hold["code"]) == "confirmed"


async def test_the_webhooks_query_form_unsigned_confirms(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    """`?data.id=…&type=payment` with the Webhooks JSON body and no x-signature: a hint like any other."""
    mp.add_payment("777001", hold["code"], hold["deposit_amount"])
    path, _, body = signed_notification("777001")
    assert (await api.post(path, json=body, headers=NO_AUTH)).json() == {"status": "accepted"}
    await pay_worker.run_pending()
    assert mp.fetches == ["/v1/payments/777001"]
    assert await status_of(api, hold["code"]) == "confirmed"


async def test_the_webhooks_body_alone_unsigned_confirms(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    mp.add_payment("777002", hold["code"], hold["deposit_amount"])
    _, _, body = signed_notification("777002")
    body["data"]["id"] = 777002  # some senders give the id as a number
    assert (await api.post(WEBHOOK, json=body, headers=NO_AUTH)).json() == {"status": "accepted"}
    await pay_worker.run_pending()
    assert await status_of(api, hold["code"]) == "confirmed"


@pytest.mark.parametrize(
    "send",
    [
        pytest.param("ipn_query", id="ipn-query"),
        pytest.param("ipn_body", id="ipn-resource-url-body"),
        pytest.param("signed", id="signed-topic_merchant_order_wh"),
    ],
)
async def test_a_merchant_order_notification_fetches_the_order_then_each_payment(
    send: str, api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker,
) -> None:  # fmt: skip
    """The guest's first card was rejected, the second approved: both are recorded, the hold confirms."""
    mp.add_payment("880001", hold["code"], hold["deposit_amount"], status="rejected")
    mp.add_payment("880002", hold["code"], hold["deposit_amount"])
    mp.add_merchant_order("24680135", hold["code"], ["880001", "880002"])
    if send == "ipn_query":
        answer = await api.post(ipn_notification("24680135", "merchant_order"), headers=NO_AUTH)
    elif send == "ipn_body":
        answer = await api.post(
            ipn_notification("24680135", "merchant_order"),
            json={
                "resource": "https://api.mercadolibre.com/merchant_orders/24680135",
                "topic": "merchant_order",
            },
            headers=NO_AUTH,
        )
    else:
        path, headers, body = signed_notification(
            "24680135", topic="topic_merchant_order_wh", action="update"
        )
        answer = await api.post(path, json=body, headers=headers)
    assert answer.json() == {"status": "accepted"}
    await pay_worker.run_pending()
    assert mp.fetches == ["/merchant_orders/24680135", "/v1/payments/880001", "/v1/payments/880002"]
    assert await status_of(api, hold["code"]) == "confirmed"
    listed = (await api.get(f"/api/v1/reservations/{hold['code']}/payments")).json()
    assert sorted((p["provider_id"], p["status"], p["counted"]) for p in listed) == [
        ("880001", "rejected", False),
        ("880002", "approved", True),
    ]


async def test_a_merchant_order_without_payments_yet_changes_nothing(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, clean_db: str
) -> None:
    """Checkout Pro opens the order before the guest pays: fetched, nothing to reconcile, job done."""
    mp.add_merchant_order("24680136", hold["code"], [])
    await api.post(ipn_notification("24680136", "merchant_order"), headers=NO_AUTH)
    await pay_worker.run_pending()
    assert mp.fetches == ["/merchant_orders/24680136"]
    assert await status_of(api, hold["code"]) == "pre_reserved"
    assert rows(clean_db, "SELECT status FROM jobs WHERE starts_with(kind, 'payments.mercadopago')") == [
        ("done",)
    ]


async def test_the_signed_webhook_still_confirms_once(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    mp.add_payment("990001", hold["code"], hold["deposit_amount"])
    path, headers, body = signed_notification("990001")
    answers = [(await api.post(path, json=body, headers=headers)).json()["status"] for _ in range(2)]
    assert answers == ["accepted", "duplicate"]
    await pay_worker.run_pending()
    assert mp.fetches == ["/v1/payments/990001"]
    assert await status_of(api, hold["code"]) == "confirmed"


async def test_duplicate_hints_are_fetched_once_and_a_later_one_is_not_lost(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    """Hints for one payment, in any format, while its fetch is queued add nothing. Once it has run,
    the next hint is fetched in the next window (not now): the payment went pending → approved in
    between, and that approval must still confirm the hold."""
    mp.add_payment("4242", hold["code"], hold["deposit_amount"], status="pending")
    path, _, body = signed_notification("4242")
    sent = [
        await api.post(ipn_notification("4242"), headers=NO_AUTH),
        await api.post(ipn_notification("4242"), headers=NO_AUTH),
        await api.post(path, json=body, headers=NO_AUTH),
        await api.post(WEBHOOK, json={"resource": "4242", "topic": "payment"}, headers=NO_AUTH),
    ]
    assert [s.json()["status"] for s in sent] == ["accepted", "duplicate", "duplicate", "duplicate"]
    await pay_worker.run_pending()
    assert mp.fetches == ["/v1/payments/4242"]
    assert await status_of(api, hold["code"]) == "pre_reserved"

    mp.add_payment("4242", hold["code"], hold["deposit_amount"])  # approved now
    later = [(await api.post(ipn_notification("4242"), headers=NO_AUTH)).json()["status"] for _ in range(3)]
    assert later == ["accepted", "duplicate", "duplicate"]
    await pay_worker.run_pending()
    assert mp.fetches == ["/v1/payments/4242"]  # not within the same window
    await pay_worker.run_pending(now=utc_now() + timedelta(hours=1))
    assert mp.fetches == ["/v1/payments/4242", "/v1/payments/4242"]
    assert await status_of(api, hold["code"]) == "confirmed"


async def test_hints_for_a_payment_and_an_order_with_the_same_number_are_not_merged(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    mp.add_payment("31337", hold["code"], hold["deposit_amount"])
    mp.add_merchant_order("31337", hold["code"], ["31337"])
    assert (await api.post(ipn_notification("31337"), headers=NO_AUTH)).json()["status"] == "accepted"
    assert (await api.post(ipn_notification("31337", "merchant_order"), headers=NO_AUTH)).json()[
        "status"
    ] == "accepted"
    await pay_worker.run_pending()
    assert sorted(mp.fetches) == ["/merchant_orders/31337", "/v1/payments/31337", "/v1/payments/31337"]
    [payment] = (await api.get(f"/api/v1/reservations/{hold['code']}/payments")).json()
    assert (payment["counted"], payment["amount"]) == (True, hold["deposit_amount"])  # counted once


@pytest.mark.parametrize(
    ("payment", "alert"),
    [
        pytest.param({"amount": "1000"}, "payment_problem", id="amount-short"),
        pytest.param({"currency": "USD"}, "payment_problem", id="currency-usd"),
        pytest.param({"code": "ZZZZ99"}, "payment_problem", id="reference-unknown"),
        pytest.param({"code": ""}, "payment_problem", id="reference-missing"),
        pytest.param({"status": "in_process"}, None, id="not-approved-yet"),
        pytest.param({"status": "rejected"}, "payment_problem", id="rejected"),
    ],
)
async def test_an_ipn_for_a_payment_that_does_not_match_does_not_confirm(
    payment: dict[str, str], alert: str | None, api: httpx.AsyncClient, hold: dict[str, Any],
    mp: FakeMercadoPago, pay_worker: Worker,
) -> None:  # fmt: skip
    values = {"code": hold["code"], "amount": hold["deposit_amount"], **payment}
    mp.add_payment("6060", values.pop("code"), values.pop("amount"), **values)
    assert (await api.post(ipn_notification("6060"), headers=NO_AUTH)).status_code == 200
    await pay_worker.run_pending()
    assert mp.fetches == ["/v1/payments/6060"]
    detail = (await api.get(f"/api/v1/reservations/{hold['code']}")).json()
    assert detail["status"] == "pre_reserved"
    assert detail["paid_amount"] == ("1000.00" if payment == {"amount": "1000"} else "0.00")
    assert await alert_kinds(api) == ([alert] if alert else [])


async def test_an_unsigned_hint_for_a_payment_we_cannot_see_is_done_quietly(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker, clean_db: str
) -> None:
    """Anyone can name any number: Mercado Pago's 404 ends the job (no dead letter, no alert to page
    the operator); the dashboard's "simulate" notification (id 123456) is one such."""
    for resource, topic in (("123456", "payment"), ("99999999", "merchant_order")):
        assert (await api.post(ipn_notification(resource, topic), headers=NO_AUTH)).status_code == 200
    await pay_worker.run_pending()
    assert sorted(mp.fetches) == ["/merchant_orders/99999999", "/v1/payments/123456"]
    assert rows(clean_db, "SELECT status FROM jobs WHERE starts_with(kind, 'payments.mercadopago')") == [
        ("done",),
        ("done",),
    ]
    assert (await api.get("/api/v1/jobs", params={"status": "dead"})).json() == []
    assert await alert_kinds(api) == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("?topic=payment", None, "data.id", id="no-id"),
        pytest.param("?topic=payment&id=", None, "data.id", id="empty-id"),
        pytest.param("?topic=payment&id=abc", None, "data.id", id="non-numeric-id"),
        pytest.param("?topic=payment&id=-5", None, "data.id", id="negative-id"),
        pytest.param("?topic=payment&id=1e9", None, "data.id", id="exponent-id"),
        pytest.param("?topic=payment&id=12345678901234567890123", None, "data.id", id="huge-id"),
        pytest.param("?topic=merchant_order&id=12%2F..%2F34", None, "data.id", id="path-in-id"),
        pytest.param("?id=123", None, "type", id="no-topic"),
        pytest.param("?topic=payment&id=1&id=2", None, "id", id="repeated-id"),
        pytest.param("?type=payment&topic=merchant_order&id=1", None, "type", id="repeated-topic-kinds"),
        pytest.param(
            "?data.id=1&type=payment", {"type": "payment", "data": {"id": "2"}}, "data.id", id="ids-disagree"
        ),
        pytest.param("?data.id=1&type=payment", {"type": "merchant_order"}, "type", id="topics-disagree"),
        pytest.param("", {"type": "payment", "data": {"id": {"x": 1}}}, "data.id", id="object-id"),
        pytest.param("", {"type": "payment", "data": {"id": True}}, "data.id", id="boolean-id"),
        pytest.param("", {}, "type", id="empty-object"),
        pytest.param("", None, "type", id="nothing-at-all"),
    ],
)
async def test_malformed_notifications_get_a_clear_400_and_nothing_is_fetched(
    path: str, body: dict[str, Any] | None, field: str, api: httpx.AsyncClient, mp: FakeMercadoPago,
    pay_worker: Worker, clean_db: str,
) -> None:  # fmt: skip
    """Shapes Mercado Pago never sends for payments and orders: a person or a bug sent them, and a
    clear 400 helps; Mercado Pago itself never gets one, so no retry storm follows."""
    answer = await api.post(WEBHOOK + path, json=body, headers=NO_AUTH)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert (error["code"], error.get("field")) == ("invalid_notification", field)
    assert error["message"]
    await pay_worker.run_pending()
    assert mp.fetches == []
    assert rows(clean_db, "SELECT count(*) FROM jobs WHERE starts_with(kind, 'payments.mercadopago')") == [
        (0,)
    ]


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[1, 2]", b'"payment"', b"\xff\xfe", b"{"],
    ids=["text", "array", "string", "binary", "cut"],
)
async def test_a_body_that_is_not_a_json_object_is_a_400(
    content: bytes, api: httpx.AsyncClient, mp: FakeMercadoPago
) -> None:
    answer = await api.post(WEBHOOK, content=content, headers={**NO_AUTH, "content-type": "application/json"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_notification")


async def test_a_huge_body_is_refused_before_it_is_read_whole(
    api: httpx.AsyncClient, mp: FakeMercadoPago
) -> None:
    big = b'{"type": "payment", "data": {"id": "1"}, "pad": "' + b"x" * (64 * 1024) + b'"}'
    answer = await api.post(WEBHOOK, content=big, headers=NO_AUTH)
    assert (answer.status_code, answer.json()["error"]["code"]) == (413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams in
        for _ in range(64):
            yield b"x" * 1024

    streamed = await api.post(WEBHOOK, content=chunks(), headers=NO_AUTH)
    assert (streamed.status_code, streamed.json()["error"]["code"]) == (413, "payload_too_large")
    assert mp.fetches == []


@pytest.mark.parametrize(
    "path",
    [
        "?topic=chargebacks&id=123",
        "?type=order&data.id=ORD01JQ4S4KY8HWQ6NA5PXB65B3D3",  # the Orders API's alphanumeric ids
        "?type=point_integration_wh&data.id=abc",
        "?topic=delivery&id=1",
        "?type=subscription_preapproval&data.id=2c938084726fca480172750000000000",
    ],
)
async def test_topics_we_do_not_act_on_are_acknowledged_and_ignored(
    path: str, api: httpx.AsyncClient, mp: FakeMercadoPago, pay_worker: Worker, clean_db: str
) -> None:
    """Mercado Pago sends these if the operator ticks them in the dashboard; a 4xx would be retried
    every 15 minutes for days, so they get 200 "ignored" and nothing is fetched."""
    answer = await api.post(WEBHOOK + path, headers=NO_AUTH)
    assert (answer.status_code, answer.json()) == (200, {"status": "ignored"})
    await pay_worker.run_pending()
    assert mp.fetches == []
    assert rows(clean_db, "SELECT count(*) FROM external_events") == [(0,)]


async def test_with_no_webhook_secret_notifications_are_still_hints(
    pay_settings: Settings, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    """An operator who only set the access token (the preference's notification_url needs no secret)
    still gets payments confirmed; a signature we cannot check is not trusted, only hinted."""
    settings = pay_settings.model_copy(update={"mercadopago_webhook_secret": None})
    async with operator_client(settings) as api:
        mp.add_payment("1111", hold["code"], hold["deposit_amount"])
        path, headers, body = signed_notification("1111", secret="whatever")
        assert (await api.post(path, json=body, headers=headers)).json() == {"status": "accepted"}
        assert (await api.post(ipn_notification("1111"), headers=NO_AUTH)).json() == {"status": "duplicate"}
        await pay_worker.run_pending()
        assert mp.fetches == ["/v1/payments/1111"]
        assert await status_of(api, hold["code"]) == "confirmed"


async def test_without_an_access_token_the_endpoint_is_off(pay_settings: Settings, operator: None) -> None:
    settings = pay_settings.model_copy(update={"mercadopago_access_token": None})
    async with operator_client(settings) as api:
        answer = await api.post(ipn_notification("1"), headers=NO_AUTH)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")


@pytest.fixture
async def limited(pay_settings: Settings, operator: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app allowing 3 new fetches from unsigned hints a minute, with this minute's count at 0."""
    left = 60 - time.time() % 60
    if left < 5:  # fixed minutes: the flood must land in one
        await asyncio.sleep(left + 0.05)
    redis = Redis.from_url(str(pay_settings.redis_url))
    try:
        keys = [key async for key in redis.scan_iter(f"{HINT_BUDGET_KEY}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
    settings = pay_settings.model_copy(update={"mercadopago_hints_per_minute": 3})
    async with operator_client(settings) as api:
        yield api


async def test_a_flood_of_unsigned_hints_is_limited_and_signed_ones_still_pass(
    limited: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    """Distinct made-up ids, each a new fetch: after the minute's 3, 429 with Retry-After (Mercado
    Pago delivers again later, so a real one is only delayed). Repeats of a queued id cost nothing,
    and signed notifications are never limited."""
    answers = [await limited.post(ipn_notification(str(700000 + n)), headers=NO_AUTH) for n in range(8)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429, 429, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    repeats = [await limited.post(ipn_notification("700000"), headers=NO_AUTH) for _ in range(5)]
    assert {(a.status_code, a.json()["status"]) for a in repeats} == {(200, "duplicate")}

    mp.add_payment("8080", hold["code"], hold["deposit_amount"])
    path, headers, body = signed_notification("8080")
    assert (await limited.post(path, json=body, headers=headers)).json() == {"status": "accepted"}
    await pay_worker.run_pending()
    assert sorted(mp.fetches) == [
        "/v1/payments/700000",
        "/v1/payments/700001",
        "/v1/payments/700002",
        "/v1/payments/8080",
    ]
    assert await status_of(limited, hold["code"]) == "confirmed"


async def test_when_the_limiter_cannot_be_asked_hints_are_refused_for_later(
    pay_settings: Settings, hold: dict[str, Any], mp: FakeMercadoPago, clean_db: str
) -> None:
    """Redis down: an unsigned hint cannot be counted, so it is not fetched unbounded; 503 with
    Retry-After makes Mercado Pago deliver it again. A signed notification needs no count."""
    settings = pay_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with operator_client(settings) as api:
        answer = await api.post(ipn_notification("5150"), headers=NO_AUTH)
        assert answer.status_code == 503
        assert (answer.json()["error"]["code"], answer.headers["retry-after"]) == (
            "rate_limiter_unavailable",
            "60",
        )
        path, headers, body = signed_notification("5151")
        assert (await api.post(path, json=body, headers=headers)).json() == {"status": "accepted"}
    assert rows(clean_db, "SELECT payload->>'payment_id' FROM jobs WHERE kind = 'payments.mercadopago'") == [
        ("5151",)
    ]


async def test_concurrent_hints_for_one_payment_queue_one_fetch(
    api: httpx.AsyncClient, hold: dict[str, Any], mp: FakeMercadoPago, pay_worker: Worker
) -> None:
    """Mercado Pago's IPN and Webhooks deliveries of one payment can arrive at the same moment."""
    mp.add_payment("2468", hold["code"], hold["deposit_amount"])
    answers = await asyncio.gather(*(api.post(ipn_notification("2468"), headers=NO_AUTH) for _ in range(10)))
    assert sorted(a.json()["status"] for a in answers) == ["accepted"] + ["duplicate"] * 9
    await pay_worker.run_pending()
    assert mp.fetches == ["/v1/payments/2468"]
    assert await status_of(api, hold["code"]) == "confirmed"
