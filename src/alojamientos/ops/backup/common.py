"""Shared pieces of the backup package: the error, the check record, progress and subprocess helpers."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from alojamientos.errors import AppError

Progress = Callable[[str], None]


class BackupError(AppError):
    """A backup, verification or restore that cannot go on; the message is one line for the operator."""

    code = "backup_error"


def say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover - unreachable


def last_line(text: str | bytes) -> str:
    """The most telling line of a tool's stderr (the last non-empty one), for a one-line error."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def run_tool(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float,
    what: str,
    watch: Path | None = None,
    progress: Progress | None = None,
) -> str:
    """Runs a tool to completion, returning its stdout; a failure or timeout is a BackupError naming
    `what` with the tool's last stderr line. While it runs, the size of `watch` is reported every few
    seconds (long dumps show that they are moving)."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(  # noqa: S603 - explicit argument list, no shell
            list(args),
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise BackupError(f"{what}: cannot run {args[0]}: {exc.strerror or exc}") from None
    next_report = started + 3.0
    while True:
        try:
            out, err = proc.communicate(timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            now = time.monotonic()
            if now - started > timeout:
                proc.kill()
                proc.communicate()
                raise BackupError(f"{what}: {Path(args[0]).name} timed out after {timeout:.0f}s") from None
            if now >= next_report and watch is not None and watch.exists():
                say(progress, f"  … {human_size(watch.stat().st_size)} after {now - started:.0f}s")
                next_report = now + 5.0
    if proc.returncode != 0:
        raise BackupError(f"{what}: {Path(args[0]).name} failed: {last_line(err)}")
    return out.decode("utf-8", "replace")
