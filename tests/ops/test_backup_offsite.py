"""Backups leave the machine (issue 13.8): after each backup the worker copies it to an S3-compatible
bucket (moto's server, a protocol-faithful S3 on loopback, through boto3) or through the operator's
command, reads the copy back to verify it, records the outcome, and retries a failed copy through the
job queue; `alojamientos doctor` fails while the newest backup has no verified copy."""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.kit.clock import utc_now
from alojamientos.ops.backup import list_backups
from alojamientos.ops.tasks import OFFSITE, request_backup
from tests.cli.test_cli import cli
from tests.fixtures.api import worker_for
from tests.fixtures.server import free_port

BUCKET = "copias-cabanas"
KEYS = {"backup_s3_access_key_id": "testing", "backup_s3_secret_access_key": "testing-secret"}


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _s3(url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    )


@pytest.fixture
def bucket(s3_url: str) -> Iterator[Any]:
    """An S3 client over an empty bucket (created by the test that wants it to exist)."""
    client = _s3(s3_url)
    yield client
    existing = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
    if BUCKET in existing:
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
        client.delete_bucket(Bucket=BUCKET)


def _s3_settings(tmp_path: Path, s3_url: str) -> Settings:
    return Settings(
        backup_dir=tmp_path / "backups",
        redis_url=None,
        backup_s3_bucket=BUCKET,
        backup_s3_endpoint=s3_url,
        backup_s3_prefix="cabanas/",
        **KEYS,
    )


def _env(settings: Settings) -> dict[str, str]:
    env = {"BACKUP_DIR": str(settings.backup_dir), "REDIS_URL": ""}
    for name in (
        "backup_s3_bucket",
        "backup_s3_endpoint",
        "backup_s3_prefix",
        "backup_s3_access_key_id",
        "backup_copy_command",
    ):
        value = getattr(settings, name)
        if value:
            env[name.upper()] = str(value)
    if settings.backup_s3_secret_access_key:
        env["BACKUP_S3_SECRET_ACCESS_KEY"] = settings.backup_s3_secret_access_key.get_secret_value()
    return env


def _doctor(settings: Settings) -> dict[str, Any]:
    result = cli("doctor", "--json", env=_env(settings))
    checks: dict[str, Any] = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    return checks["backup copied off the machine"]


async def _offsite_jobs(db: Database) -> list[Job]:
    async with db.session_scope() as session:
        return list(await session.scalars(select(Job).where(Job.kind == OFFSITE).order_by(Job.id)))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_each_backup_is_copied_to_the_bucket_and_read_back(
    db: Database, tmp_path: Path, s3_url: str, bucket: Any
) -> None:
    bucket.create_bucket(Bucket=BUCKET)
    settings = _s3_settings(tmp_path, s3_url)
    async with worker_for(settings) as worker:
        async with db.session_scope() as session:
            await request_backup(session, reason="operator:ana@example.com", slot="manual:1")
        await worker.run_pending()
    [backup] = list_backups(settings)
    stored = bucket.get_object(Bucket=BUCKET, Key=f"cabanas/{backup.path.name}")
    body = stored["Body"].read()
    assert hashlib.sha256(body).hexdigest() == _sha256(backup.path) and len(body) == backup.size
    assert stored["Metadata"]["sha256"] == _sha256(backup.path)
    [job] = await _offsite_jobs(db)
    assert (job.status, job.attempts) == ("done", 1)

    record = json.loads(backup.path.with_name(backup.path.name + ".offsite.json").read_text())
    assert record["ok"] is True and record["target"] == f"s3://{BUCKET}/cabanas/{backup.path.name}"
    assert record["size"] == backup.size and record["sha256"] == _sha256(backup.path)
    check = _doctor(settings)
    assert check["ok"] is True and "sha256 read back" in check["detail"]


