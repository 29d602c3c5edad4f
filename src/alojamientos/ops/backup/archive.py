"""The backup file: a tar of manifest.json (+ its sha256), postgres.dump and redis.rdb; reading,
listing, retention, and extraction that checks every member against the manifest."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alojamientos.config import Settings
from alojamientos.ops.backup.common import BackupError, human_size
from alojamientos.ops.checks import Check

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.json.sha256"
PG_DUMP = "postgres.dump"
REDIS_RDB = "redis.rdb"
PATTERN = "alojamientos-*.tar"


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    created_at: datetime
    size: int
    app_version: str = ""
    revision: str | None = None
    has_redis: bool = False
    problem: str | None = None  # set when the manifest cannot be read: the file is not usable

    @property
    def age(self) -> timedelta:
        return datetime.now(UTC) - self.created_at

    def line(self) -> str:
        when = self.created_at.strftime("%Y-%m-%d %H:%M:%SZ")
        if self.problem:
            return f"{self.path.name}  {when}  {human_size(self.size)}  UNUSABLE: {self.problem}"
        parts = [
            self.path.name,
            when,
            f"{_age(self.age)} ago",
            f"v{self.app_version}",
            f"rev {self.revision or 'none'}",
            human_size(self.size),
            "postgres+redis" if self.has_redis else "postgres",
        ]
        return "  ".join(parts)


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def backup_dir(settings: Settings) -> Path:
    directory = Path(settings.backup_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create BACKUP_DIR {directory}: {exc.strerror or exc}") from None
    return directory


def write(
    directory: Path, work: Path, manifest: dict[str, Any], members: list[str], revision: str | None
) -> Path:
    """Tars the manifest (+ its sha256) and `members` from `work`, readable by the owner only, and
    moves it into `directory` under a new name: a crash leaves no half-written backup behind."""
    created = datetime.fromisoformat(manifest["created_at"])
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    partial = work / "backup.tar"
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, MANIFEST, manifest_bytes, created)
        _add_bytes(tar, MANIFEST_SUM, hashlib.sha256(manifest_bytes).hexdigest().encode() + b"\n", created)
        for name in members:
            info = tar.gettarinfo(work / name, arcname=name)
            info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
            with (work / name).open("rb") as f:
                tar.addfile(info, f)
    partial.chmod(0o600)  # customer data and password hashes
    with partial.open("rb") as f:
        os.fsync(f.fileno())
    final = _free_name(directory, created, revision)
    os.replace(partial, final)
    return final


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, when: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(when.timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _free_name(directory: Path, created: datetime, revision: str | None) -> Path:
    stem = f"alojamientos-{created.strftime('%Y%m%dT%H%M%SZ')}-{revision or 'norevision'}"
    candidate = directory / f"{stem}.tar"
    n = 1
    while candidate.exists():
        n += 1
        candidate = directory / f"{stem}-{n}.tar"
    return candidate


# --- list / retention ---------------------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    data = _member_bytes(tar, MANIFEST)
    expected = _member_bytes(tar, MANIFEST_SUM).decode(errors="replace").strip()
    if hashlib.sha256(data).hexdigest() != expected:
        raise BackupError("manifest.json does not match its checksum (the file is altered)")
    manifest: dict[str, Any] = json.loads(data)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r} (this version reads {FORMAT})")
    return manifest


def _member_bytes(tar: tarfile.TarFile, name: str) -> bytes:
    try:
        f = tar.extractfile(name)
    except KeyError:
        raise BackupError(f"{name} is missing from the archive") from None
    if f is None:
        raise BackupError(f"{name} in the archive is not a file")
    return f.read()


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup file; BackupError with the reason when it cannot be read."""
    try:
        with tarfile.open(path, "r:") as tar:
            return _read_manifest(tar)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(f"{path.name} is not a readable backup (truncated or damaged?): {exc}") from None


