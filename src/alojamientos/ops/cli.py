"""Operations commands: verify, predeploy, rollback, doctor (mounted on the root `alojamientos` app)."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from alojamientos.kit.cli import fail
from alojamientos.kit.cli import settings as configured
from alojamientos.ops.checks import render

if TYPE_CHECKING:
    from alojamientos.config import Settings


async def backup_age_minutes(settings: Settings) -> float | None:
    """Minutes since the newest backup in BACKUP_DIR, or None when there is none."""
    from alojamientos.kit.clock import utc_now
    from alojamientos.ops.backup import latest_backup

    latest = latest_backup(settings)
    if latest is None:
        return None
    return (utc_now() - latest.created_at).total_seconds() / 60


def safety_backup(settings: Settings) -> str:
    from alojamientos.ops.backup import create_backup

    return str(create_backup(settings, progress=lambda line: typer.echo(f"  {line}", err=True)))


def _done(ok: bool, output: str) -> None:
    typer.echo(output)
    if not ok:
        raise typer.Exit(1)


def verify_command(
    url: str,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    verify_token: Annotated[
        str | None, typer.Option(help="also check the WhatsApp webhook handshake")
    ] = None,
    insecure: Annotated[bool, typer.Option(help="accept a self-signed TLS certificate")] = False,
) -> None:
    """The post-deploy checklist against a running instance; exit 0 only if every check passes."""
    from alojamientos.ops.verify import verify

    checks = asyncio.run(verify(url, verify_token=verify_token, insecure=insecure))
    _done(all(c.ok for c in checks), render(checks, as_json=as_json))


def predeploy_command(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    to: Annotated[
        str | None,
        typer.Option("--to", help="the release to check against the running one (default: HEAD's tag)"),
    ] = None,
) -> None:
    """The pre-deploy checklist: clean tagged tree, reversible migrations, migrations the running release
    can live with, fresh backup, complete env."""
    from alojamientos.ops.predeploy import predeploy
    from alojamientos.ops.release import TAG

    if to is not None and not TAG.match(to):
        raise fail(f"--to must be a release tag like v1.2.3, not {to!r}", code=2)
    checks = asyncio.run(predeploy(configured(), backup_age_minutes, to=to))
    _done(all(c.ok for c in checks), render(checks, as_json=as_json))


def doctor_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Incident diagnostics: overlaps, stuck holds and jobs, payments, feeds, backups, migrations, Redis."""
    from alojamientos.ops.doctor import doctor

    checks = asyncio.run(doctor(configured(), backup_age_minutes))
    _done(all(c.ok for c in checks), render(checks, as_json=as_json))