async def test_a_failed_upload_is_reported_and_retried_by_the_job_queue(
    db: Database, tmp_path: Path, s3_url: str, bucket: Any
) -> None:
    """The bucket does not exist yet: the copy fails, doctor and the record say so, the job waits with
    a backoff; once the bucket exists the retry copies it."""
    settings = _s3_settings(tmp_path, s3_url)
    async with worker_for(settings) as worker:
        async with db.session_scope() as session:
            await request_backup(session, reason="schedule", slot="2026-11-30T10")
        await worker.run_pending()
        [backup] = list_backups(settings)
        [job] = await _offsite_jobs(db)
        assert job.status == "pending" and job.attempts == 1 and job.run_at > utc_now()
        assert "NoSuchBucket" in (job.last_error or "")
        check = _doctor(settings)
        assert check["ok"] is False and "last attempt failed" in check["detail"]
        assert "NoSuchBucket" in check["detail"]

        bucket.create_bucket(Bucket=BUCKET)
        await worker.run_pending(now=utc_now() + timedelta(hours=2))
    [job] = await _offsite_jobs(db)
    assert (job.status, job.attempts) == ("done", 2)
    stored = bucket.get_object(Bucket=BUCKET, Key=f"cabanas/{backup.path.name}")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == _sha256(backup.path)
    record = json.loads(backup.path.with_name(backup.path.name + ".offsite.json").read_text())
    assert record["ok"] is True and record["attempts"] == 2
    assert _doctor(settings)["ok"] is True


def _command(destination: Path) -> str:
    script = 'cp "$1" "$DEST/" && sha256sum "$DEST/$(basename "$1")"'
    return f"env DEST={shlex.quote(str(destination))} sh -c {shlex.quote(script)} copy"


async def test_the_command_target_copies_and_a_failing_command_is_retried(
    db: Database, tmp_path: Path
) -> None:
    destination = tmp_path / "nas"  # missing at first: cp fails
    settings = Settings(
        backup_dir=tmp_path / "backups", redis_url=None, backup_copy_command=_command(destination)
    )
    async with worker_for(settings) as worker:
        async with db.session_scope() as session:
            await request_backup(session, reason="schedule", slot="2026-11-30T11")
        await worker.run_pending()
        [backup] = list_backups(settings)
        [job] = await _offsite_jobs(db)
        assert job.status == "pending" and "BACKUP_COPY_COMMAND exited with 1" in (job.last_error or "")
        assert _doctor(settings)["ok"] is False

        destination.mkdir()
        await worker.run_pending(now=utc_now() + timedelta(hours=2))
    assert _sha256(destination / backup.path.name) == _sha256(backup.path)
    [job] = await _offsite_jobs(db)
    assert job.status == "done"
    assert _doctor(settings)["ok"] is True


async def test_a_command_that_does_not_confirm_the_checksum_is_a_failure(
    db: Database, tmp_path: Path
) -> None:
    """`true` exits 0 but proves nothing: not counted as copied."""
    settings = Settings(backup_dir=tmp_path / "backups", redis_url=None, backup_copy_command="true")
    async with worker_for(settings) as worker:
        async with db.session_scope() as session:
            await request_backup(session, reason="schedule", slot="2026-11-30T12")
        await worker.run_pending()
    [job] = await _offsite_jobs(db)
    assert job.status == "pending"
    assert "did not print the sha256" in (job.last_error or "")


def test_cli_create_copies_and_copy_retries_by_hand(
    clean_db: str, tmp_path: Path, s3_url: str, bucket: Any
) -> None:
    settings = _s3_settings(tmp_path, s3_url)
    env = _env(settings)
    failed = cli("backup", "create", "--quiet", env=env)
    assert failed.returncode == 1
    assert "is on this machine only: the off-machine copy failed" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    [backup] = list_backups(settings)  # the backup itself is kept

    bucket.create_bucket(Bucket=BUCKET)
    copied = cli("backup", "copy", env=env)
    assert copied.returncode == 0, copied.stderr
    assert f"copied off the machine: s3://{BUCKET}/cabanas/{backup.path.name}" in copied.stdout

    unconfigured = cli("backup", "copy", env={"BACKUP_DIR": str(settings.backup_dir), "REDIS_URL": ""})
    assert unconfigured.returncode == 1
    assert "no off-machine copy is configured" in unconfigured.stderr


def test_doctor_passes_when_no_destination_is_configured(clean_db: str, tmp_path: Path) -> None:
    check = _doctor(Settings(backup_dir=tmp_path, redis_url=None))
    assert check["ok"] is True and check["detail"].startswith("not configured")
