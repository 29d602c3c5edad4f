"""Redis side of a backup: a fresh RDB snapshot, a digest of the data that can be recomputed anywhere,
and a restore through live commands (so an append-only file, which Redis prefers on restart, records it).

Scope: the database index named in REDIS_URL. Keys with an expiry are ephemeral (locks, rate limits,
sessions): they are counted but left out of the digest, because they may legitimately expire between
the backup and its verification."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import redis

from alojamientos.ops.backup.common import BackupError, Progress, human_size, last_line, say

SAVE_TIMEOUT = 3600.0
START_TIMEOUT = 120.0
BATCH = 500


@dataclass(frozen=True, slots=True)
class Digest:
    db: int
    keys: int  # keys without an expiry: these are compared
    volatile_keys: int  # keys with an expiry: informational
    sha256: str

    def as_dict(self) -> dict[str, int | str]:
        return {"db": self.db, "keys": self.keys, "volatile_keys": self.volatile_keys, "digest": self.sha256}


def client(url: str, *, db: int | None = None) -> redis.Redis:
    kwargs: dict[str, Any] = {"socket_timeout": 60, "socket_connect_timeout": 10}
    if db is not None:
        kwargs["db"] = db
    return redis.Redis.from_url(url, **kwargs)


def db_index(conn: redis.Redis) -> int:
    return int(conn.connection_pool.connection_kwargs.get("db", 0) or 0)


def _info(conn: redis.Redis, section: str) -> dict[str, Any]:
    info: dict[str, Any] = conn.info(section)
    return info


def _error(url_conn: redis.Redis, what: str, exc: Exception) -> BackupError:
    kwargs = url_conn.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    return BackupError(f"{what} (Redis at {where}): {last_line(str(exc))}")


def ping(url: str) -> None:
    """Fails early (before a long dump) when Redis cannot be reached or may not BGSAVE/CONFIG GET."""
    conn = client(url)
    try:
        conn.ping()
        conn.config_get("dir")
    except redis.RedisError as exc:
        raise _error(conn, "cannot reach Redis", exc) from None
    finally:
        conn.close()


def snapshot(url: str, dest: Path, progress: Progress | None = None) -> str:
    """BGSAVE, wait for it, copy the RDB file (same machine) to `dest`; returns the Redis version."""
    conn = client(url)
    try:
        version = str(_info(conn, "server").get("redis_version", "?"))
        say(progress, "snapshotting Redis (BGSAVE)…")
        started = time.monotonic()
        started_wall = time.time()
        while True:
            saves = _info(conn, "persistence").get("rdb_saves")
            before = int(saves) if saves is not None else int(conn.lastsave().timestamp())
            try:
                conn.bgsave()
                break
            except redis.ResponseError as exc:  # another save is running: let it finish, then ours
                if "in progress" not in str(exc) or time.monotonic() - started > SAVE_TIMEOUT:
                    raise
                time.sleep(0.2)
        while True:
            info = _info(conn, "persistence")
            now = int(info["rdb_saves"]) if "rdb_saves" in info else int(conn.lastsave().timestamp())
            if now > before and not int(info.get("rdb_bgsave_in_progress", 0)):
                break
            if time.monotonic() - started > SAVE_TIMEOUT:
                raise BackupError(f"Redis BGSAVE did not finish within {SAVE_TIMEOUT:.0f}s")
            time.sleep(0.1)
        if info.get("rdb_last_bgsave_status") != "ok":
            raise BackupError("Redis BGSAVE failed (see the Redis log: rdb_last_bgsave_status is not ok)")
        directory = str(cast(dict[str, str], conn.config_get("dir"))["dir"])
        filename = str(cast(dict[str, str], conn.config_get("dbfilename"))["dbfilename"])
    except redis.RedisError as exc:
        raise _error(conn, "cannot snapshot Redis", exc) from None
    finally:
        conn.close()
    source = Path(directory) / filename
    try:
        # A file not written by this BGSAVE belongs to some other Redis (REDIS_URL on another host).
        if source.stat().st_mtime < started_wall - 2:
            raise BackupError(
                f"the Redis snapshot {source} was not written by this BGSAVE: is Redis on another host? "
                "the backup must run on the Redis host"
            )
        shutil.copyfile(source, dest)
    except OSError as exc:
        raise BackupError(
            f"cannot copy the Redis snapshot {source}: {exc.strerror or exc} "
            "(the backup must run on the Redis host, with read access to its data directory)"
        ) from None
    say(progress, f"Redis snapshot {human_size(dest.stat().st_size)} in {time.monotonic() - started:.1f}s")
    return version


@contextmanager
def loaded(rdb: Path, *, db: int = 0) -> Iterator[redis.Redis]:
    """A private redis-server (unix socket only, no persistence) that loaded `rdb`; stopped afterwards."""
    server = shutil.which("redis-server")
    if server is None:
        raise BackupError("redis-server is not installed; it is needed to read Redis snapshots")
    with tempfile.TemporaryDirectory(prefix="aloj-redis-") as tmp:
        socket_path = Path(tmp) / "redis.sock"
        log = Path(tmp) / "redis.log"
        proc = subprocess.Popen(  # noqa: S603 - explicit argument list, no shell
            [
                server,
                "--port", "0",
                "--unixsocket", str(socket_path),
                "--unixsocketperm", "700",
                "--dir", str(rdb.parent.resolve()),
                "--dbfilename", rdb.name,
                "--appendonly", "no",
                "--save", "",
                "--databases", str(max(16, db + 1)),
                "--daemonize", "no",
                "--logfile", str(log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        conn = redis.Redis(unix_socket_path=str(socket_path), db=db, socket_timeout=60)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                if proc.poll() is not None:
                    reason = last_line(log.read_text(errors="replace")) if log.exists() else "no log"
                    raise BackupError(f"the Redis snapshot cannot be loaded: {reason}")
                try:
                    if socket_path.exists() and not int(_info(conn, "persistence").get("loading", 1)):
                        break
                except (redis.ConnectionError, redis.BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    raise BackupError(f"the Redis snapshot did not load within {START_TIMEOUT:.0f}s")
                time.sleep(0.05)
            yield conn
        finally:
            conn.close()
            proc.kill()
            proc.wait(timeout=30)


def _feed(h: Any, *parts: bytes) -> None:
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)


def _value_commands(pipe: Any, key: bytes, kind: str) -> None:
    if kind == "string":
        pipe.get(key)
    elif kind == "hash":
        pipe.hgetall(key)
    elif kind == "list":
        pipe.lrange(key, 0, -1)
    elif kind == "set":
        pipe.smembers(key)
    elif kind == "zset":
        pipe.zrange(key, 0, -1, withscores=True, score_cast_func=bytes)
    elif kind == "stream":
        pipe.xrange(key)
    else:
        pipe.dump(key)


def _canonical(kind: str, value: Any) -> list[bytes]:
    if kind == "hash":
        return [b for item in sorted(value.items()) for b in item]
    if kind == "set":
        return sorted(value)
    if kind == "zset":
        return [b for member, score in value for b in (member, score)]
    if kind == "list":
        return list(value)
    if kind == "stream":
        return [
            b
            for entry_id, fields in value
            for b in (entry_id, *[x for kv in sorted(fields.items()) for x in kv])
        ]
    return [value if isinstance(value, bytes) else b""]


def digest(conn: redis.Redis) -> Digest:
    """sha256 over every key without an expiry in `conn`'s database: key, type and value, key-sorted."""
    keys = sorted(cast(Iterator[bytes], conn.scan_iter(count=1000)))
    items: list[bytes] = []
    volatile = 0
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        pipe = conn.pipeline(transaction=False)
        for key in batch:
            pipe.type(key)
            pipe.pttl(key)
        meta = pipe.execute()
        persistent: list[tuple[bytes, str]] = []
        for i, key in enumerate(batch):
            raw_kind, ttl = meta[2 * i], int(meta[2 * i + 1])
            kind = raw_kind.decode() if isinstance(raw_kind, bytes) else str(raw_kind)
            if kind == "none" or ttl == -2:
                continue
            if ttl >= 0:
                volatile += 1
                continue
            persistent.append((key, kind))
        pipe = conn.pipeline(transaction=False)
        for key, kind in persistent:
            _value_commands(pipe, key, kind)
        for (key, kind), value in zip(persistent, pipe.execute(), strict=True):
            h = hashlib.sha256()
            _feed(h, key, kind.encode(), *_canonical(kind, value))
            items.append(h.digest())
    total = hashlib.sha256()
    for item in items:
        total.update(item)
    return Digest(db=db_index(conn), keys=len(items), volatile_keys=volatile, sha256=total.hexdigest())


