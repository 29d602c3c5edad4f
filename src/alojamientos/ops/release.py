"""Releases are git tags; what a tag's code expects of the database is read from its migrations."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

VERSIONS = "src/alojamientos/migrations/versions"
_REVISION = re.compile(r"^revision(?::\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)
TAG = re.compile(r"^v\d+\.\d+\.\d+$")


class ReleaseError(Exception):
    pass


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, like the operator's shell
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def tag_head_revision(repo: Path, tag: str) -> str | None:
    """The Alembic head of the code at `tag` (None when that release had no migrations)."""
    files = git(repo, "ls-tree", "-r", "--name-only", tag, "--", VERSIONS).splitlines()
    revisions: dict[str, str | None] = {}
    for name in files:
        if not name.endswith(".py") or name.endswith("__init__.py"):
            continue
        text = git(repo, "show", f"{tag}:{name}")
        revision, down = _REVISION.search(text), _DOWN.search(text)
        if revision:
            revisions[revision.group(1)] = down.group(1) if down else None
    heads = set(revisions) - {d for d in revisions.values() if d}
    if len(heads) > 1:
        raise ReleaseError(f"{tag} has several migration heads: {sorted(heads)}")
    return heads.pop() if heads else None


@dataclass(frozen=True, slots=True)
class Step:
    revision: str
    irreversible: bool
    doc: str


def migrations_between(current: str | None, target: str | None) -> list[Step]:
    """The migrations to revert to go from `current` down to `target`, newest first (this code's scripts)."""
    # Imported here: the panel imports this module, and every server process would load Alembic.
    from alembic.script import ScriptDirectory

    from alojamientos.migrations import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    if current is None or current == target:
        return []
    steps = []
    for revision in script.walk_revisions(base=target or "base", head=current):
        if revision.revision == target:
            continue
        module = revision.module
        steps.append(
            Step(
                revision.revision,
                bool(getattr(module, "irreversible", False)),
                (revision.doc or "").splitlines()[0] if revision.doc else "",
            )
        )
    return steps


def release_repo(source: Path, target: Path, tag: str) -> list[str]:
    """A throwaway git repository holding `source`'s working tree (tracked and new files) as `tag`.

    For rehearsals (`make rollback-drill`) and tests; returns the git command prefix to commit more.
    """
    listed = subprocess.run(  # noqa: S603
        ["git", "-C", str(source), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        capture_output=True, timeout=60, check=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)
    git_cmd = ["git", "-C", str(target), "-c", "user.name=release", "-c", "user.email=release@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True, timeout=60)  # noqa: S603, S607
    subprocess.run([*git_cmd, "add", "-A"], check=True, timeout=60)  # noqa: S603
    subprocess.run([*git_cmd, "commit", "-q", "-m", f"release {tag}"], check=True, timeout=60)  # noqa: S603
    subprocess.run([*git_cmd, "tag", tag], check=True, timeout=60)  # noqa: S603
    return git_cmd
