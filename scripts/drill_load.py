"""The rollback drill's steady mixed load: what guests and the operator do while releases change under them.

`Load(...)` runs in a thread of its own (its own asyncio loop) and starts one request every
`1 / rate` seconds on a fixed schedule, whatever the previous requests are doing, so a slow or
failing release cannot lower the rate it is measured at. The mix, per ten requests:

    3  signed WhatsApp webhooks (POST /api/v1/webhooks/whatsapp) from a dozen guest phones, each
       phone walking a short conversation that gets replies (availability, a quote, questions);
       every message has its own wamid, signed like Meta signs (X-Hub-Signature-256, HMAC-SHA256
       of the raw body with the app secret: Meta's "Validating payloads" for Webhooks)
    3  availability queries (GET /api/v1/availability, bearer token)
    1  hold (POST /api/v1/reservations, status pre_reserved, transfer, bearer token); each hold has
       its own unit and nights, so a 409 means a real conflict, never the load's own overlap
    3  panel pages (GET /admin/, /admin/reservas, /admin/calendario, /admin/conversaciones) in the
       operator's logged-in session (cookie from the login form, as a browser does)

Every request opens its own connection (`Connection: close`): each guest is a different client,
and a reload of nginx never finds one of ours idle on a keep-alive connection it is closing.
Every response is recorded with the phase that was current when the request was sent.
A request failed when the answer is a 5xx or there was none (connection error, timeout). A 4xx is
the service answering (a conflict, a refusal) and is counted apart. What nginx retried on the
other slot and then answered with a 2xx is what the guest saw: a success.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from alojamientos.channels.whatsapp.signature import sign

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SCRIPT = (
    "hola, tienen lugar del 10 al 13 de marzo para 2?",
    "y del 17 al 20 de marzo para 3?",
    "aceptan mascotas?",
    "a qué hora es el check in?",
    "gracias!",
)
PANEL = ("/admin/", "/admin/reservas", "/admin/calendario", "/admin/conversaciones")
MIX = ("webhook", "availability", "panel", "webhook", "hold", "availability", "panel", "webhook",
       "availability", "panel")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Result:
    phase: str
    kind: str
    status: int | None  # None: no answer
    error: str | None
    seconds: float

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 500


@dataclass
class PhaseCount:
    sent: int = 0
    failed: int = 0
    client_errors: int = 0  # 4xx: answered, not failed
    failures: Counter[str] = field(default_factory=Counter)  # "kind: status or error" → count


@dataclass
class Target:
    """What the load needs to know about the service it hits (all through nginx)."""

    base: str  # https://127.0.0.1:PORT (nginx)
    app_secret: str  # WHATSAPP_APP_SECRET
    phone_number_id: str  # WHATSAPP_PHONE_NUMBER_ID
    operator_email: str
    operator_password: str
    units: list[int]  # accommodation ids the holds spread over
    holds_from: date  # first check-in of the holds (nights after the drill's own reservations)
    phones: int = 12


class Load:
    def __init__(self, target: Target, *, rate: float) -> None:
        self.target = target
        self.rate = rate
        self.phase = "idle"
        self.results: list[Result] = []
        self.holds: list[str] = []  # codes of holds that were created
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="drill-load", daemon=True
        )
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._run_id = f"{int(time.time() * 1000) % 10**9:09d}"

    # -- control (drill thread) -----------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(60)
        if self._error:
            raise RuntimeError(f"the load could not start: {self._error}") from self._error

    def set_phase(self, name: str) -> None:
        self.phase = name

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def counts(self) -> dict[str, PhaseCount]:
        by_phase: dict[str, PhaseCount] = {}
        for result in list(self.results):
            count = by_phase.setdefault(result.phase, PhaseCount())
            count.sent += 1
            if result.failed:
                count.failed += 1
                count.failures[f"{result.kind}: {result.status or result.error}"] += 1
            elif result.status is not None and result.status >= 400:
                count.client_errors += 1
        return by_phase

    def latencies(self) -> dict[str, tuple[int, float, float]]:
        """Per kind of request: (count, p50 ms, p95 ms) over every answered request."""
        by_kind: dict[str, list[float]] = {}
        for result in list(self.results):
            if result.status is not None:
                by_kind.setdefault(result.kind, []).append(result.seconds * 1000)
        out = {}
        for kind, values in sorted(by_kind.items()):
            values.sort()
            out[kind] = (len(values), values[len(values) // 2], values[int(len(values) * 0.95)])
        return out

    # -- the load (its own thread and loop) -----------------------------------------------------------

    async def _run(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0, max_connections=200)
        headers = {"Connection": "close", "User-Agent": "alojamientos-drill"}
        try:
            async with (
                httpx.AsyncClient(base_url=self.target.base, timeout=TIMEOUT, verify=False, limits=limits,  # noqa: S501 - our throwaway certificate
                                  headers=headers) as api,
                httpx.AsyncClient(base_url=self.target.base, timeout=TIMEOUT, verify=False, limits=limits,  # noqa: S501
                                  headers=headers) as panel,
            ):  # fmt: skip
                await self._login(api, panel)
                self._ready.set()
                await self._schedule(api, panel)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise

    async def _login(self, api: httpx.AsyncClient, panel: httpx.AsyncClient) -> None:
        token = await api.post(
            "/api/v1/auth/token",
            data={"username": self.target.operator_email, "password": self.target.operator_password},
        )
        token.raise_for_status()
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        form = await panel.get("/admin/login")
        csrf = CSRF.search(form.text)
        if not csrf:
            raise RuntimeError(f"no csrf_token in the login form (HTTP {form.status_code})")
        response = await panel.post(
            "/admin/login",
            data={
                "email": self.target.operator_email,
                "password": self.target.operator_password,
                "csrf_token": csrf.group(1),
            },
        )
        if response.status_code != 303:
            raise RuntimeError(f"panel login answered HTTP {response.status_code}")

    async def _schedule(self, api: httpx.AsyncClient, panel: httpx.AsyncClient) -> None:
        interval = 1 / self.rate
        started = time.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        counters = {kind: itertools.count() for kind in set(MIX)}
        for i in itertools.count():
            if self._stop.is_set():
                break
            await asyncio.sleep(max(0.0, started + i * interval - time.monotonic()))
            kind = MIX[i % len(MIX)]
            n = next(counters[kind])
            client = panel if kind == "panel" else api
            task = asyncio.create_task(self._one(client, kind, n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=30)

    async def _one(self, client: httpx.AsyncClient, kind: str, n: int) -> None:
        phase = self.phase
        sent = time.monotonic()
        try:
            response = await getattr(self, f"_{kind}")(client, n)
            status, error = response.status_code, None
        except httpx.HTTPError as exc:
            status, error = None, type(exc).__name__
        self.results.append(Result(phase, kind, status, error, time.monotonic() - sent))

    async def _webhook(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        phones = self.target.phones
        phone = f"549294455{n % phones:04d}"
        text = SCRIPT[(n // phones) % len(SCRIPT)]
        message = {
            "from": phone,
            "id": f"wamid.DRILL{self._run_id}{n:07d}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": text},
        }
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": self.target.phone_number_id},
            "contacts": [{"profile": {"name": f"Huésped {n % phones}"}, "wa_id": phone}],
            "messages": [message],
        }
        body = json.dumps({
            "object": "whatsapp_business_account",
            "entry": [{"id": "DRILL", "changes": [{"field": "messages", "value": value}]}],
        }).encode()  # fmt: skip
        return await client.post(
            "/api/v1/webhooks/whatsapp",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(self.target.app_secret, body),
            },
        )

    async def _availability(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        check_in = self.target.holds_from + timedelta(days=(n * 7) % 300)
        return await client.get(
            "/api/v1/availability",
            params={
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=2 + n % 3)).isoformat(),
                "guests": 2 + n % 2,
            },
        )

    async def _hold(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        units = self.target.units
        check_in = self.target.holds_from + timedelta(days=2 * (n // len(units)))
        response = await client.post(
            "/api/v1/reservations",
            json={
                "accommodation_id": units[n % len(units)],
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=2)).isoformat(),
                "guests": 2,
                "guest_name": f"Huésped Carga {n}",
                "guest_phone": f"+54911{56600000 + n}",
                "guest_email": f"huesped{n}@example.com",
                "status": "pre_reserved",
                "payment_method": "transfer",
            },
        )
        if response.status_code == 201:
            self.holds.append(response.json()["code"])
        return response

    async def _panel(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.get(PANEL[n % len(PANEL)])
