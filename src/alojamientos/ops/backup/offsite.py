"""Off-machine copies of backups: to an S3-compatible bucket (boto3) or through an operator's command.

The destination is configured by environment variables (see .env.example):

- `BACKUP_S3_BUCKET` (+ optional `BACKUP_S3_ENDPOINT`, `BACKUP_S3_REGION`, `BACKUP_S3_PREFIX`,
  `BACKUP_S3_ACCESS_KEY_ID`, `BACKUP_S3_SECRET_ACCESS_KEY`; without keys boto3's own chain is used):
  the file is uploaded as `<prefix><file name>`, then its size is read back (HEAD) and the object is
  downloaded again and hashed, so "copied" means the bucket holds the very same bytes.
- `BACKUP_COPY_COMMAND`: run with the file's path as its last argument (and `BACKUP_FILE`,
  `BACKUP_SHA256`, `BACKUP_SIZE` in its environment). Exit 0 and a sha256 of the stored copy on its last
  line of output (what `sha256sum` prints) mean copied and verified; anything else is a failure.

The outcome of the last attempt for each backup sits next to it, in `<backup>.offsite.json`, so the
Sistema page and `alojamientos doctor` read the same record. Everything here is SYNCHRONOUS; call it
with `asyncio.to_thread`. A failed copy raises `OffsiteCopyFailed` after recording it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alojamientos.config import Settings
from alojamientos.ops.backup.archive import sha256_file
from alojamientos.ops.backup.common import BackupError, last_line

RECORD_SUFFIX = ".offsite.json"
COMMAND_TIMEOUT_SECONDS = 3600
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


class OffsiteCopyFailed(BackupError):
    code = "offsite_copy_failed"


@dataclass(frozen=True, slots=True)
class OffsiteRecord:
    """The last attempt to copy one backup off the machine."""

    file: str
    target: str  # "s3://bucket/key" or "command"
    ok: bool
    at: datetime
    size: int
    sha256: str
    detail: str  # what was checked, or why it failed (one line, English: the panel shows its own words)
    attempts: int = 1

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


def target(settings: Settings) -> str | None:
    """`s3`, `command` or None (no off-machine copy configured). A bucket wins over a command."""
    if settings.backup_s3_bucket:
        return "s3"
    if settings.backup_copy_command:
        return "command"
    return None


def record_path(backup: Path) -> Path:
    return backup.with_name(backup.name + RECORD_SUFFIX)


def read_record(backup: Path) -> OffsiteRecord | None:
    """The last recorded attempt for `backup`, or None when it was never copied (or the record is
    unreadable: then it counts as not copied)."""
    try:
        data = json.loads(record_path(backup).read_text())
        data["at"] = datetime.fromisoformat(data["at"])
        return OffsiteRecord(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_record(backup: Path, record: OffsiteRecord) -> None:
    path = record_path(backup)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(record.as_json(), indent=2) + "\n")
    os.replace(partial, path)


def copy_offsite(settings: Settings, backup: Path) -> OffsiteRecord:
    """Copies `backup` to the configured destination and verifies it; records the outcome either way.

    Raises OffsiteCopyFailed (after recording it) when the copy or its verification fails, and
    BackupError when no destination is configured or the file is gone.
    """
    kind = target(settings)
    if kind is None:
        raise BackupError("no off-machine copy is configured (BACKUP_S3_BUCKET or BACKUP_COPY_COMMAND)")
    if not backup.is_file():
        raise BackupError(f"{backup.name} is not in BACKUP_DIR any more")
    size, digest = backup.stat().st_size, sha256_file(backup)
    previous = read_record(backup)
    attempts = (previous.attempts + 1) if previous and not previous.ok else 1
    where = "command"
    try:
        if kind == "s3":
            where, detail = _to_s3(settings, backup, size, digest)
        else:
            detail = _by_command(settings, backup, size, digest)
    except OffsiteCopyFailed as exc:
        failed = OffsiteRecord(backup.name, where, False, datetime.now(UTC), size, digest, str(exc), attempts)
        _write_record(backup, failed)
        raise
    done = OffsiteRecord(backup.name, where, True, datetime.now(UTC), size, digest, detail, attempts)
    _write_record(backup, done)
    return done


# --- S3 -----------------------------------------------------------------------------------------------


def _s3_client(settings: Settings) -> Any:
    import boto3  # imported here: only operators with a bucket pay for loading it
    from botocore.config import Config

    secret = settings.backup_s3_secret_access_key
    return boto3.client(
        "s3",
        endpoint_url=settings.backup_s3_endpoint or None,
        region_name=settings.backup_s3_region,
        aws_access_key_id=settings.backup_s3_access_key_id or None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            s3={"addressing_style": "path"} if settings.backup_s3_endpoint else None,
        ),
    )


def _to_s3(settings: Settings, backup: Path, size: int, digest: str) -> tuple[str, str]:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    bucket = str(settings.backup_s3_bucket)
    key = f"{settings.backup_s3_prefix}{backup.name}"
    where = f"s3://{bucket}/{key}"
    try:
        client = _s3_client(settings)
        client.upload_file(
            str(backup),
            bucket,
            key,
            ExtraArgs={"Metadata": {"sha256": digest}, "ContentType": "application/x-tar"},
        )
        stored = client.head_object(Bucket=bucket, Key=key)
        if int(stored["ContentLength"]) != size:
            raise OffsiteCopyFailed(f"{where} holds {stored['ContentLength']} bytes, the backup has {size}")
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        read_back = _hash_stream(body)
    except (ClientError, BotoCoreError, Boto3Error) as exc:
        raise OffsiteCopyFailed(f"{where}: {_s3_reason(exc)}".splitlines()[0][:300]) from exc
    if read_back != digest:
        raise OffsiteCopyFailed(f"{where}: the copy read back has another sha256 than the backup")
    return where, f"{where}, {size} bytes, sha256 read back"


def _s3_reason(exc: BaseException) -> str:
    """The service's own error code and message (upload_file wraps them in a long sentence)."""
    from botocore.exceptions import ClientError

    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ClientError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ClientError):
        error = cause.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def _hash_stream(body: Any) -> str:
    import hashlib

    h = hashlib.sha256()
    for chunk in body.iter_chunks(1 << 20):
        h.update(chunk)
    return h.hexdigest()


# --- command ------------------------------------------------------------------------------------------


def _by_command(settings: Settings, backup: Path, size: int, digest: str) -> str:
    command = [*shlex.split(str(settings.backup_copy_command)), str(backup)]
    env = {**os.environ, "BACKUP_FILE": str(backup), "BACKUP_SHA256": digest, "BACKUP_SIZE": str(size)}
    try:
        done = subprocess.run(  # noqa: S603 - the operator's own command, from their configuration
            command, env=env, capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OffsiteCopyFailed(f"BACKUP_COPY_COMMAND could not run: {type(exc).__name__}: {exc}") from exc
    if done.returncode != 0:
        raise OffsiteCopyFailed(
            f"BACKUP_COPY_COMMAND exited with {done.returncode}: {last_line(done.stderr or done.stdout)}"
        )
    found = _SHA256.findall(last_line(done.stdout).lower())
    if not found:
        raise OffsiteCopyFailed("BACKUP_COPY_COMMAND did not print the sha256 of the copy it stored")
    if found[0] != digest:
        raise OffsiteCopyFailed("BACKUP_COPY_COMMAND reports a copy with another sha256 than the backup")
    return f"command, {size} bytes, sha256 confirmed by the command"
