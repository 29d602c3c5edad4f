"""The running version, from one place: git tags `vX.Y.Z`.

A build (wheel or image) carries it in the package metadata (hatch-vcs reads the tag at build time);
a git checkout, as deployed by `rollback`, answers `git describe` directly so a checkout of another
tag reports that tag without reinstalling. ALOJAMIENTOS_VERSION overrides both (image builds).
"""

from __future__ import annotations

import logging
import os
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

log = logging.getLogger(__name__)
CHECKOUT = Path(__file__).resolve().parents[2]


def from_git(root: Path = CHECKOUT) -> str | None:
    if not (root / ".git").exists():
        return None
    try:
        described = subprocess.run(  # noqa: S603
            ["git", "-C", str(root), "describe", "--tags", "--match", "v[0-9]*", "--dirty"],  # noqa: S607
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("version.git_describe_failed", extra={"error": repr(exc)})
        return None
    return described.stdout.strip().removeprefix("v") if described.returncode == 0 else None


def current_version() -> str:
    if override := os.environ.get("ALOJAMIENTOS_VERSION"):
        return override
    if described := from_git():
        return described
    try:
        return version("alojamientos")
    except PackageNotFoundError:
        return "0.0.0+unknown"