def check_rdb(rdb: Path) -> str | None:
    """redis-check-rdb's verdict when the tool is installed: None if fine, else the reason."""
    tool = shutil.which("redis-check-rdb")
    if tool is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - explicit argument list, no shell
            [tool, str(rdb)], capture_output=True, timeout=SAVE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"redis-check-rdb: {exc}"
    return None if done.returncode == 0 else f"redis-check-rdb: {last_line(done.stdout + done.stderr)}"


def restore(url: str, rdb: Path, *, source_db: int, progress: Progress | None = None) -> Digest:
    """Replaces the live database with the snapshot's, atomically (MULTI: FLUSHDB + RESTOREs), so AOF
    and RDB persistence both record it; with AOF on, the AOF is then rewritten. Returns the live digest."""
    live = client(url)
    try:
        with loaded(rdb, db=source_db) as snap:
            keys = list(cast(Iterator[bytes], snap.scan_iter(count=1000)))
            say(progress, f"restoring {len(keys)} Redis keys into database {db_index(live)}…")
            tx = live.pipeline(transaction=True)
            tx.flushdb()
            for start in range(0, len(keys), BATCH):
                pipe = snap.pipeline(transaction=False)
                for key in keys[start : start + BATCH]:
                    pipe.dump(key)
                    pipe.pttl(key)
                out = pipe.execute()
                for i, key in enumerate(keys[start : start + BATCH]):
                    payload, ttl = out[2 * i], int(out[2 * i + 1])
                    if payload is None or ttl == -2:
                        continue  # expired while we read
                    tx.restore(key, max(ttl, 0), payload, replace=True)
            tx.execute()
        if str(cast(dict[str, str], live.config_get("appendonly")).get("appendonly")) == "yes":
            _rewrite_aof(live)
        return digest(live)
    except redis.RedisError as exc:
        raise _error(live, "cannot restore Redis", exc) from None
    finally:
        live.close()


def _rewrite_aof(conn: redis.Redis) -> None:
    deadline = time.monotonic() + SAVE_TIMEOUT
    while True:
        try:
            conn.bgrewriteaof()
            break
        except redis.ResponseError as exc:
            if "in progress" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    while True:
        info = _info(conn, "persistence")
        if not int(info.get("aof_rewrite_in_progress", 0)) and not int(info.get("aof_rewrite_scheduled", 0)):
            break
        if time.monotonic() > deadline:
            raise BackupError("Redis AOF rewrite did not finish in time")
        time.sleep(0.1)
    if info.get("aof_last_bgrewrite_status") != "ok":
        raise BackupError("Redis AOF rewrite failed (aof_last_bgrewrite_status is not ok)")
