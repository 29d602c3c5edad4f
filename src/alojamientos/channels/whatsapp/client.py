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


MAX_MEDIA_BYTES = 16 * 1024 * 1024  # receipts are small; WhatsApp's own document limit is 100 MB


async def download_media(client: WhatsAppClient, media_id: str) -> tuple[bytes, str, str | None]:
    """GET /{media-id} for the short-lived URL, then GET the URL with the same token."""
    url, headers = client._endpoint(media_id)
    try:
        meta = await client.http.get(url, headers=headers, timeout=15)
        if meta.status_code == 429 or meta.status_code >= 500:
            raise RetryLater(f"WhatsApp media {meta.status_code}")
        if not meta.is_success:
            raise GiveUp(f"WhatsApp media {meta.status_code}: {meta.text[:200]}")
        info = meta.json()
        file = await client.http.get(str(info["url"]), headers=headers, timeout=30)
    except httpx.TransportError as exc:
        raise RetryLater(f"WhatsApp media unreachable: {type(exc).__name__}") from exc
    except (ValueError, KeyError) as exc:
        raise GiveUp("WhatsApp media answer without a URL") from exc
    if file.status_code == 429 or file.status_code >= 500:
        raise RetryLater(f"WhatsApp media download {file.status_code}")
    if not file.is_success:
        raise GiveUp(f"WhatsApp media download {file.status_code}")
    if len(file.content) > MAX_MEDIA_BYTES:
        raise GiveUp(f"media of {len(file.content)} bytes is over the {MAX_MEDIA_BYTES} limit")
    mime = str(info.get("mime_type") or file.headers.get("content-type") or "application/octet-stream")
    return file.content, mime, info.get("sha256")
