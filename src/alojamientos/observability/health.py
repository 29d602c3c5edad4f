"""Health: the database answers and its schema is at this code's head; Redis answers."""

from __future__ import annotations

import ast
import asyncio
import functools
import logging
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text

from alojamientos import __version__
from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.observability.metrics import ERRORS, ICAL_LAG

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0
VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


@functools.cache
def _migrations() -> tuple[frozenset[str], str]:
    """(every revision, the head), read from the revision files' `revision` / `down_revision`.

    The same answers as `alojamientos.migrations` (Alembic's ScriptDirectory; a test compares
    them), without importing Alembic into every server process (about 10 MB each)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            if not isinstance(target, ast.Name) or not isinstance(node, ast.Assign | ast.AnnAssign):
                continue
            value = ast.literal_eval(node.value) if node.value is not None else None
            if target.id == "revision":
                revisions.add(str(value))
            elif target.id == "down_revision" and value is not None:
                parents.update(value if isinstance(value, tuple | list) else [value])
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"expected one migration head, found {sorted(heads)}")
    return frozenset(revisions), heads.pop()


def head_revision() -> str:
    """This code's migration head."""
    return _migrations()[1]


def known_revisions() -> frozenset[str]:
    """Every revision this code's migrations know: one it does not know was written by a newer release."""
    return _migrations()[0]


async def _database(db: Database) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        current = await conn.scalar(text("select version_num from alembic_version"))
    head = head_revision()
    if current is not None and current not in known_revisions():
        # A newer release in the other slot migrated ahead (`deploy` lets only migrations through that
        # keep this release working: expand now, contract later). This version stays healthy.
        return {"status": "healthy", "revision": current, "expected": head, "ahead": True}
    if current != head:
        return {
            "status": "unhealthy",
            "revision": current,
            "expected": head,
            "error": "the database schema is not at this version's migration head",
        }
    return {"status": "healthy", "revision": current}


async def _calendars(db: Database, settings: Settings) -> dict[str, Any]:
    """Stale when a URL feed has not synced for twice the interval: other channels' bookings may be
    missing here."""
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT id, source, extract(epoch FROM now() - coalesce(last_success_at, created_at))"
                    " FROM ical_feeds WHERE url IS NOT NULL"
                )
            )
        ).all()
    limit = 2 * settings.ical_sync_minutes * 60
    stale = [
        {"feed_id": r[0], "source": r[1], "lag_seconds": round(float(r[2]))} for r in rows if r[2] > limit
    ]
    for feed_id, source, lag in rows:
        ICAL_LAG.labels(str(feed_id), source).set(float(lag))
    return {"status": "degraded" if stale else "healthy", "feeds": len(rows), "stale": stale}


async def _redis(redis: Redis | None) -> dict[str, Any]:
    if redis is None:
        return {"status": "healthy", "configured": False}
    await redis.ping()
    return {"status": "healthy", "configured": True}


async def _run(name: str, check: Any, failure_status: str) -> dict[str, Any]:
    try:
        result: dict[str, Any] = await asyncio.wait_for(check, CHECK_TIMEOUT)
        return result
    except Exception as exc:
        ERRORS.labels(f"health.{name}").inc()
        log.warning("health.check_failed", extra={"check": name, "error": repr(exc)})
        return {"status": failure_status, "error": f"{type(exc).__name__}: {exc}"[:300]}


async def health(db: Database, redis: Redis | None, settings: Settings) -> dict[str, Any]:
    database, cache, calendars = await asyncio.gather(
        _run("database", _database(db), "unhealthy"),
        _run("redis", _redis(redis), "degraded"),  # Redis holds nothing that loses data
        _run("calendars", _calendars(db, settings), "degraded"),
    )
    checks = {"database": database, "redis": cache, "calendars": calendars}
    statuses = {c["status"] for c in checks.values()}
    overall = next((s for s in ("unhealthy", "degraded") if s in statuses), "healthy")
    return {
        "status": overall,
        "version": __version__,
        "revision": database.get("revision"),
        "checks": checks,
    }
