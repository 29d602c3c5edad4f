"""The Cloud API client: POST /{phone_number_id}/messages, with errors sorted into retry or give up."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from alojamientos.config import Settings
from alojamientos.jobs.worker import GiveUp, RetryLater

log = logging.getLogger(__name__)

WINDOW_CLOSED = 131047  # re-engagement: the 24-hour customer-service window has closed
RETRYABLE_CODES = {130429, 131056, 131000, 2}  # throughput, pair rate limit, generic, service unavailable


class WindowClosed(GiveUp):
    """Only a template may reach this guest now."""


class WhatsAppNotConfigured(GiveUp):
    pass


class WhatsAppClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    def _endpoint(self, path: str) -> tuple[str, dict[str, str]]:
        token = self.settings.whatsapp_access_token
        if not (self.settings.whatsapp_phone_number_id and token):
            raise WhatsAppNotConfigured("WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN are not set")
        base = self.settings.whatsapp_api_base.rstrip("/")
        return f"{base}/{path}", {"Authorization": f"Bearer {token.get_secret_value()}"}

    async def send(self, payload: dict[str, Any]) -> str:
        """Sends one message; returns its wamid. Raises RetryLater, WindowClosed or GiveUp."""
        url, headers = self._endpoint(f"{self.settings.whatsapp_phone_number_id}/messages")
        try:
            response = await self.http.post(url, json=payload, headers=headers, timeout=15)
        except httpx.TransportError as exc:
            raise RetryLater(f"WhatsApp unreachable: {type(exc).__name__}") from exc
        if response.is_success:
            try:
                return str(response.json()["messages"][0]["id"])
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise GiveUp(f"WhatsApp accepted the message but answered {response.text[:200]!r}") from exc
        code, detail = _error(response)
        if code == WINDOW_CLOSED:
            raise WindowClosed(detail)
        if response.status_code == 429 or response.status_code >= 500 or code in RETRYABLE_CODES:
            raise RetryLater(f"WhatsApp {response.status_code}: {detail}")
        raise GiveUp(f"WhatsApp {response.status_code}: {detail}")


def _error(response: httpx.Response) -> tuple[int | None, str]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return None, response.text[:200]
    code = error.get("code")
    return (code if isinstance(code, int) else None), f"{code} {error.get('message', '')}".strip()
