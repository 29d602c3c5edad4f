"""Prometheus metrics: HTTP traffic by route, reservation transitions, swallowed errors.

Only prometheus_client at import time: the parser and the CLI count errors here and must load fast.
Transitions are counted at commit by `observability.transitions`.

Under `serve --workers N` (N > 1) every process writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode, set before this module is
imported) and /metrics answers the sum over all of them (`exposition`), whichever process serves it."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "alojamientos_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "alojamientos_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RESERVATION_TRANSITIONS = Counter(
    "alojamientos_reservation_transitions_total",
    "Committed reservation state changes",
    ["from_status", "to_status"],
)
ICAL_LAG = Gauge(
    "alojamientos_ical_sync_lag_seconds",
    "Seconds since each iCal feed last synced successfully",
    ["feed", "source"],
    multiprocess_mode="mostrecent",  # set at scrape time by whichever process answers
)
JOBS = Counter("alojamientos_jobs_total", "Background jobs run, by kind and outcome", ["kind", "outcome"])
MERCADOPAGO_NOTIFICATIONS = Counter(
    "alojamientos_mercadopago_notifications_total",
    "Mercado Pago notifications by outcome (queued, coalesced, ignored, invalid, rate_limited, ...)",
    ["outcome"],
)
ERRORS = Counter("alojamientos_errors_total", "Exceptions handled without propagating, by where", ["where"])


def exposition() -> bytes:
    """The Prometheus text format of every metric: this process's, or all processes' under `serve`."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest()
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


class MetricsMiddleware:
    """Counts and times every request under its route template (never the raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # (method, route, status) → its counter and histogram children: `labels()` validates and
        # locks on every call, a dict lookup does not. Bounded: routes are templates, never paths.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            key = (scope["method"], _route_template(scope), status)
            children = self._children.get(key)
            if children is None:
                method, route, _ = key
                children = self._children[key] = (
                    HTTP_REQUESTS.labels(method, route, str(status)),
                    HTTP_LATENCY.labels(method, route),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return f"{scope.get('root_path', '')}{path}" if isinstance(path, str) else "unmatched"
