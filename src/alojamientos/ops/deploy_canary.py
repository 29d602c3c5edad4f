"""The canary: PCT % of requests to the new slot, watched against the stable one, promoted or rolled back.

What is compared: each slot's own `/metrics` (alojamientos_http_requests_total by status), read on the
slot's port, plus its `/api/v1/healthz`. Not nginx's access log: nginx retries a request the canary
failed on the stable slot (proxy_next_upstream, so guests never see the canary's 5xx), which leaves a
log line like `500, 200` that is hard to attribute and lives in another container under compose, while
the application's own counter records every 5xx the canary produced, retried or not. The watcher's own
requests (/metrics, /api/v1/healthz) are left out of the counts.

Steps: PCT → 50 → 100 (PCT ≥ 50: PCT → 100), each watched for the window; the canary is rolled back as
soon as its health fails twice in a row or its 5xx rate exceeds the stable's by more than
DEPLOY_CANARY_MAX_ERROR_RATE (with at least one 5xx seen).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from prometheus_client.parser import text_string_to_metric_families

from alojamientos.ops.deploy import CanaryRolledBack, DeployError, canary_steps, move_traffic, pids, stop

if TYPE_CHECKING:
    from alojamientos.config import Settings
    from alojamientos.ops.deploy import Journal, Layout, State

WATCHER_ROUTES = {"/metrics", "/api/v1/healthz"}
TICK_SECONDS = 0.5


@dataclass(frozen=True)
class Counts:
    requests: float
    errors: float  # 5xx

    def __sub__(self, other: Counts) -> Counts:
        return Counts(self.requests - other.requests, self.errors - other.errors)

    @property
    def rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def line(self) -> str:
        return f"{self.errors:.0f} de {self.requests:.0f} con 5xx ({self.rate:.1%})".replace(".", ",")


def scrape(url: str) -> Counts:
    """alojamientos_http_requests_total summed over routes (but the watcher's), and its 5xx part."""
    response = httpx.get(f"{url}/metrics", timeout=3)
    response.raise_for_status()
    requests = errors = 0.0
    for family in text_string_to_metric_families(response.text):
        if family.name != "alojamientos_http_requests":
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total") or sample.labels.get("route") in WATCHER_ROUTES:
                continue
            requests += sample.value
            if sample.labels.get("status", "").startswith("5"):
                errors += sample.value
    return Counts(requests, errors)


def healthy(url: str) -> str | None:
    """None when the slot answers healthy (or degraded); otherwise why not."""
    try:
        response = httpx.get(f"{url}/api/v1/healthz", timeout=3)
        status = response.json().get("status")
    except (httpx.HTTPError, ValueError) as exc:
        return f"healthz: {type(exc).__name__}"
    return None if response.status_code == 200 and status in ("healthy", "degraded") else f"healthz {status}"


@dataclass(frozen=True)
class Verdict:
    bad: str | None  # why the canary must go, or None
    canary: Counts
    stable: Counts


def watch(layout: Layout, stable: str, canary: str, window: float, max_rate: float) -> Verdict:
    """Watches for `window` seconds (less when the canary fails early)."""
    stable_url, canary_url = layout.url(stable), layout.url(canary)
    try:
        base_stable, base_canary = scrape(stable_url), scrape(canary_url)
    except httpx.HTTPError as exc:
        zero = Counts(0, 0)
        return Verdict(f"no se pudieron leer las métricas ({type(exc).__name__})", zero, zero)
    deadline = time.monotonic() + window
    sick = 0
    seen_stable, seen_canary = Counts(0, 0), Counts(0, 0)
    while True:
        time.sleep(TICK_SECONDS)  # sampling interval of the watch
        problem = healthy(canary_url)
        if problem is None and not all(pids(layout, canary).values()):
            problem = "un proceso del canario terminó"
        sick = sick + 1 if problem else 0
        try:
            seen_canary = scrape(canary_url) - base_canary
            seen_stable = scrape(stable_url) - base_stable
        except httpx.HTTPError:
            sick += 1
            problem = problem or "no responde /metrics"
        if sick >= 2:
            return Verdict(f"el canario no está sano ({problem})", seen_canary, seen_stable)
        if seen_canary.errors and seen_canary.rate - seen_stable.rate > max_rate:
            why = (
                f"errores 5xx del canario {seen_canary.rate:.1%} contra {seen_stable.rate:.1%}"
                " de la versión estable"
            )
            return Verdict(why.replace(".", ","), seen_canary, seen_stable)
        if time.monotonic() >= deadline:
            return Verdict(None, seen_canary, seen_stable)


def run_canary(
    settings: Settings,
    layout: Layout,
    state: State,
    journal: Journal,
    *,
    stable: str,
    canary_slot: str,
    first: int,
    window: float,
) -> None:
    """Moves traffic step by step; on a bad verdict sends everything back to `stable`, stops the canary
    and raises CanaryRolledBack. On success the canary carries 100 % and `stable` is its backup."""
    tag, stable_tag = state.slots[canary_slot].version, state.slots[stable].version
    state.slots[canary_slot].role = "canary"
    state.save(layout)
    for weight in canary_steps(first):
        if weight == 100:
            seconds = move_traffic(
                layout,
                state,
                {canary_slot: 100, stable: "backup"},
                f"canary {canary_slot} {tag} promoted, previous {stable} {stable_tag}",
            )
            journal.step(
                "promote",
                f"canario {tag} al 100 %: atiende todo; {stable_tag} queda de respaldo",
                seconds=seconds,
                weight=100,
            )
            return
        seconds = move_traffic(
            layout,
            state,
            {stable: 100 - weight, canary_slot: weight},
            f"canary {canary_slot} {tag} at {weight} %, stable {stable} {stable_tag}",
        )
        journal.step(
            "canary",
            f"{weight} % de los pedidos a {tag} ({canary_slot}), {100 - weight} % a "
            f"{stable_tag} ({stable}); se observa {window:.0f} s",
            seconds=seconds,
            weight=weight,
        )
        verdict = watch(layout, stable, canary_slot, window, settings.deploy_canary_max_error_rate)
        figures = f"canario: {verdict.canary.line()}; estable: {verdict.stable.line()}"
        journal.step(
            "watch",
            figures
            + (f"; {verdict.bad}" if verdict.bad else "; sin problemas")
            + ("" if verdict.canary.requests else " (ningún pedido llegó al canario)"),
            ok=verdict.bad is None,
            weight=weight,
            canary=verdict.canary.rate,
            stable=verdict.stable.rate,
        )
        if verdict.bad:
            seconds = move_traffic(layout, state, {stable: 100}, f"canary {tag} rolled back: active {stable}")
            journal.step(
                "rollback",
                f"todo el tráfico vuelve a {stable_tag} ({stable}); una recarga",
                seconds=seconds,
                weight=0,
                ok=False,
            )
            journal.step("stop", f"{canary_slot} slot ({tag}): {stop(layout, canary_slot)}")
            state.slots[canary_slot].role = "stopped"
            state.slots[stable].keep_until = None
            state.save(layout)
            raise CanaryRolledBack(f"canary rolled back: {verdict.bad}")
    raise DeployError("unreachable: canary steps always end at 100")  # pragma: no cover