def rollback_command(
    to: Annotated[str, typer.Option("--to", help="the release tag to go back to, e.g. v1.4.2")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the plan and change nothing")] = False,
    accept_risk: Annotated[
        bool, typer.Option("--accept-risk", help="go ahead past points of no return")
    ] = False,
    code_only: Annotated[
        bool, typer.Option("--code-only", help="switch the code, leave the database")
    ] = False,
    config_only: Annotated[
        bool, typer.Option("--config-only", help="restore the previous .env only")
    ] = False,
    url: Annotated[str | None, typer.Option(help="where to verify (default PUBLIC_BASE_URL)")] = None,
    severity: Annotated[str, typer.Option(help="SEV1, SEV2 or SEV3, for the messages")] = "SEV2",
    reason: Annotated[str, typer.Option(help="one line for the stakeholder message")] = "(sin especificar)",
    full: Annotated[
        bool, typer.Option("--full", help="downgrade the database and restart, even while the slot is kept")
    ] = False,
) -> None:
    """The rollback plan, guided and checked: backup, downgrade, switch, restart, verify, messages.

    After `alojamientos deploy`, while the previous slot is kept, it is one nginx reload instead."""
    from alojamientos.ops.rollback import RollbackRefused, execute, make_plan, messages

    if code_only and config_only:
        raise typer.BadParameter("choose --code-only or --config-only, not both")
    settings = configured()
    from alojamientos.ops import deploy as slots

    if not (code_only or config_only) and slots.in_use(settings):
        from alojamientos.ops.rollback import slot_rollback

        try:
            slot_rollback(
                settings,
                to,
                full=full,
                dry_run=dry_run,
                accept_risk=accept_risk,
                severity=severity,
                reason=reason,
                out=typer.echo,
                backup=lambda: safety_backup(settings),
            )
        except (RollbackRefused, slots.DeployError) as exc:
            typer.echo(
                f"error: rollback refused: {exc}" if isinstance(exc, RollbackRefused) else f"error: {exc}",
                err=True,
            )
            raise typer.Exit(1) from None
        return
    mode = "code" if code_only else "config" if config_only else "full"
    target_url = url or settings.public_base_url
    try:
        plan = asyncio.run(make_plan(settings, to, mode))
        for line in plan.lines():
            typer.echo(line)
        if dry_run:
            typer.echo("dry run: nothing changed")
            return
        outcome = asyncio.run(
            execute(
                settings,
                plan,
                url=target_url,
                accept_risk=accept_risk,
                out=typer.echo,
                backup=lambda: safety_backup(settings),
            )
        )
    except RollbackRefused as exc:
        typer.echo(f"error: rollback refused: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo("")
    typer.echo(messages(plan, outcome, severity=severity, reason=reason))
    typer.echo(
        f"\nrollback {'succeeded' if outcome.ok else 'FINISHED WITH FAILED CHECKS'} in {outcome.total:.1f} s",
        err=not outcome.ok,
    )
    if not outcome.ok:
        sys.exit(1)


deploy_app = typer.Typer(
    help="Zero-downtime deploys: the new release in the idle slot, checked, then one nginx reload.",
    invoke_without_command=True,
)


@deploy_app.callback()
def deploy_command(
    ctx: typer.Context,
    to: Annotated[str | None, typer.Option("--to", help="the release tag to deploy, e.g. v1.4.2")] = None,
    canary: Annotated[
        int | None, typer.Option("--canary", help="send PCT % to the new slot first, then 50, then 100")
    ] = None,
    canary_window: Annotated[
        float | None, typer.Option("--canary-window", help="seconds each canary step is watched")
    ] = None,
    with_downtime: Annotated[
        bool,
        typer.Option(
            "--with-downtime",
            help="stop, migrate, start: for migrations the running release cannot live with",
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the plan and change nothing")] = False,
) -> None:
    """Deploy a release tag beside the running one; `deploy status` shows the slots."""
    if ctx.invoked_subcommand is not None:
        return
    if to is None:
        raise typer.BadParameter("--to is required (or use `alojamientos deploy status`)", param_hint="--to")
    from alojamientos.ops.deploy import DeployError, deploy, last_runs, stakeholder_message

    settings = configured()
    if canary_window is not None and canary_window <= 0:
        raise typer.BadParameter("must be more than 0 seconds", param_hint="--canary-window")
    try:
        outcome = deploy(
            settings,
            to,
            canary=canary,
            window=canary_window,
            with_downtime=with_downtime,
            dry_run=dry_run,
            out=typer.echo,
        )
    except DeployError as exc:
        message = str(exc)
        prefixed = message.startswith(("refused:", "canary rolled back:"))
        typer.echo(message if prefixed else f"error: deploy failed: {message}", err=True)
        raise typer.Exit(exc.code) from None
    if not dry_run and (runs := last_runs(settings, 1)):
        typer.echo("")
        typer.echo(stakeholder_message(runs[0], runs[0]["started_at"]))
    typer.echo(outcome)


@deploy_app.command("status")
def deploy_status_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Which slot runs which release, nginx's weights, and the last deploy's steps."""
    import json

    from alojamientos.ops.deploy import status

    report = status(configured())
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    typer.echo(f"active: {report['active'] or 'none'}   upstream file: {report['upstream'] or 'unset'}")
    for slot, info in report["slots"].items():
        pids = ", ".join(f"{k} {v or '-'}" for k, v in info["pids"].items())
        weight = info["weight"] if info["weight"] is not None else "-"
        typer.echo(
            f"  {slot:<6} {info['version'] or '-':<10} {info['role']:<8} port {info['port']}"
            f"  weight {weight}  {pids}"
        )
    for run in report["last"]:
        typer.echo(f"last: {run['kind']} {run['version']} {run['status']} at {run['started_at']}")
        for step in run["steps"]:
            typer.echo(f"  {'✓' if step['ok'] else '✗'} {step['step']}: {step['detail']}")
