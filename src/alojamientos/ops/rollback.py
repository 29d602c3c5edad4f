"""`alojamientos rollback --to vX.Y.Z`: the rollback plan's procedure, done and checked step by step.

Full rollback: points of no return are detected first (an irreversible migration between the two
versions; WhatsApp messages sent or payments received since the deploy) and refused without
`--accept-risk`; then a safety backup, the database downgrade to the target's head revision (with
this code, which knows the newer migrations), the code switch (git checkout of the tag, or the image
tag for compose), the restart, and `verify`. Partial rollbacks: code only, or configuration only.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import text

from alojamientos import __version__
from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.migrations import alembic_config
from alojamientos.ops.checks import Check
from alojamientos.ops.release import TAG, ReleaseError, Step, git, migrations_between, tag_head_revision
from alojamientos.ops.verify import verify
from alojamientos.version import CHECKOUT

Out = Callable[[str], None]


class RollbackRefused(Exception):
    """A precondition failed; nothing was changed."""


@dataclass
class Plan:
    mode: str  # full | code | config
    target: str
    current_version: str
    current_revision: str | None
    target_revision: str | None
    reverts: list[Step] = field(default_factory=list)
    since: datetime | None = None
    whatsapp_sent: int = 0
    payments: int = 0
    risks: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"Rollback plan ({self.mode}): {self.current_version} → {self.target}"]
        if self.mode != "config":
            lines.append(f"  database revision: {self.current_revision} → {self.target_revision}")
            for step in self.reverts:
                lines.append(
                    f"  revert {step.revision}{' (IRREVERSIBLE)' if step.irreversible else ''}: {step.doc}"
                )
        since = self.since.isoformat(timespec="seconds") if self.since else "unknown"
        lines.append(
            f"  since the deploy ({since}): {self.whatsapp_sent} WhatsApp messages sent, "
            f"{self.payments} payments recorded"
        )
        steps = {
            "full": ["safety backup", "downgrade the database", "switch the code", "restart", "verify"],
            "code": ["safety backup", "switch the code (database untouched)", "restart", "verify"],
            "config": ["restore the previous .env", "restart", "verify"],
        }[self.mode]
        lines += [f"  {n}. {s}" for n, s in enumerate(steps, 1)]
        lines += [f"  POINT OF NO RETURN: {risk}" for risk in self.risks]
        return lines


def deploy_dir(settings: Settings) -> Path:
    return settings.deploy_dir or CHECKOUT


async def make_plan(settings: Settings, target: str, mode: str) -> Plan:
    if not TAG.match(target):
        raise RollbackRefused(f"--to must be a release tag like v1.2.3, not {target!r}")
    repo = deploy_dir(settings)
    try:
        git(repo, "rev-parse", "--verify", f"{target}^{{commit}}")
        target_revision = tag_head_revision(repo, target)
    except ReleaseError as exc:
        raise RollbackRefused(str(exc)) from None
    database = Database(settings)
    try:
        async with database.session_scope() as session:
            current_revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
            since = await session.scalar(text("SELECT max(at) FROM deployments WHERE action = 'upgrade'"))
            whatsapp = await session.scalar(
                text(
                    "SELECT count(*) FROM conversation_messages WHERE direction = 'out' AND wamid IS NOT NULL"
                    " AND created_at > coalesce(:since, now())"
                ),
                {"since": since},
            )
            payments = await session.scalar(
                text("SELECT count(*) FROM payments WHERE created_at > coalesce(:since, now())"),
                {"since": since},
            )
    finally:
        await database.dispose()
    plan = Plan(
        mode,
        target,
        __version__,
        current_revision,
        target_revision,
        since=since,
        whatsapp_sent=whatsapp or 0,
        payments=payments or 0,
    )
    if mode == "full":
        try:
            plan.reverts = migrations_between(current_revision, target_revision)
        except Exception as exc:  # alembic raises several types for unknown or unrelated revisions
            raise RollbackRefused(
                f"cannot walk from {current_revision} down to {target_revision}: {exc}"
            ) from None
        plan.risks += [
            f"migration {s.revision} is marked irreversible ({s.doc})" for s in plan.reverts if s.irreversible
        ]
    if mode == "code" and current_revision != target_revision:
        plan.risks.append(f"the database stays at {current_revision} but {target} expects {target_revision}")
    if mode != "config" and plan.whatsapp_sent:
        plan.risks.append(
            f"{plan.whatsapp_sent} WhatsApp messages went out since the deploy (guests were told things)"
        )
    if mode != "config" and plan.payments:
        plan.risks.append(f"{plan.payments} payments were recorded since the deploy")
    return plan


@dataclass
class Outcome:
    ok: bool
    phases: list[tuple[str, float, str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    backup: str | None = None

    @property
    def total(self) -> float:
        return sum(seconds for _, seconds, _ in self.phases)


async def execute(
    settings: Settings, plan: Plan, *, url: str, accept_risk: bool, out: Out, backup: Callable[[], str]
) -> Outcome:
    if plan.risks and not accept_risk:
        raise RollbackRefused(
            "points of no return (pass --accept-risk to go ahead): " + "; ".join(plan.risks)
        )
    repo = deploy_dir(settings)
    outcome = Outcome(ok=False)

    def phase(name: str, work: Callable[[], str]) -> None:
        started = time.perf_counter()
        out(f"… {name}")
        detail = work()
        outcome.phases.append((name, time.perf_counter() - started, detail))
        out(f"✓ {name} ({time.perf_counter() - started:.1f} s){': ' + detail if detail else ''}")

    if plan.mode in ("full", "code"):
        if git(repo, "status", "--porcelain", "--untracked-files=no") and settings.deploy_mode == "git":
            raise RollbackRefused(f"{repo} has uncommitted changes; commit or stash them first")

        def safety_backup() -> str:
            outcome.backup = backup()
            return outcome.backup

        phase("safety backup", safety_backup)
    if plan.mode == "full":

        def downgrade() -> str:
            command.downgrade(alembic_config(settings.database_url), plan.target_revision or "base")
            return f"database at {plan.target_revision or 'base'}"

        phase("downgrade the database", downgrade)
    if plan.mode in ("full", "code"):
        phase("switch the code", lambda: _switch(settings, repo, plan.target))
    else:
        phase("restore the previous .env", lambda: _restore_env(settings, repo))
    phase("restart", lambda: _restart(settings))
    started = time.perf_counter()
    version = await _wait_for_version(url, plan.target.removeprefix("v") if plan.mode != "config" else None)
    outcome.phases.append(("service back", time.perf_counter() - started, f"version {version}"))
    out(f"✓ service back ({time.perf_counter() - started:.1f} s): version {version}")
    started = time.perf_counter()
    outcome.checks = await verify(url, insecure=True)
    outcome.phases.append(("verify", time.perf_counter() - started, ""))
    for check in outcome.checks:
        out(check.line())
    outcome.ok = all(c.ok for c in outcome.checks)
    if outcome.ok and plan.mode != "config":
        await _record(settings, plan)
    return outcome


def _switch(settings: Settings, repo: Path, target: str) -> str:
    if settings.deploy_mode == "compose":
        env = repo / ".env"
        content = env.read_text() if env.exists() else ""
        if env.exists():
            shutil.copy2(env, env.with_name(".env.before-rollback"))
        line = f"ALOJAMIENTOS_IMAGE_TAG={target}"
        if re.search(r"^ALOJAMIENTOS_IMAGE_TAG=", content, flags=re.M):
            content = re.sub(r"^ALOJAMIENTOS_IMAGE_TAG=.*$", line, content, flags=re.M)
        else:
            content = content.rstrip("\n") + ("\n" if content else "") + line + "\n"
        env.write_text(content)
        return f"image tag {target} in {env}"
    git(repo, "checkout", "--quiet", "--detach", target)
    return f"{repo} at {git(repo, 'describe', '--tags')}"


def _restore_env(settings: Settings, repo: Path) -> str:
    snapshots = sorted((settings.backup_dir / "env").glob(".env.*"))
    if not snapshots:
        raise RollbackRefused(f"no .env snapshot in {settings.backup_dir / 'env'} (predeploy takes one)")
    if (repo / ".env").exists():
        shutil.copy2(repo / ".env", repo / ".env.before-rollback")
    shutil.copy2(snapshots[-1], repo / ".env")
    return f".env restored from {snapshots[-1].name}"


def _restart(settings: Settings) -> str:
    if not settings.restart_command:
        raise RollbackRefused("RESTART_COMMAND is not set: how should the service be restarted?")
    # An operator-configured command, run as configured (it may need the shell: pipes, &&).
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", settings.restart_command],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RollbackRefused(
            f"the restart command failed ({result.returncode}): {result.stderr.strip()[:300]}"
        )
    return settings.restart_command


async def _wait_for_version(url: str, expected: str | None, within: float = 90) -> str:
    deadline = time.monotonic() + within
    seen = "unreachable"
    async with httpx.AsyncClient(timeout=3, verify=False) as http:  # noqa: S501 - our own service, maybe self-signed
        while time.monotonic() < deadline:
            try:
                body = (await http.get(f"{url.rstrip('/')}/api/v1/healthz")).json()
                seen = str(body.get("version"))
                if body.get("status") in ("healthy", "degraded") and (expected is None or seen == expected):
                    return seen
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(0.3)
    raise RollbackRefused(
        f"the service did not come back as {expected or 'healthy'} within {within:.0f} s (saw {seen})"
    )


async def _record(settings: Settings, plan: Plan) -> None:
    database = Database(settings)
    try:
        async with database.session_scope() as session:
            await session.execute(
                text("INSERT INTO deployments (version, revision, action) VALUES (:v, :r, 'rollback')"),
                {"v": plan.target.removeprefix("v"), "r": plan.target_revision},
            )
    finally:
        await database.dispose()


def messages(plan: Plan, outcome: Outcome, *, severity: str, reason: str) -> str:
    """The plan's stakeholder and technical notices, filled with what really happened."""
    done = {name for name, _, _ in outcome.phases}

    def mark(name: str) -> str:
        return "[x]" if name in done else "[ ]"

    api = "OK" if outcome.ok else "con problemas"
    passed = sum(c.ok for c in outcome.checks)
    return "\n".join(
        [
            "Para stakeholders:",
            "🔄 ROLLBACK " + ("COMPLETADO" if outcome.ok else "CON PROBLEMAS") + " - Sistema Alojamientos",
            f"Estado: vuelta a la versión estable {plan.target} (desde {plan.current_version})",
            f"Razón: {reason}",
            f"Severidad: {severity}",
            f"Tiempo total: {outcome.total:.0f} s",
            "Acciones tomadas:",
            f"- {mark('switch the code')} Rollback de código a {plan.target}",
            f"- {mark('downgrade the database')} Base de datos a {plan.target_revision}",
            f"- {mark('verify')} Verificación de servicios",
            f"Estado actual: API {api}; verificación {passed}/{len(outcome.checks)}",
            "",
            f"Para el equipo técnico: ROLLBACK {severity}",
            f"Problem: {reason}",
            f"Rollback strategy: {plan.mode}",
            f"Safety backup: {outcome.backup or 'none'}",
            "Phases:",
            *(f"  ✓ {name}: {seconds:.1f} s {detail}" for name, seconds, detail in outcome.phases),
            "Verification:",
            *(f"  {c.line()}" for c in outcome.checks),
        ]
    )


