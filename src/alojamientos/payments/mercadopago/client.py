"""Mercado Pago's REST API: Checkout Pro preferences and payments, through the base URL in settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from alojamientos.config import Settings
from alojamientos.jobs.worker import GiveUp, RetryLater


class MercadoPagoNotConfigured(GiveUp):
    pass


class MercadoPagoNotFound(GiveUp):
    """404: the resource is not one our token can see (an unsigned hint may name anything)."""


class MercadoPagoClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    @property
    def configured(self) -> bool:
        return self.settings.configured("mercadopago")

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        token = self.settings.mercadopago_access_token
        if token is None:
            raise MercadoPagoNotConfigured("MERCADOPAGO_ACCESS_TOKEN is not set")
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
        if idempotency_key:
            headers["X-Idempotency-Key"] = idempotency_key
        return headers

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self.settings.mercadopago_api_base.rstrip("/") + path
        try:
            response = await self.http.request(method, url, timeout=20, **kwargs)
        except httpx.TransportError as exc:
            raise RetryLater(f"Mercado Pago unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryLater(f"Mercado Pago {response.status_code}: {response.text[:200]}")
        if response.status_code == 404:
            raise MercadoPagoNotFound(f"Mercado Pago 404 for {path}")
        if not response.is_success:
            raise GiveUp(f"Mercado Pago {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise RetryLater(f"Mercado Pago answered non-JSON: {response.text[:100]!r}") from exc
        if not isinstance(body, dict):
            raise GiveUp("Mercado Pago answered an unexpected shape")
        return body

    async def create_preference(
        self,
        *,
        code: str,
        title: str,
        amount: Decimal,
        expires_at: datetime,
        payer_email: str | None,
        attempt_key: str,
    ) -> dict[str, Any]:
        """A Checkout Pro preference for the deposit; the idempotency key makes a retried call safe."""
        base = self.settings.public_base_url.rstrip("/")
        body: dict[str, Any] = {
            "items": [
                {
                    "id": code,
                    "title": title[:250],
                    "quantity": 1,
                    "unit_price": float(amount),
                    "currency_id": "ARS",
                }
            ],
            "external_reference": code,
            "notification_url": f"{base}/api/v1/webhooks/mercadopago",
            "back_urls": {
                "success": f"{base}/pago/{code}?estado=aprobado",
                "pending": f"{base}/pago/{code}?estado=pendiente",
                "failure": f"{base}/pago/{code}?estado=rechazado",
            },
            "auto_return": "approved",
            "expires": True,
            "expiration_date_to": expires_at.isoformat(timespec="milliseconds"),
            "statement_descriptor": "RESERVA",
            "metadata": {"reservation_code": code},
        }
        if payer_email:
            body["payer"] = {"email": payer_email}
        return await self._call(
            "POST", "/checkout/preferences", json=body, headers=self._headers(attempt_key)
        )

    async def payment(self, payment_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/payments/{payment_id}", headers=self._headers())

    async def merchant_order(self, order_id: str) -> dict[str, Any]:
        """`GET /merchant_orders/{id}`: the order behind a Checkout Pro preference, with `payments[]`
        (each `{id, status, transaction_amount, currency_id, ...}`, a summary: fetch each for the truth)."""
        return await self._call("GET", f"/merchant_orders/{order_id}", headers=self._headers())
