"""Backups for real: a scratch PostgreSQL database and a private redis-server (AOF on), never the shared ones."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
from alembic import command

from alojamientos.config import Settings
from alojamientos.migrations import alembic_config, head_revision
from alojamientos.ops.backup import (
    BackupError,
    create_backup,
    latest_backup,
    list_backups,
    postgres,
    read_manifest,
    restore_backup,
    verify_backup,
)
from tests.cli.test_cli import cli
from tests.fixtures.database import psycopg_url
from tests.fixtures.server import free_port

# --- fixtures -----------------------------------------------------------------------------------------


def _admin_url() -> str:
    return psycopg_url(os.environ["TEST_DATABASE_URL"])


def _databases(prefix: str) -> list[str]:
    with psycopg.connect(_admin_url()) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",))
        return [str(r[0]) for r in rows.fetchall()]


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """A migrated database of its own, next to TEST_DATABASE_URL; dropped at the end."""
    name = f"aloj_bk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = _admin_url().rsplit("/", 1)[0] + f"/{name}"
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class ScratchRedis:
    port: int
    directory: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory),
             "--appendonly", "yes", "--save", "", "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.client().ping():
                    return
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            assert self.proc.poll() is None, (self.directory / "redis.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def restart(self) -> None:
        """A normal restart: SHUTDOWN (AOF flushed), start again; Redis reloads the AOF."""
        assert self.proc is not None
        try:
            self.client().shutdown()
        except redis.ConnectionError:
            pass
        self.proc.wait(timeout=20)
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def scratch_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchRedis]:
    server = ScratchRedis(port=free_port(), directory=tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def settings(scratch_url: str, scratch_redis: ScratchRedis, backup_dir: Path) -> Settings:
    return Settings(database_url=scratch_url, redis_url=scratch_redis.url, backup_dir=backup_dir)


def _env(cfg: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": cfg.database_url,
        "REDIS_URL": cfg.redis_url or "",
        "BACKUP_DIR": str(cfg.backup_dir),
    }


def _mounted() -> bool:
    from alojamientos.cli import app

    return any(group.name == "backup" for group in app.registered_groups)


def backup_cli(cfg: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`alojamientos backup ARGS` as an operator runs it (directly on backup_app until cli.py mounts it)."""
    if _mounted():
        return cli("backup", *args, env=_env(cfg))
    return subprocess.run(
        [sys.executable, "-c", "from alojamientos.ops.backup_cli import backup_app; backup_app()", *args],
        capture_output=True, text=True, env={**os.environ, **_env(cfg)}, timeout=120, check=False,
    )  # fmt: skip


# --- data helpers -------------------------------------------------------------------------------------


