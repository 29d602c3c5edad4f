"""A local, protocol-faithful stand-in for Mercado Pago: Checkout Pro preferences, payments and
merchant orders.

It checks the bearer token, the preference fields we rely on (ARS item, external_reference,
notification_url, back_urls, expiration) and honours `X-Idempotency-Key`. Tests put payments in
`payments` (and orders grouping them in `merchant_orders`) and script failures with
`fail_next(status)`; every GET is logged in `fetches`. `signed_notification` builds a Webhooks
request exactly as Mercado Pago signs it, `ipn_notification` the older IPN one (query only, unsigned).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from alojamientos.payments.mercadopago.signature import sign
from tests.fakes.http import ThreadedServer

ACCESS_TOKEN = "APP_USR-test-token"
WEBHOOK_SECRET = "mp-test-webhook-secret"


@dataclass
class FakeMercadoPago:
    url: str = ""
    preferences: list[dict[str, Any]] = field(default_factory=list)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: deque[int] = field(default_factory=deque)
    merchant_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_fetches: int = 0
    fetches: list[str] = field(default_factory=list)  # the paths of every GET, in order
    _by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.preferences.clear()
            self.payments.clear()
            self.merchant_orders.clear()
            self.fetches.clear()
            self.failures.clear()
            self._by_key.clear()
            self.payment_fetches = 0

    def fail_next(self, status: int, times: int = 1) -> None:
        self.failures.extend([status] * times)

    def add_payment(self, payment_id: str, code: str, amount: str, status: str = "approved",
                    currency: str = "ARS") -> None:  # fmt: skip
        self.payments[payment_id] = {
            "id": int(payment_id), "status": status, "status_detail": "accredited" if status == "approved" else status,
            "transaction_amount": float(amount), "currency_id": currency, "external_reference": code,
            "date_approved": "2026-11-28T10:00:00.000-03:00" if status == "approved" else None,
            "payment_method_id": "account_money", "payment_type_id": "account_money", "order": {"id": 1},
        }  # fmt: skip

    def add_merchant_order(self, order_id: str, code: str, payment_ids: list[str]) -> None:
        """The order Checkout Pro opens for a preference; `payments` summarises the payments already
        in `payments` (as Mercado Pago does: id, status, amounts, currency), so add those first."""
        summaries = [
            {
                "id": int(pid), "transaction_amount": p["transaction_amount"], "total_paid_amount": p["transaction_amount"],
                "currency_id": p["currency_id"], "status": p["status"], "status_detail": p["status_detail"],
                "operation_type": "regular_payment", "date_approved": p["date_approved"],
            }
            for pid in payment_ids
            for p in [self.payments[pid]]
        ]  # fmt: skip
        paid = sum(p["transaction_amount"] for p in summaries if p["status"] == "approved")
        self.merchant_orders[order_id] = {
            "id": int(order_id), "status": "closed" if paid else "opened", "external_reference": code,
            "preference_id": f"123456-{int(order_id):08d}", "payments": summaries, "shipments": [], "payouts": [],
            "collector": {"id": 44444}, "marketplace": "NONE", "site_id": "MLA", "items": [],
            "total_amount": paid, "paid_amount": paid, "refunded_amount": 0, "cancelled": False,
            "order_status": "paid" if paid else "payment_required",
            "date_created": "2026-11-28T09:59:00.000-04:00", "last_updated": "2026-11-28T10:00:00.000-04:00",
        }  # fmt: skip

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {ACCESS_TOKEN}"

    def _scripted_failure(self) -> JSONResponse | None:
        with self._lock:
            if self.failures:
                status = self.failures.popleft()
                return JSONResponse({"message": "scripted failure", "status": status}, status_code=status)
        return None

    async def create_preference(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return JSONResponse({"message": "invalid token", "status": 401}, status_code=401)
        if failure := self._scripted_failure():
            return failure
        body = await request.json()
        item = (body.get("items") or [{}])[0]
        problems = [
            name for name, ok in (
                ("items.currency_id", item.get("currency_id") == "ARS"),
                ("items.unit_price", isinstance(item.get("unit_price"), int | float) and item["unit_price"] > 0),
                ("items.quantity", item.get("quantity") == 1),
                ("external_reference", bool(body.get("external_reference"))),
                ("notification_url", str(body.get("notification_url", "")).startswith("http")),
                ("back_urls", set(body.get("back_urls") or {}) == {"success", "pending", "failure"}),
                ("expiration_date_to", body.get("expires") is True and bool(body.get("expiration_date_to"))),
            ) if not ok
        ]  # fmt: skip
        if problems:
            return JSONResponse(
                {"message": f"invalid: {', '.join(problems)}", "status": 400}, status_code=400
            )
        key = request.headers.get("x-idempotency-key") or str(uuid.uuid4())
        with self._lock:
            if key in self._by_key:
                return JSONResponse(self._by_key[key], status_code=201)
            pref_id = f"123456-{next(self._ids):08d}"
            answer = {
                "id": pref_id,
                "init_point": f"https://www.mercadopago.com.ar/checkout/v1/redirect?pref_id={pref_id}",
                "sandbox_init_point": f"https://sandbox.mercadopago.com.ar/checkout/v1/redirect?pref_id={pref_id}",
                "external_reference": body["external_reference"],
            }
            self._by_key[key] = answer
            self.preferences.append(body)
        return JSONResponse(answer, status_code=201)

    async def get_payment(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return JSONResponse({"message": "invalid token", "status": 401}, status_code=401)
        with self._lock:
            self.payment_fetches += 1
            self.fetches.append(request.url.path)
        if failure := self._scripted_failure():
            return failure
        payment = self.payments.get(request.path_params["payment_id"])
        if payment is None:
            return JSONResponse({"message": "Payment not found", "status": 404}, status_code=404)
        return JSONResponse(payment)

    async def get_merchant_order(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return JSONResponse({"message": "invalid token", "status": 401}, status_code=401)
        with self._lock:
            self.fetches.append(request.url.path)
        if failure := self._scripted_failure():
            return failure
        order = self.merchant_orders.get(request.path_params["order_id"])
        if order is None:
            return JSONResponse(
                {"message": "Merchant Order not found", "error": "not_found", "status": 404}, status_code=404
            )
        return JSONResponse(order)


def signed_notification(resource_id: str, *, secret: str = WEBHOOK_SECRET, action: str = "payment.updated",
                        notification_id: int = 1, topic: str = "payment",
                        ) -> tuple[str, dict[str, str], dict[str, Any]]:  # fmt: skip
    """(path with query, headers, body) as Mercado Pago sends a Webhooks notification."""
    request_id = str(uuid.uuid4())
    ts = str(int(time.time()))
    body = {
        "id": notification_id, "live_mode": True, "type": topic, "date_created": "2026-11-28T10:00:00Z",
        "user_id": 44444, "api_version": "v1", "action": action, "data": {"id": resource_id},
    }  # fmt: skip
    headers = {"x-signature": sign(secret, resource_id, request_id, ts), "x-request-id": request_id}
    return f"/api/v1/webhooks/mercadopago?data.id={resource_id}&type={topic}", headers, body


def ipn_notification(resource_id: str, topic: str = "payment") -> str:
    """The path of an IPN notification (the format sent to a preference's `notification_url`):
    `?topic=…&id=…`, POSTed with an empty body and no `x-signature`."""
    return f"/api/v1/webhooks/mercadopago?topic={topic}&id={resource_id}"


class MercadoPagoServer:
    def __init__(self) -> None:
        self.fake = FakeMercadoPago()
        routes = [
            Route("/checkout/preferences", self.fake.create_preference, methods=["POST"]),
            Route("/v1/payments/{payment_id}", self.fake.get_payment, methods=["GET"]),
            Route("/merchant_orders/{order_id}", self.fake.get_merchant_order, methods=["GET"]),
        ]
        self.server = ThreadedServer(Starlette(routes=routes))
        self.fake.url = self.server.base

    def __enter__(self) -> FakeMercadoPago:
        self.server.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
