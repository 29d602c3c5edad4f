"""A local, protocol-faithful stand-in for the WhatsApp Cloud API's send endpoint.

It checks what Meta checks (bearer token, phone number id, `messaging_product`, message shapes and
interactive limits) and answers like Meta does, so the real client code is exercised end to end.
Tests can script failures: `graph.fail_next(status, code)`.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.http import ThreadedServer

PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "graph-test-token"


@dataclass
class FakeGraph:
    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    failures: deque[tuple[int, int | None]] = field(default_factory=deque)
    requests: int = 0
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, code: int | None = None, times: int = 1) -> None:
        for _ in range(times):
            self.failures.append((status, code))

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.failures.clear()
            self.media.clear()
            self.requests = 0

    async def media_info(self, request: Request) -> JSONResponse:
        """GET /{media-id}: a short-lived URL to the file, as the Cloud API answers."""
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return _error(401, 190, "Invalid OAuth access token.")
        media_id = request.path_params["media_id"]
        if media_id not in self.media:
            return _error(404, 100, "Unsupported get request.")
        content, mime = self.media[media_id]
        base = self.url.rsplit("/", 1)[0]
        return JSONResponse({
            "messaging_product": "whatsapp", "url": f"{base}/media-files/{media_id}", "mime_type": mime,
            "sha256": hashlib.sha256(content).hexdigest(), "file_size": len(content), "id": media_id,
        })  # fmt: skip

    async def media_file(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return Response(status_code=401)
        content, mime = self.media[request.path_params["media_id"]]
        return Response(content, media_type=mime)

    def texts_to(self, phone: str) -> list[str]:
        """What the guest read, in order: text bodies, interactive bodies, template parameters."""
        return [_readable(m) for m in self.sent if m["to"] == phone.lstrip("+")]

    async def messages(self, request: Request) -> JSONResponse:
        with self._lock:
            self.requests += 1
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return _error(401, 190, "Invalid OAuth access token.")
        if request.path_params["phone_id"] != PHONE_NUMBER_ID:
            return _error(400, 100, "Unsupported post request. Object does not exist.")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, 100, "Invalid JSON")
        problem = _validate(body)
        if problem:
            return _error(400, 100, f"(#100) Invalid parameter: {problem}")
        with self._lock:
            if self.failures:
                status, code = self.failures.popleft()
                return _error(status, code or status, "scripted failure")
            wamid = f"wamid.FAKE{next(self._ids):06d}"
            self.sent.append({**body, "_wamid": wamid, "_at": time.monotonic()})
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}],
            }
        )


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}},
        status_code=status,
    )


def _validate(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "messaging_product"
    if not str(body.get("to", "")).isdigit():
        return "to"
    kind = body.get("type")
    if kind == "text":
        text = (body.get("text") or {}).get("body")
        return None if isinstance(text, str) and 0 < len(text) <= 4096 else "text.body"
    if kind == "template":
        template = body.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            return "template"
        for component in template.get("components") or []:
            for parameter in component.get("parameters") or []:
                value = parameter.get("text", "")
                if not value or "\n" in value or "\t" in value or "     " in value:
                    return "template parameter"
        return None
    if kind == "interactive":
        interactive = body.get("interactive") or {}
        if not 0 < len((interactive.get("body") or {}).get("text", "")) <= 1024:
            return "interactive.body"
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            buttons = action.get("buttons") or []
            if not 1 <= len(buttons) <= 3:
                return "buttons count"
            if any(not 0 < len(b["reply"]["title"]) <= 20 or len(b["reply"]["id"]) > 256 for b in buttons):
                return "button title"
            return None
        if interactive.get("type") == "list":
            if not 0 < len(action.get("button", "")) <= 20:
                return "list button"
            rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
            if not 1 <= len(rows) <= 10:
                return "rows count"
            for row in rows:
                if (
                    not 0 < len(row["title"]) <= 24
                    or len(row.get("description", "")) > 72
                    or len(row["id"]) > 200
                ):
                    return "row"
            return None
        return "interactive.type"
    return "type"


def _readable(message: dict[str, Any]) -> str:
    kind = message["type"]
    if kind == "text":
        return str(message["text"]["body"])
    if kind == "template":
        return str(message["template"]["components"][0]["parameters"][0]["text"])
    interactive = message["interactive"]
    text = str(interactive["body"]["text"])
    if interactive["type"] == "button":
        return text + "".join(f"\n[{b['reply']['title']}]" for b in interactive["action"]["buttons"])
    rows = [row for section in interactive["action"]["sections"] for row in section["rows"]]
    return text + "".join(f"\n- {row['title']}" for row in rows)


class GraphServer:
    """FakeGraph on a free loopback port, as a context manager."""

    def __init__(self) -> None:
        self.graph = FakeGraph()
        routes = [
            Route("/v21.0/{phone_id}/messages", self.graph.messages, methods=["POST"]),
            Route("/v21.0/{media_id}", self.graph.media_info, methods=["GET"]),
            Route("/media-files/{media_id}", self.graph.media_file, methods=["GET"]),
        ]
        self.server = ThreadedServer(Starlette(routes=routes))
        self.graph.url = f"{self.server.base}/v21.0"

    def __enter__(self) -> FakeGraph:
        self.server.start()
        return self.graph

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
