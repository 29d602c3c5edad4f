"""`alojamientos backup …`: create, list, verify and restore backups (see `alojamientos.ops.backup`).

Mounted by the root app in `alojamientos.cli`; shares `alojamientos.kit.cli` with it and imports
nothing above itself.
Progress goes to stderr, results to stdout; a failure ends with `error: …` on stderr and exit code 1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from alojamientos.kit.cli import fail, one_line_errors, settings

if TYPE_CHECKING:
    from alojamientos.config import Settings
    from alojamientos.ops.backup import Check

backup_app = typer.Typer(
    no_args_is_help=True,
    help="Backups of PostgreSQL and Redis that verify themselves; restore with a safety backup first.",
)

P = ParamSpec("P")
R = TypeVar("R")


def _one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """`one_line_errors`, plus the driver and file errors the backup code can meet, each as one line
    on stderr."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import psycopg
        import redis

        from alojamientos.ops.backup import BackupError
        from alojamientos.ops.backup.common import last_line

        def guarded(*a: P.args, **kw: P.kwargs) -> R:
            try:
                return func(*a, **kw)
            except psycopg.Error as exc:
                raise BackupError(f"database error: {last_line(str(exc))}") from None
            except redis.RedisError as exc:
                raise BackupError(f"Redis error: {last_line(str(exc))}") from None
            except OSError as exc:
                where = f" ({exc.filename})" if exc.filename else ""
                raise BackupError(f"{exc.strerror or exc}{where}") from None

        return one_line_errors(guarded)(*args, **kwargs)

    return wrapper


def _progress(message: str) -> None:
    typer.echo(message, err=True)


def _print_checks(checks: list[Check]) -> None:
    for check in checks:
        typer.echo(check.line())


@backup_app.command("create")
@_one_line_errors
def create(
    keep: Annotated[
        int | None, typer.Option("--keep", min=1, help="afterwards, delete all but the N newest backups")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress on stderr")] = False,
) -> None:
    """Back up PostgreSQL (and Redis, when REDIS_URL is set) into one self-describing file in BACKUP_DIR."""
    from alojamientos.ops.backup import create_backup, offsite, prune_backups

    cfg = settings()
    path = create_backup(cfg, progress=None if quiet else _progress)
    line = str(path)
    if keep is not None:
        deleted = prune_backups(cfg, keep, protect=path)
        for old in deleted:
            _progress(f"deleted {old.name} (keeping the {keep} newest)")
        line += f" ({len(deleted)} older deleted)"
    typer.echo(line)
    if offsite.target(cfg) is not None:
        _copy(cfg, path)


def _copy(cfg: Settings, path: Path) -> None:
    from alojamientos.ops.backup import offsite

    try:
        record = offsite.copy_offsite(cfg, path)
    except offsite.OffsiteCopyFailed as exc:
        raise fail(f"{path.name} is on this machine only: the off-machine copy failed: {exc}") from None
    typer.echo(f"copied off the machine: {record.detail}")


@backup_app.command("copy")
@_one_line_errors
def copy(
    file: Annotated[Path | None, typer.Argument(help="the backup file (.tar); default: the newest")] = None,
) -> None:
    """Copy a backup off the machine (BACKUP_S3_BUCKET or BACKUP_COPY_COMMAND) and verify the copy."""
    from alojamientos.ops.backup import latest_backup, offsite

    cfg = settings()
    if offsite.target(cfg) is None:
        raise fail("no off-machine copy is configured: set BACKUP_S3_BUCKET or BACKUP_COPY_COMMAND")
    if file is None:
        newest = latest_backup(cfg)
        if newest is None:
            raise fail(f"no backups in {cfg.backup_dir}")
        file = newest.path
    _copy(cfg, file)


@backup_app.command("list")
@_one_line_errors
def list_() -> None:
    """Backups in BACKUP_DIR, newest first: time, age, version, revision, size."""
    from alojamientos.ops.backup import list_backups

    cfg = settings()
    infos = list_backups(cfg)
    if not infos:
        typer.echo(f"no backups in {cfg.backup_dir}")
        return
    for info in infos:
        typer.echo(info.line())


@backup_app.command("verify")
@_one_line_errors
def verify(
    file: Annotated[Path, typer.Argument(help="the backup file (.tar)")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress on stderr")] = False,
) -> None:
    """Check FILE completely: checksums, a restore into a scratch database, the Redis snapshot."""
    from alojamientos.ops.backup import verify_backup

    checks = verify_backup(settings(), file, progress=None if quiet else _progress)
    _print_checks(checks)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise fail(f"{file.name} did not verify: {failed[0].name}: {failed[0].detail}")
    typer.echo(f"{file.name} verified")


@backup_app.command("restore")
@_one_line_errors
def restore(
    file: Annotated[Path, typer.Argument(help="the backup file (.tar)")],
    yes: Annotated[bool, typer.Option("--yes", help="really replace the current data")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress on stderr")] = False,
) -> None:
    """Replace the current data with FILE's, after verifying it and taking a safety backup."""
    from alojamientos.ops.backup import describe_target, restore_backup

    cfg = settings()
    if not yes:
        raise fail(
            f"this would replace {describe_target(cfg)} with {file.name} "
            "(after verifying it and taking a safety backup); pass --yes to do it",
            2,
        )
    checks = restore_backup(cfg, file, progress=None if quiet else _progress)
    _print_checks(checks)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise fail(f"restore of {file.name} failed: {failed[0].name}: {failed[0].detail}")
    safety = next(c.detail for c in checks if c.name == "safety backup")
    typer.echo(f"{file.name} restored (safety backup: {safety})")