def _sql(url: str, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


def _seed(cfg: Settings, scratch_redis: ScratchRedis) -> None:
    _sql(
        cfg.database_url,
        "INSERT INTO operators (email, name, password_hash) VALUES "
        "('ana@example.com', 'Ana', 'x'), ('luis@example.com', 'Luis \t\n tab', 'y'), ('eva@example.com', 'Eva', 'z')",
    )
    r = scratch_redis.client()
    r.set("plain", "uno")
    r.hset("hash", mapping={"a": "1", "b": "2"})
    r.rpush("list", "x", "y", "z")
    r.sadd("set", "p", "q")
    r.zadd("zset", {"m": 1.5, "n": 2})
    r.xadd("stream", {"event": "booked", "unit": "3"}, id="1-1")
    r.set("ephemeral", "gone soon", ex=600)


def _operators(url: str) -> list[tuple[object, ...]]:
    return _sql(url, "SELECT id, email, name, password_hash FROM operators ORDER BY id")


def _redis_state(server: ScratchRedis) -> dict[str, object]:
    r = server.client()
    return {
        "plain": r.get("plain"),
        "hash": r.hgetall("hash"),
        "list": r.lrange("list", 0, -1),
        "set": r.smembers("set"),
        "zset": r.zrange("zset", 0, -1, withscores=True),
        "stream": r.xrange("stream"),
        "keys": sorted(r.keys("*")),
    }


# --- tests --------------------------------------------------------------------------------------------


def test_create_writes_one_file_with_a_complete_manifest(
    settings: Settings, scratch_redis: ScratchRedis
) -> None:
    _seed(settings, scratch_redis)
    progress: list[str] = []
    path = create_backup(settings, progress=progress.append)

    assert path.parent == settings.backup_dir and path.name.endswith(f"-{head_revision()}.tar")
    assert path.stat().st_mode & 0o777 == 0o600, "customer data: readable by the owner only"
    assert any("dumping PostgreSQL" in line for line in progress)
    assert any("Redis" in line for line in progress)
    with tarfile.open(path) as tar:
        assert tar.getnames() == ["manifest.json", "manifest.json.sha256", "postgres.dump", "redis.rdb"]
    manifest = read_manifest(path)
    assert manifest["format"] == 1
    assert manifest["revision"] == head_revision()
    assert manifest["database"]["name"] == settings.database_url.rsplit("/", 1)[1]
    tables = manifest["postgres"]["tables"]
    assert tables["public.operators"]["rows"] == 3
    assert tables["public.alembic_version"]["rows"] == 1
    assert all(len(t["sha256"]) == 64 for t in tables.values())
    assert manifest["redis"]["keys"] == 6 and manifest["redis"]["volatile_keys"] == 1
    assert set(manifest["files"]) == {"postgres.dump", "redis.rdb"}
    assert manifest["files"]["postgres.dump"]["size"] > 0
    assert not list(settings.backup_dir.glob(".creating-*")), "the work directory is removed"


def test_a_password_never_reaches_the_manifest(
    scratch_url: str, scratch_redis: ScratchRedis, backup_dir: Path
) -> None:
    # Local connections are trusted, so the password is accepted and ignored; it must appear nowhere.
    with_password = scratch_url.replace("://aloj@", "://aloj:s3cr3t-pw@")
    cfg = Settings(database_url=with_password, redis_url=None, backup_dir=backup_dir)
    path = create_backup(cfg)
    assert b"s3cr3t-pw" not in path.read_bytes()
    assert read_manifest(path)["redis"] is None
    assert verify_backup(cfg, path)[-1].ok


def test_list_newest_first_and_latest(settings: Settings) -> None:
    assert latest_backup(settings) is None
    first = create_backup(settings)
    second = create_backup(settings)
    assert first != second
    assert [i.path for i in list_backups(settings)] == [second, first]
    latest = latest_backup(settings)
    assert latest is not None and latest.path == second and latest.age.total_seconds() < 60

    listed = backup_cli(settings, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == [second.name, first.name]
    assert f"rev {head_revision()}" in lines[0] and "postgres+redis" in lines[0]


def test_verify_passes_and_leaves_no_scratch_database(
    settings: Settings, scratch_redis: ScratchRedis
) -> None:
    _seed(settings, scratch_redis)
    path = create_backup(settings)
    result = backup_cli(settings, "verify", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"{path.name} verified"
    assert all(line.startswith("✓") for line in lines[:-1])
    assert any("PostgreSQL rows and checksums" in line for line in lines)
    assert any("Redis keys and digest: 6 keys" in line for line in lines)
    assert "restoring" in result.stderr  # progress on stderr
    assert _databases("aloj_verify_") == []


def test_a_truncated_backup_fails_verify(settings: Settings) -> None:
    path = create_backup(settings)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    result = backup_cli(settings, "verify", str(path))
    assert result.returncode == 1
    assert "✗" in result.stdout
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: {path.name} did not verify") and "truncated" in error
    assert _databases("aloj_verify_") == []


def _flip_byte_in(path: Path, member: str) -> None:
    with tarfile.open(path) as tar:
        offset = tar.getmember(member).offset_data + tar.getmember(member).size // 2
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("postgres.dump", "postgres.dump: sha256 differs from the manifest (the file is altered)"),
        ("redis.rdb", "redis.rdb: sha256 differs from the manifest (the file is altered)"),
        ("manifest.json", "manifest.json does not match its checksum (the file is altered)"),
    ],
)
def test_one_altered_byte_fails_verify(settings: Settings, member: str, reason: str) -> None:
    path = create_backup(settings)
    _flip_byte_in(path, member)
    result = backup_cli(settings, "verify", str(path))
    assert result.returncode == 1
    assert reason in result.stderr.strip().splitlines()[-1]
    checks = verify_backup(settings, path)
    assert [c.ok for c in checks].count(False) == 1
    if member == "manifest.json":  # nothing in the file can be trusted: it is not offered as the latest
        assert latest_backup(settings) is None and list_backups(settings)[0].problem


def test_restore_brings_back_exactly_what_was_backed_up(
    settings: Settings, scratch_redis: ScratchRedis
) -> None:
    _seed(settings, scratch_redis)
    before_rows = _operators(settings.database_url)
    before_redis = _redis_state(scratch_redis)
    path = create_backup(settings)

    # Everything changes: rows inserted, deleted, updated; a new table; Redis keys gone, changed, added.
    url = settings.database_url
    _sql(url, "INSERT INTO operators (email, password_hash) VALUES ('nuevo@example.com', 'n')")
    _sql(url, "DELETE FROM operators WHERE email = 'ana@example.com'")
    _sql(url, "UPDATE operators SET name = 'Cambiado' WHERE email = 'eva@example.com'")
    _sql(url, "CREATE TABLE added_later (x int)")
    _sql(url, "UPDATE alembic_version SET version_num = 'someone_elses'")
    r = scratch_redis.client()
    r.delete("plain")
    r.hset("hash", "a", "changed")
    r.rpush("list", "extra")
    r.set("added", "later")

    result = backup_cli(settings, "restore", str(path), "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(f"{path.name} restored (safety backup: ")

    assert _operators(url) == before_rows
    assert _sql(url, "SELECT to_regclass('public.added_later')") == [(None,)]
    assert _sql(url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    # The identity sequence continues after the restored rows.
    _sql(url, "INSERT INTO operators (email, password_hash) VALUES ('after@example.com', 'a')")
    assert _redis_state(scratch_redis) == before_redis
    assert 0 < r.ttl("ephemeral") <= 600

    # The safety backup holds the state the restore replaced.
    safety = [i for i in list_backups(settings) if i.path != path]
    assert len(safety) == 1
    safety_manifest = read_manifest(safety[0].path)
    assert safety_manifest["revision"] == "someone_elses"
    assert "public.added_later" in safety_manifest["postgres"]["tables"]
    assert str(safety[0].path) in result.stdout

    # Redis with AOF: a normal restart replays the AOF, and it must still serve the restored data.
    scratch_redis.restart()
    assert _redis_state(scratch_redis) == before_redis


def test_restore_without_yes_refuses_and_changes_nothing(
    settings: Settings, scratch_redis: ScratchRedis
) -> None:
    _seed(settings, scratch_redis)
    path = create_backup(settings)
    _sql(settings.database_url, "DELETE FROM operators")
    result = backup_cli(settings, "restore", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: this would replace PostgreSQL database ")
    assert "pass --yes" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _operators(settings.database_url) == []
    assert len(list_backups(settings)) == 1, "no safety backup either"


def test_restore_of_a_damaged_backup_changes_nothing(settings: Settings, scratch_redis: ScratchRedis) -> None:
    _seed(settings, scratch_redis)
    path = create_backup(settings)
    _flip_byte_in(path, "postgres.dump")
    _sql(settings.database_url, "DELETE FROM operators WHERE email = 'ana@example.com'")
    checks = restore_backup(settings, path)
    assert not checks[-1].ok and "nothing changed" in checks[-1].detail
    assert len(_operators(settings.database_url)) == 2
    assert [i.path for i in list_backups(settings)] == [path], "no safety backup for a restore not attempted"


def test_keep_retains_the_newest(settings: Settings) -> None:
    for _ in range(3):
        assert backup_cli(settings, "create", "-q").returncode == 0
    assert len(list_backups(settings)) == 3
    result = backup_cli(settings, "create", "--keep", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("(2 older deleted)")
    newest = Path(result.stdout.strip().split(" (")[0])
    remaining = list_backups(settings)
    assert len(remaining) == 2 and remaining[0].path == newest
    assert "deleted" in result.stderr and "dumping PostgreSQL" in result.stderr
    assert backup_cli(settings, "create", "--keep", "0").returncode == 2


def test_unreachable_database_is_a_one_line_error(scratch_redis: ScratchRedis, backup_dir: Path) -> None:
    cfg = Settings(
        database_url="postgresql://aloj@127.0.0.1:1/nowhere",
        redis_url=scratch_redis.url,
        backup_dir=backup_dir,
    )
    result = backup_cli(cfg, "create")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: cannot reach the database nowhere on 127.0.0.1:1")


def test_manifest_is_json_with_checksums_of_members(settings: Settings) -> None:
    path = create_backup(settings)
    with tarfile.open(path) as tar:
        raw = tar.extractfile("manifest.json")
        assert raw is not None
        manifest = json.loads(raw.read())
        for name, entry in manifest["files"].items():
            member = tar.extractfile(name)
            assert member is not None
            assert hashlib.sha256(member.read()).hexdigest() == entry["sha256"]


def test_postgres_restore_is_all_or_nothing(settings: Settings, scratch_redis: ScratchRedis) -> None:
    _seed(settings, scratch_redis)
    path = create_backup(settings)
    _sql(settings.database_url, "CREATE TABLE added_later (x int)")
    before = _operators(settings.database_url)
    with tarfile.open(path) as tar:
        member = tar.extractfile("postgres.dump")
        assert member is not None
        dump = member.read()
    tgt = postgres.target(settings.database_url)
    for broken in (dump[: len(dump) // 2], b"not a dump at all"):
        damaged = settings.backup_dir / "damaged.dump"
        damaged.write_bytes(broken)
        with pytest.raises(BackupError, match="nothing changed"):
            postgres.restore_replacing(tgt, damaged)
        assert _operators(settings.database_url) == before
        assert _sql(settings.database_url, "SELECT to_regclass('public.added_later')::text") == [
            ("added_later",)
        ]


def test_manifest_and_dump_agree_while_the_application_writes(settings: Settings) -> None:
    """Counts and checksums come from the dump's own snapshot, so concurrent writes cannot split them."""
    stop = threading.Event()
    inserted = 0

    def write() -> None:
        nonlocal inserted
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO operators (email, password_hash) VALUES (%s, 'x')",
                    (f"{uuid.uuid4().hex}@e.com",),
                )
                inserted += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.2)
        path = create_backup(settings)
    finally:
        stop.set()
        writer.join()
    rows = read_manifest(path)["postgres"]["tables"]["public.operators"]["rows"]
    assert 0 < rows < inserted
    checks = verify_backup(settings, path)
    assert all(c.ok for c in checks), [c.line() for c in checks if not c.ok]


def test_unreachable_redis_fails_before_dumping(scratch_url: str, backup_dir: Path) -> None:
    cfg = Settings(
        database_url=scratch_url, redis_url=f"redis://127.0.0.1:{free_port()}/0", backup_dir=backup_dir
    )
    result = backup_cli(cfg, "create")
    assert result.returncode == 1
    assert "dumping PostgreSQL" not in result.stderr
    assert result.stderr.strip().startswith("error: cannot reach Redis (Redis at 127.0.0.1:")
    assert list(backup_dir.iterdir()) == []