def _info(path: Path) -> BackupInfo:
    size = path.stat().st_size
    try:
        manifest = read_manifest(path)
        return BackupInfo(
            path=path,
            created_at=datetime.fromisoformat(manifest["created_at"]),
            size=size,
            app_version=str(manifest.get("app_version", "")),
            revision=manifest.get("revision"),
            has_redis=manifest.get("redis") is not None,
        )
    except (BackupError, KeyError, TypeError, ValueError) as exc:
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return BackupInfo(path=path, created_at=mtime, size=size, problem=str(exc))


def list_backups(settings: Settings) -> list[BackupInfo]:
    """Every backup file in BACKUP_DIR, newest first (unreadable ones included, with `problem` set)."""
    directory = Path(settings.backup_dir)
    if not directory.is_dir():
        return []
    infos = [_info(p) for p in directory.glob(PATTERN) if p.is_file()]
    return sorted(infos, key=lambda i: i.created_at, reverse=True)


def latest_backup(settings: Settings) -> BackupInfo | None:
    """The newest readable backup (its manifest is intact), or None."""
    return next((i for i in list_backups(settings) if i.problem is None), None)


def prune_backups(settings: Settings, keep: int, *, protect: Path | None = None) -> list[Path]:
    """Deletes all but the `keep` newest readable backups; never `protect`, never an unreadable file
    (an operator should look at it). Returns what was deleted."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    readable = [i for i in list_backups(settings) if i.problem is None]
    kept = {i.path.resolve() for i in readable[:keep]}
    if protect is not None:
        kept.add(protect.resolve())
    deleted = []
    for info in readable:
        if info.path.resolve() not in kept:
            info.path.unlink(missing_ok=True)
            # its off-machine copy record (offsite.RECORD_SUFFIX) goes with it
            info.path.with_name(info.path.name + ".offsite.json").unlink(missing_ok=True)
            deleted.append(info.path)
    return deleted


@contextmanager
def unpacked(settings: Settings, path: Path) -> Iterator[tuple[dict[str, Any], Path, list[Check]]]:
    """Reads the archive, checks every member against the manifest while extracting it."""
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(dir=backup_dir(settings), prefix=".verifying-") as tmp:
        work = Path(tmp)
        manifest: dict[str, Any] = {}
        try:
            if not path.is_file():
                raise BackupError(f"{path} is not a file")
            with tarfile.open(path, "r:") as tar:
                manifest = _read_manifest(tar)
                checks.append(
                    Check(
                        "manifest",
                        True,
                        f"v{manifest['app_version']}, rev {manifest['revision'] or 'none'}, "
                        f"{manifest['created_at']}",
                    )
                )
                for name, expected in sorted(manifest["files"].items()):
                    checks.append(_extract_checked(tar, name, expected, work / name))
        except (BackupError, tarfile.TarError, EOFError, OSError, ValueError, KeyError) as exc:
            reason = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}: {exc}"
            checks.append(Check("archive", False, f"truncated or damaged: {reason}"))
        yield manifest, work, checks


def _extract_checked(tar: tarfile.TarFile, name: str, expected: dict[str, Any], dest: Path) -> Check:
    if name not in (MANIFEST, MANIFEST_SUM) and "/" in name:
        return Check(name, False, "unexpected member path")
    try:
        source = tar.extractfile(name)
    except KeyError:
        return Check(name, False, "missing from the archive")
    if source is None:
        return Check(name, False, "not a file")
    h = hashlib.sha256()
    size = 0
    try:
        with dest.open("wb") as out:
            while block := source.read(1 << 20):
                h.update(block)
                size += len(block)
                out.write(block)
    except (tarfile.TarError, EOFError, OSError) as exc:
        return Check(name, False, f"cannot be read, the file is truncated or damaged: {exc}")
    if size != expected["size"]:
        return Check(name, False, f"size {size} bytes, manifest says {expected['size']} (truncated?)")
    if h.hexdigest() != expected["sha256"]:
        return Check(name, False, "sha256 differs from the manifest (the file is altered)")
    return Check(name, True, f"sha256 ok, {human_size(size)}")
