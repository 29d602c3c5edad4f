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
from alojamientos.ops.compat import unsafe_migrations
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


def running_revision(settings: Settings) -> str | None:
    """The Alembic revision of the configured database (None: empty database, nothing migrated yet)."""
    with psycopg.connect(_plain_url(settings), autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def check_compat(settings: Settings, repo: Path, tag: str | None) -> list[Check]:
    """Can the running release live with `tag`'s migrations while both run? One line per finding.

    `tag` None: HEAD's release tag (the checkout about to go live). See `ops.compat` for the rules.
    """
    name = "migrations"
    target = tag or git(repo, "describe", "--exact-match", "--tags", "HEAD", check=False)
    if not TAG.match(target or ""):
        return [Check(name, False, "no release tag to compare with", "pass --to vX.Y.Z or check out a tag")]
    try:
        current = running_revision(settings)
        found = unsafe_migrations(repo, current, target)
    except (ReleaseError, psycopg.Error) as exc:
        return [Check(name, False, str(exc).splitlines()[0], "check the tag and the database")]
    if not found:
        return [Check(name, True, "compatible with the running release")]
    fix = (
        "expand now, contract later: ship the change the running release can live with first "
        f"(or go with downtime: alojamientos deploy --to {target} --with-downtime)"
    )
    return [Check(name, False, str(u), fix if n == len(found) else "") for n, u in enumerate(found, 1)]


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


async def predeploy(settings: Settings, backup_age: BackupAge, *, to: str | None = None) -> list[Check]:
    """The checklist; `to` is the release about to be deployed (default: HEAD's tag in the deploy dir)."""
    repo = deploy_dir(settings)
    checks = check_git(repo)
    checks.append(check_migrations(settings))
    checks += check_compat(settings, repo, to)
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
