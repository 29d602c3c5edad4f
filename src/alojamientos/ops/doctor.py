"""`alojamientos doctor`: the incident runbook's diagnostics in one command, each with what to do next."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from sqlalchemy import text

from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.observability.health import head_revision  # no Alembic import in the server
from alojamientos.ops.backup import latest_backup, offsite
from alojamientos.ops.checks import Check

BackupAge = Callable[[Settings], Awaitable[float | None]]
# A newest backup older than this is a finding (the panel's system page flags it the same way).
BACKUP_MAX_AGE_MINUTES = 24 * 60

QUERIES = {
    "no overlapping stays": (
        """SELECT count(*) FROM reservations a JOIN reservations b
             ON a.accommodation_id = b.accommodation_id AND a.id < b.id AND a.period && b.period
            WHERE a.status IN ('pre_reserved','confirmed') AND b.status IN ('pre_reserved','confirmed')""",
        "SEV1: the exclusion constraint is missing or was bypassed; check `\\d reservations` and restore it",
    ),
    "no holds past their expiry": (
        "SELECT count(*) FROM reservations"
        " WHERE status = 'pre_reserved' AND expires_at < now() - interval '5 minutes'",
        "the worker is not running or is stuck: `alojamientos worker`, then check its logs",
    ),
    "approved payments have confirmed stays": (
        """SELECT count(*) FROM payments p JOIN reservations r ON r.id = p.reservation_id
            WHERE p.status = 'approved' AND p.counted AND r.status NOT IN ('confirmed', 'completed')
              AND r.paid_amount >= r.deposit_amount""",
        "confirm them from the panel, or refund (see the refund_needed alerts)",
    ),
    "paid figures match the payments ledger": (
        # A reversal undoes its entry: minus a payment's amount, plus a refund's.
        """SELECT count(*) FROM reservations r
            WHERE r.paid_amount <> (
              SELECT coalesce(sum(CASE
                       WHEN p.kind = 'payment' THEN p.amount
                       WHEN p.kind = 'refund' THEN -p.amount
                       WHEN o.kind = 'payment' THEN -p.amount
                       ELSE p.amount END), 0)
                FROM payments p LEFT JOIN payments o ON o.id = p.reverses_id
               WHERE p.reservation_id = r.id AND p.counted)""",
        "SEV2: a paid amount was changed outside the ledger; compare GET /api/v1/reservations/{code}/payments"
        " with the stay and record the missing entry (or void the wrong one) from the panel",
    ),
    "no dead letters": (
        "SELECT count(*) FROM jobs WHERE status = 'dead'",
        "see GET /api/v1/jobs?status=dead, fix the cause, then retry them",
    ),
    "no stuck jobs": (
        "SELECT count(*) FROM jobs WHERE status = 'pending' AND run_at < now() - interval '10 minutes'",
        "the worker is behind or down: start `alojamientos worker`",
    ),
}


async def doctor(settings: Settings, backup_age: BackupAge) -> list[Check]:
    checks: list[Check] = []
    database = Database(settings)
    try:
        async with database.session_scope() as session:
            current = await session.scalar(text("SELECT version_num FROM alembic_version"))
            checks.append(
                Check(
                    "migrations at head",
                    current == head_revision(),
                    f"{current} (code: {head_revision()})",
                    "alojamientos db upgrade (or roll back the code)",
                )
            )
            for name, (query, fix) in QUERIES.items():
                count = await session.scalar(text(query)) or 0
                checks.append(Check(name, count == 0, f"{count} found" if count else "none", fix))
            held = await session.scalar(text("SELECT count(*) FROM jobs WHERE status = 'held'")) or 0
            checks.append(_channels(settings, held))
            stale = await session.scalar(
                text(
                    "SELECT count(*) FROM ical_feeds WHERE url IS NOT NULL AND"
                    " coalesce(last_success_at, created_at) < now() - make_interval(mins => :m)"
                ),
                {"m": 2 * settings.ical_sync_minutes},
            )
            checks.append(
                Check(
                    "calendar feeds fresh",
                    not stale,
                    f"{stale} stale" if stale else "all synced",
                    "see the feeds' last_error; `alojamientos ical sync` to retry now",
                )
            )
    except Exception as exc:  # the database itself is the finding
        checks.append(
            Check(
                "database reachable",
                False,
                f"{type(exc).__name__}: {exc}".splitlines()[0][:300],
                "SEV1: check PostgreSQL (systemctl status / docker compose ps) and DATABASE_URL",
            )
        )
    finally:
        await database.dispose()
    checks.append(await _redis(settings))
    age = await backup_age(settings)
    limit = BACKUP_MAX_AGE_MINUTES
    checks.append(
        Check(
            "backup within a day",
            age is not None and age <= limit,
            "no backup" if age is None else f"newest {age / 60:.1f} h old",
            "alojamientos backup create (and schedule it)",
        )
    )
    checks.append(await asyncio.to_thread(offsite_check, settings))
    return checks


def _channels(settings: Settings, held: int) -> Check:
    """A channel left unconfigured is a setting, not a finding: reported, never failed."""
    off = [
        name
        for name, configured in (
            ("WhatsApp", settings.whatsapp_configured),
            ("e-mail", settings.email_configured),
        )
        if not configured
    ]
    detail = "all configured" if not off else f"{' and '.join(off)} not configured"
    if held:
        detail += f"; {held} message(s) held until configured"
    return Check("channels", True, detail)


def offsite_check(settings: Settings) -> Check:
    """The newest backup has a verified copy off the machine (when a destination is configured): a
    failed last attempt, or none since the newest backup, is a finding."""
    name = "backup copied off the machine"
    if offsite.target(settings) is None:
        return Check(name, True, "not configured (BACKUP_S3_BUCKET or BACKUP_COPY_COMMAND)")
    newest = latest_backup(settings)
    if newest is None:
        return Check(name, True, "no backup yet")
    record = offsite.read_record(newest.path)
    fix = "see the error, fix the destination, then `alojamientos backup copy` (the worker retries too)"
    if record is None:
        return Check(name, False, f"{newest.path.name} has no off-machine copy yet", fix)
    if not record.ok:
        return Check(name, False, f"{newest.path.name}: last attempt failed: {record.detail}", fix)
    return Check(name, True, record.detail)


async def _redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("Redis reachable", True, "not configured")
    client = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
        return Check("Redis reachable", True, "PONG")
    except Exception as exc:  # any failure to talk to Redis is the finding
        return Check(
            "Redis reachable",
            False,
            f"{type(exc).__name__}: {exc}"[:200],
            "booking still works without it; restart Redis (rate limits are off meanwhile)",
        )
    finally:
        await client.aclose()
