"""Backups that check themselves: PostgreSQL (custom format) plus the Redis snapshot, in one file.

A backup is `BACKUP_DIR/alojamientos-<UTC time>-<revision>.tar` (uncompressed tar) holding
`manifest.json` (+ `manifest.json.sha256`), `postgres.dump` and, when Redis is configured,
`redis.rdb`. The manifest records the versions, per-table row counts and content checksums (taken from
the same snapshot as the dump), the Redis digest, and the sha256 and size of every member.

Every function here is SYNCHRONOUS and blocking (they run pg_dump, pg_restore and redis-server); call
them from async code with `await asyncio.to_thread(create_backup, settings)`. Failures that stop the
work raise `BackupError` (an `AppError`, one-line message); `verify_backup` and `restore_backup`
report what they checked as `Check` records instead, so the caller decides how to show them.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import alojamientos
from alojamientos.config import Settings
from alojamientos.ops.backup import archive, postgres, redis_snapshot
from alojamientos.ops.backup.archive import (
    PG_DUMP,
    REDIS_RDB,
    BackupInfo,
    latest_backup,
    list_backups,
    prune_backups,
    read_manifest,
)
from alojamientos.ops.backup.common import BackupError, Progress, human_size, say
from alojamientos.ops.checks import Check

__all__ = [
    "BackupError",
    "BackupInfo",
    "Check",
    "Progress",
    "create_backup",
    "describe_target",
    "latest_backup",
    "list_backups",
    "prune_backups",
    "read_manifest",
    "restore_backup",
    "verify_backup",
]

# --- create -------------------------------------------------------------------------------------------


def create_backup(settings: Settings, *, progress: Progress | None = None) -> Path:
    """Writes a new backup file (atomically: a crash leaves no half file) and returns its path."""
    started = time.monotonic()
    created = datetime.now(UTC)  # the data's point in time: the PostgreSQL snapshot is taken next
    directory = archive.backup_dir(settings)
    tgt = postgres.target(settings.database_url)
    if settings.redis_url:
        redis_snapshot.ping(settings.redis_url)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".creating-") as tmp:
        work = Path(tmp)
        stats = postgres.dump(tgt, work / PG_DUMP, progress)
        with postgres.connect(tgt) as conn:
            server_version = str(conn.info.server_version)
        members = [PG_DUMP]
        redis_part: dict[str, Any] | None = None
        if settings.redis_url:
            version = redis_snapshot.snapshot(settings.redis_url, work / REDIS_RDB, progress)
            source_db = _redis_db(settings.redis_url)
            with redis_snapshot.loaded(work / REDIS_RDB, db=source_db) as snap:
                dig = redis_snapshot.digest(snap)
            say(progress, f"Redis: {dig.keys} keys ({dig.volatile_keys} with expiry, not compared)")
            redis_part = {**dig.as_dict(), "redis_version": version}
            members.append(REDIS_RDB)
        manifest = {
            "format": archive.FORMAT,
            "app_version": alojamientos.__version__,
            "revision": stats.revision,
            "created_at": created.isoformat(),
            "database": {
                "name": tgt.database,
                "host": tgt.host,
                "port": tgt.port,
                "user": tgt.user,
                "server_version": server_version,
            },
            "postgres": {"tables": stats.tables, "total_rows": stats.total_rows},
            "redis": redis_part,
            "files": {
                name: {"size": (work / name).stat().st_size, "sha256": archive.sha256_file(work / name)}
                for name in members
            },
        }
        final = archive.write(directory, work, manifest, members, stats.revision)
    say(
        progress,
        f"wrote {final} ({human_size(final.stat().st_size)}) in {time.monotonic() - started:.1f}s",
    )
    return final


def _redis_db(url: str) -> int:
    conn = redis_snapshot.client(url)
    try:
        return redis_snapshot.db_index(conn)
    finally:
        conn.close()


# --- verify -------------------------------------------------------------------------------------------


def _compare_tables(label: str, expected: dict[str, Any], got: postgres.Stats) -> list[Check]:
    want: dict[str, dict[str, Any]] = expected["postgres"]["tables"]
    problems = []
    for table in sorted(set(want) | set(got.tables)):
        a, b = want.get(table), got.tables.get(table)
        if a is None:
            problems.append(f"{table} is not in the backup")
        elif b is None:
            problems.append(f"{table} is missing")
        elif a["rows"] != b["rows"]:
            problems.append(f"{table} has {b['rows']} rows, backup {a['rows']}")
        elif a["sha256"] != b["sha256"]:
            problems.append(f"{table} content differs")
    rows = Check(
        f"{label} rows and checksums",
        not problems,
        "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
        if problems
        else f"{len(want)} tables, {expected['postgres']['total_rows']} rows match",
    )
    revision = Check(
        f"{label} revision",
        got.revision == expected["revision"],
        f"{got.revision or 'none'}"
        + ("" if got.revision == expected["revision"] else f", backup has {expected['revision'] or 'none'}"),
    )
    return [rows, revision]


def _check_sequences(label: str, tgt: postgres.Target) -> Check:
    with postgres.connect(tgt) as conn:
        problems = postgres.sequence_problems(conn)
    return Check(f"{label} sequences", not problems, "; ".join(problems[:3]) or "ahead of their columns")


def _compare_redis(label: str, expected: dict[str, Any], got: redis_snapshot.Digest) -> Check:
    ok = got.keys == expected["keys"] and got.sha256 == expected["digest"]
    detail = f"{got.keys} keys, digest matches"
    if got.keys != expected["keys"]:
        detail = f"{got.keys} keys, backup has {expected['keys']}"
    elif not ok:
        detail = f"{got.keys} keys but their values differ from the backup"
    return Check(label, ok, detail)


def verify_backup(settings: Settings, path: Path, *, progress: Progress | None = None) -> list[Check]:
    """Checks the archive and every member, restores PostgreSQL into a scratch database (dropped after)
    and loads the Redis snapshot into a private redis-server, comparing everything with the manifest.
    All `ok` means the backup restores to exactly what it recorded."""
    with archive.unpacked(settings, path) as (manifest, work, checks):
        return _verify_unpacked(settings, manifest, work, checks, progress)


def _verify_unpacked(
    settings: Settings, manifest: dict[str, Any], work: Path, checks: list[Check], progress: Progress | None
) -> list[Check]:
    if not all(c.ok for c in checks):
        return checks
    tgt = postgres.target(settings.database_url)
    with postgres.scratch_database(tgt) as scratch:
        try:
            postgres.restore_into_empty(scratch, work / PG_DUMP, progress)
        except BackupError as exc:
            return [*checks, Check("PostgreSQL restore", False, str(exc))]
        checks.append(Check("PostgreSQL restore", True, f"into scratch database {scratch.database}"))
        with postgres.connect(scratch) as conn:
            checks += _compare_tables("PostgreSQL", manifest, postgres.stats(conn, progress))
        checks.append(_check_sequences("PostgreSQL", scratch))
    redis_part = manifest.get("redis")
    if redis_part is not None:
        rdb = work / REDIS_RDB
        problem = redis_snapshot.check_rdb(rdb)
        checks.append(Check("Redis snapshot format", problem is None, problem or "redis-check-rdb ok"))
        say(progress, "loading the Redis snapshot into a private redis-server…")
        try:
            with redis_snapshot.loaded(rdb, db=int(redis_part["db"])) as snap:
                checks.append(
                    _compare_redis("Redis keys and digest", redis_part, redis_snapshot.digest(snap))
                )
        except BackupError as exc:
            checks.append(Check("Redis keys and digest", False, str(exc)))
    return checks


# --- restore ------------------------------------------------------------------------------------------


def describe_target(settings: Settings) -> str:
    tgt = postgres.target(settings.database_url)
    text = f"PostgreSQL database {tgt.database} on {tgt.host}:{tgt.port}"
    if settings.redis_url:
        conn = redis_snapshot.client(settings.redis_url)
        kwargs = conn.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        text += f" and Redis database {kwargs.get('db', 0)} at {where}"
    return text


def restore_backup(settings: Settings, path: Path, *, progress: Progress | None = None) -> list[Check]:
    """Verifies `path`, takes a safety backup of the current state (its path is in the "safety backup"
    check), replaces PostgreSQL (one transaction) and the Redis database with the backup's, then checks
    that both now hold exactly what the manifest recorded. Nothing is changed unless verification and
    the safety backup succeed."""
    say(progress, f"verifying {path.name} before restoring…")
    # The files verified are the very files restored: the archive is read once.
    with archive.unpacked(settings, path) as (manifest, work, unpack_checks):
        checks = _verify_unpacked(settings, manifest, work, unpack_checks, progress)
        if not all(c.ok for c in checks):
            return [
                *checks,
                Check("restore", False, "not attempted: the backup did not verify; nothing changed"),
            ]
        say(progress, "taking a safety backup of the current state…")
        try:
            safety = create_backup(settings, progress=progress)
        except BackupError as exc:
            return [*checks, Check("safety backup", False, f"{exc}; nothing changed")]
        checks.append(Check("safety backup", True, str(safety)))
        tgt = postgres.target(settings.database_url)
        try:
            postgres.restore_replacing(tgt, work / PG_DUMP, progress)
        except BackupError as exc:
            return [*checks, Check("PostgreSQL restore", False, str(exc))]
        checks.append(Check("PostgreSQL restore", True, f"{tgt.database} on {tgt.host}:{tgt.port} replaced"))
        with postgres.connect(tgt) as conn:
            checks += _compare_tables("PostgreSQL", manifest, postgres.stats(conn, progress))
        checks.append(_check_sequences("PostgreSQL", tgt))
        redis_part = manifest.get("redis")
        if redis_part is None:
            checks.append(Check("Redis", True, "the backup has no Redis snapshot; Redis left as it is"))
        elif not settings.redis_url:
            checks.append(Check("Redis", True, "REDIS_URL is not set; the snapshot was not restored"))
        else:
            try:
                live = redis_snapshot.restore(
                    settings.redis_url, work / REDIS_RDB, source_db=int(redis_part["db"]), progress=progress
                )
                checks.append(_compare_redis("Redis keys and digest (live)", redis_part, live))
            except BackupError as exc:
                checks.append(Check("Redis restore", False, str(exc)))
    return checks
