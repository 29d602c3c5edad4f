"""Health: the database answers and its schema is at this code's head; Redis answers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text

from alojamientos import __version__
from alojamientos.db import Database
from alojamientos.migrations import head_revision
from alojamientos.observability.metrics import ERRORS

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0


async def _database(db: Database) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        current = await conn.scalar(text("select version_num from alembic_version"))
    head = head_revision()
    if current != head:
        return {
            "status": "unhealthy",
            "revision": current,
            "expected": head,
            "error": "the database schema is not at this version's migration head",
        }
    return {"status": "healthy", "revision": current}


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


async def health(db: Database, redis: Redis | None) -> dict[str, Any]:
    database, cache = await asyncio.gather(
        _run("database", _database(db), "unhealthy"),
        _run("redis", _redis(redis), "degraded"),  # Redis holds nothing that loses data
    )
    checks = {"database": database, "redis": cache}
    statuses = {c["status"] for c in checks.values()}
    overall = next((s for s in ("unhealthy", "degraded") if s in statuses), "healthy")
    return {
        "status": overall,
        "version": __version__,
        "revision": database.get("revision"),
        "checks": checks,
    }
