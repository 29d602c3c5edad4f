"""`alojamientos predeploy`: the plan's pre-deploy checklist; exit 0 only when it is safe to deploy."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from alembic import command
from psycopg import sql

from alojamientos.config import Settings, sqlalchemy_url
from alojamientos.migrations import alembic_config, head_revision
from alojamientos.ops.checks import Check
from alojamientos.ops.release import TAG, ReleaseError, git
from alojamientos.ops.rollback import deploy_dir

BackupAge = Callable[[Settings], Awaitable[float | None]]  # minutes since the newest backup, or None


def _plain_url(settings: Settings) -> str:
    return sqlalchemy_url(settings.database_url).replace("postgresql+psycopg://", "postgresql://")


def check_git(repo: Path) -> list[Check]:
    try:
        dirty = git(repo, "status", "--porcelain")
        tag = git(repo, "describe", "--exact-match", "--tags", "HEAD", check=False)
    except ReleaseError as exc:
        return [Check("git checkout", False, str(exc), "run predeploy from the deploy checkout")]
    return [
        Check(
            "clean working tree",
            not dirty,
            "clean" if not dirty else f"{len(dirty.splitlines())} changed files",
            "commit or stash the changes; deploy only what a tag names",
        ),
        Check(
            "HEAD is a release tag",
            bool(TAG.match(tag)),
            tag or "HEAD has no vX.Y.Z tag",
            "tag the release: git tag vX.Y.Z && git push --tags",
        ),
    ]


def check_migrations(settings: Settings) -> Check:
    """upgrade → downgrade → upgrade on a scratch database next to the real one: every step must work."""
    url = _plain_url(settings)
    name = f"aloj_predeploy_{uuid.uuid4().hex[:8]}"
    scratch = url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        return Check(
            "migrations reversible",
            False,
            f"cannot create a scratch database: {exc}".splitlines()[0],
            "the database user needs CREATEDB for this check",
        )
    try:
        config = alembic_config(scratch)
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        return Check("migrations reversible", True, f"upgrade → downgrade → upgrade to {head_revision()}")
    except Exception as exc:  # any failure of a migration is the finding itself
        return Check(
            "migrations reversible",
            False,
            f"{type(exc).__name__}: {exc}".splitlines()[0][:300],
            "fix the migration's downgrade, or mark it irreversible = True",
        )
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def check_env(repo: Path) -> Check:
    """Every variable .env.example names is set in the environment or in .env (an empty value is allowed
    only where the example leaves it empty, i.e. optional integrations)."""
    import os

    example = repo / ".env.example"
    if not example.exists():
        return Check("environment complete", False, f"{example} is missing")
    wanted = _keys(example)
    present = _keys(repo / ".env") if (repo / ".env").exists() else {}
    missing = [k for k, v in wanted.items() if k not in os.environ and k not in present]
    empty = [k for k, v in wanted.items() if v and not (os.environ.get(k) or present.get(k))]
    problems = missing + [f"{k} (empty)" for k in empty if k not in missing]
    return Check(
        "environment complete",
        not problems,
        "missing: " + ", ".join(problems) if problems else f"{len(wanted)} variables set",
        "add them to .env (see .env.example)",
    )


def _keys(path: Path) -> dict[str, str]:
    keys = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            keys[key.strip()] = value.strip()
    return keys


def snapshot_env(settings: Settings, repo: Path) -> Path | None:
    """Keeps a copy of the .env that is about to go live, for `rollback --config-only`."""
    env = repo / ".env"
    if not env.exists():
        return None
    target = settings.backup_dir / "env" / f".env.{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(env, target)
    target.chmod(0o600)
    return target


async def predeploy(settings: Settings, backup_age: BackupAge) -> list[Check]:
    repo = deploy_dir(settings)
    checks = check_git(repo)
    checks.append(check_migrations(settings))
    age = await backup_age(settings)
    limit = settings.max_backup_age_minutes
    checks.append(
        Check(
            "recent backup",
            age is not None and age <= limit,
            "no backup found" if age is None else f"newest is {age:.0f} min old (limit {limit})",
            "alojamientos backup create",
        )
    )
    checks.append(check_env(repo))
    if all(c.ok for c in checks):
        snapshot = snapshot_env(settings, repo)
        checks.append(
            Check(".env snapshot for rollback", True, str(snapshot) if snapshot else "no .env to keep")
        )
    return checks