def slot_rollback(
    settings: Settings,
    target: str,
    *,
    full: bool,
    dry_run: bool,
    accept_risk: bool,
    severity: str,
    reason: str,
    out: Out,
    backup: Callable[[], str],
) -> None:
    """Rollback once `alojamientos deploy` runs the slots (ops/deploy.py).

    While a slot still runs `target`: one upstream rewrite and one nginx reload, no checkout, no build,
    no restart; the database stays where it is (deploy refused any migration the previous release
    cannot live with). With `--full`, or when that slot is gone: the database downgraded to `target`'s
    head with the newest slot's code, both slots stopped, `target` started, one reload; the time the
    service is unavailable is estimated first and measured.
    """
    from alojamientos.ops import deploy as slots

    if not TAG.match(target):
        raise RollbackRefused(f"--to must be a release tag like v1.2.3, not {target!r}")
    layout = slots.Layout.of(settings)
    state = slots.State.load(layout)
    kept = state.slot_with(target)
    if not full and kept and slots.running(layout, kept):
        if dry_run:
            out(f"Rollback plan (switch): {target} still runs in the {kept} slot")
            out(
                f"  1. rewrite {layout.upstream} with {kept} active,"
                " 2. one nginx reload (no checkout, no restart)"
            )
            out("dry run: nothing changed")
            return
        started = time.perf_counter()
        summary = slots.switch_back(settings, target, out)
        if summary is not None:
            out(summary)
            out(f"rollback took {time.perf_counter() - started:.1f} s; the service never stopped")
            return
    if not full:
        out(f"no running slot has {target}: full rollback (database downgrade and restart)")
    try:
        git(layout.repo, "rev-parse", "--verify", f"{target}^{{commit}}")
        target_revision = tag_head_revision(layout.repo, target)
    except ReleaseError as exc:
        raise RollbackRefused(str(exc)) from None
    reverts = slots.full_plan_reverts(settings, target_revision)
    estimate = slots.estimate_unavailable(settings, len(reverts))
    current = state.slots[state.active].version if state.active else "unknown"
    out(f"Rollback plan (full): {current} → {target}")
    out(f"  database revision: {slots.current_revision(settings)} → {target_revision}")
    for revision, irreversible, doc in reverts:
        out(f"  revert {revision}{' (IRREVERSIBLE)' if irreversible else ''}: {doc}")
    steps = [
        "safety backup",
        "stop both slots",
        "downgrade the database",
        f"start {target}",
        "one nginx reload",
        "verify",
    ]
    out("\n".join(f"  {n}. {s}" for n, s in enumerate(steps, 1)))
    out(
        f"  the service will be unavailable for about {estimate:.0f} s"
        f" (from stopping the slots until {target} answers)"
    )
    risks = [f"migration {r} is marked irreversible ({d})" for r, irreversible, d in reverts if irreversible]
    for risk in risks:
        out(f"  POINT OF NO RETURN: {risk}")
    if dry_run:
        out("dry run: nothing changed")
        return
    if risks and not accept_risk:
        raise RollbackRefused("points of no return (pass --accept-risk to go ahead): " + "; ".join(risks))
    summary, unavailable = slots.full_rollback(
        settings, target, target_revision, severity=severity, reason=reason, backup=backup, out=out
    )
    out(summary)
    out(f"the service was unavailable for {unavailable:.1f} s (estimated {estimate:.0f} s)")
