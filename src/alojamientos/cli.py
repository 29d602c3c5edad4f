"""The `alojamientos` command: the root Typer app, its own commands, and the sub-apps it mounts.

Imports go one way: this module imports the sub-apps (nlu, backup, ops), and they and it share
`alojamientos.kit.cli`. Libraries a command needs load inside that command, so `--help` is quick."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated, Any

import typer

from alojamientos.conversation.nlu_cli import nlu_app
from alojamientos.kit.cli import fail, one_line_errors, run, settings, with_session
from alojamientos.ops.backup_cli import backup_app
from alojamientos.ops.cli import (
    deploy_app,
    doctor_command,
    predeploy_command,
    rollback_command,
    verify_command,
)

app = typer.Typer(no_args_is_help=True, add_completion=False, help="alojamientos: cabin reservations")
db_app = typer.Typer(no_args_is_help=True, help="Database migrations and demo data.")
users_app = typer.Typer(no_args_is_help=True, help="Operator accounts.")
ical_app = typer.Typer(no_args_is_help=True, help="Calendar sync with Airbnb, Booking.com and others (iCal).")
flags_app = typer.Typer(
    no_args_is_help=True, help="Feature flags, effective in every process without a restart."
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(nlu_app, name="nlu")
app.add_typer(ical_app, name="ical")
app.add_typer(backup_app, name="backup")
app.add_typer(flags_app, name="flags")
app.add_typer(deploy_app, name="deploy")
app.command("verify")(verify_command)
app.command("predeploy")(predeploy_command)
app.command("doctor")(doctor_command)
app.command("rollback")(rollback_command)


@app.command()
@one_line_errors
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="worker processes (default: one per core)", show_default=False)
    ] = None,
) -> None:
    """Serve the JSON API, the webhooks and the public pages (one process per core by default)."""
    from alojamientos.observability.logging import configure_logging
    from alojamientos.serving import serve as run_server

    configure_logging(settings().log_level)
    raise typer.Exit(run_server(host, port, workers or _cores(), settings().log_level))


def _cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. `taskset` or a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@db_app.command("upgrade")
@one_line_errors
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    from alojamientos.migrations import alembic_config

    command.upgrade(alembic_config(settings().database_url), revision)
    current = _current()
    if revision == "head":
        _record_deployment(current)
    typer.echo(f"database at {current}")


@db_app.command("downgrade")
@one_line_errors
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="target revision, or 'base'")],
) -> None:
    """Revert migrations down to REVISION."""
    from alembic import command

    from alojamientos.migrations import alembic_config

    command.downgrade(alembic_config(settings().database_url), revision)
    typer.echo(f"database at {_current() or 'base'}")


@db_app.command("current")
@one_line_errors
def db_current() -> None:
    """Print the database's migration revision and whether it is this code's head."""
    from alojamientos.migrations import head_revision

    current = _current()
    state = "head" if current == head_revision() else f"not at head {head_revision()}"
    typer.echo(f"{current or 'base'} ({state})")


def _record_deployment(revision: str | None) -> None:
    """`db upgrade` to head is the deploy step: remember when this version went live (for rollback)."""
    from sqlalchemy import create_engine, pool, text

    from alojamientos import __version__
    from alojamientos.config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(settings().database_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            last = conn.execute(
                text("SELECT version, revision FROM deployments ORDER BY id DESC LIMIT 1")
            ).first()
            if last is None or tuple(last) != (__version__, revision):
                conn.execute(
                    text("INSERT INTO deployments (version, revision, action) VALUES (:v, :r, 'upgrade')"),
                    {"v": __version__, "r": revision},
                )
    finally:
        engine.dispose()


def _current() -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, pool

    from alojamientos.config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(settings().database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


@db_app.command("seed-demo")
@one_line_errors
def db_seed_demo() -> None:
    """Load the demo units, season and stays into an empty database."""
    from alojamientos.demo import load_demo

    loaded = with_session(settings(), load_demo)
    typer.echo("demo data loaded" if loaded else "database already has units; demo not loaded")


@users_app.command("create")
@one_line_errors
def users_create(
    email: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
    name: Annotated[str, typer.Option(help="display name")] = "",
) -> None:
    """Create an operator account."""
    if not password_stdin:
        raise fail("pass --password-stdin and the password on standard input", 2)
    password = sys.stdin.readline().rstrip("\r\n")
    from alojamientos.auth.service import auth

    cfg = settings()

    async def work(session: Any) -> int:
        operator = await auth.create_operator(session, email, password, name=name)
        return operator.id

    try:
        operator_id = with_session(cfg, work)
    except ValueError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"operator {email.strip().lower()} created (id {operator_id})")


@app.command()
@one_line_errors
def worker(
    once: Annotated[bool, typer.Option("--once", help="run what is due now, then exit")] = False,
) -> None:
    """Background jobs: message delivery, inbound processing, hold expiry, and the rest."""
    import signal

    import httpx

    import alojamientos.tasks  # noqa: F401 - registers every domain's jobs
    from alojamientos.db import Database
    from alojamientos.jobs.worker import Worker
    from alojamientos.kit.clock import utc_now
    from alojamientos.observability.logging import configure_logging

    cfg = settings()
    configure_logging(cfg.log_level)

    async def go() -> int:
        database = Database(cfg)
        try:
            async with httpx.AsyncClient() as http:
                runner = Worker(cfg, database, http)
                if once:
                    await runner.run_periodic(utc_now(), force=True)
                    return await runner.run_pending()
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, stop.set)
                await runner.run_forever(stop)
                return 0
        finally:
            await database.dispose()

    ran = run(go())
    if once:
        typer.echo(f"ran {ran} job(s)")


@app.command()
@one_line_errors
def chat(
    phone: Annotated[str, typer.Option(help="the guest number to chat as")] = "+5492944000000",
) -> None:
    """Talk to the WhatsApp bot in the terminal (same engine, same records)."""
    from alojamientos.conversation.chat import run as run_chat
    from alojamientos.db import Database
    from alojamientos.kit.phone import InvalidPhone, to_e164

    try:
        number = to_e164(phone)
    except InvalidPhone as exc:
        raise fail(f"{phone!r} is not a phone number: {exc}") from None
    cfg = settings()

    def read() -> str | None:
        try:
            return input("vos> ")
        except EOFError:
            return None

    async def go() -> None:
        database = Database(cfg)
        try:
            await run_chat(database, number, read, typer.echo, mercadopago=cfg.configured("mercadopago"))
        finally:
            await database.dispose()

    run(go())


@flags_app.command("list")
@one_line_errors
def flags_list(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Every flag with its state."""
    import json

    from alojamientos.ops.flags import flags

    async def work(session: Any) -> list[dict[str, Any]]:
        return [
            {"name": f.name, "enabled": f.enabled, "description": f.description}
            for f in await flags.all(session)
        ]

    rows = with_session(settings(), work)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        typer.echo(f"{row['name']:<24} {'on ' if row['enabled'] else 'off'}  {row['description']}")


@flags_app.command("set")
@one_line_errors
def flags_set(name: str, state: Annotated[str, typer.Argument(help="on or off")]) -> None:
    """Switch a flag on or off (audited; live in every process within seconds)."""
    import getpass

    from alojamientos.ops.flags import flags

    if state not in ("on", "off"):
        raise fail(f"state must be 'on' or 'off', not {state!r}", 2)

    async def work(session: Any) -> tuple[str, bool]:
        flag = await flags.set(session, name, state == "on", actor=f"cli:{getpass.getuser()}")
        return flag.name, flag.enabled

    key, enabled = with_session(settings(), work)
    typer.echo(f"{key} is now {'on' if enabled else 'off'}")


@ical_app.command("import")
@one_line_errors
def ical_import(
    file_or_url: str,
    accommodation: Annotated[
        int, typer.Option("--accommodation", help="the unit's id", min=1, max=2**31 - 1)
    ],
    source: Annotated[
        str, typer.Option("--source", help="the calendar's name: Airbnb, Booking.com, Google, Cabaña 3...")
    ],
) -> None:
    """Replace SOURCE's blocks on that unit with the feed's events (a file, or an http(s) URL)."""
    from pathlib import Path

    import httpx

    from alojamientos.calendar_sync.fetch import FetchError, fetch_feed
    from alojamientos.calendar_sync.ical_import import IcalError
    from alojamientos.calendar_sync.service import feed_source, import_bytes
    from alojamientos.db import Database

    typed, source = source, feed_source(source)
    if not source:
        raise fail(f"--source {typed!r} has no letters or digits: name the calendar, e.g. Airbnb", 2)
    cfg = settings()
    is_url = file_or_url.startswith(("http://", "https://"))

    local = None if is_url else Path(file_or_url)
    if local is not None and not local.is_file():
        raise fail(f"{file_or_url} is not a file")
    local_data = local.read_bytes() if local is not None else b""

    async def go() -> str:
        data = local_data
        if is_url:
            async with httpx.AsyncClient() as http:
                fetched = await fetch_feed(http, file_or_url, cfg)
            data = fetched.body or b""
        database = Database(cfg)
        try:
            result = await import_bytes(
                database, cfg, accommodation, source, data, file_or_url if is_url else None
            )
        finally:
            await database.dispose()
        return "\n".join(result.lines())

    try:
        typer.echo(run(go()))
    except (FetchError, IcalError, OSError) as exc:
        raise fail(str(exc)) from None


@ical_app.command("sync")
@one_line_errors
def ical_sync() -> None:
    """Import every registered URL feed once (the worker does this every ICAL_SYNC_MINUTES)."""
    import httpx
    from sqlalchemy import select

    from alojamientos.calendar_sync.models import IcalFeed
    from alojamientos.calendar_sync.service import SyncResult, sync_feed
    from alojamientos.db import Database

    cfg = settings()

    async def go() -> list[SyncResult]:
        database = Database(cfg)
        try:
            async with database.session_scope() as session:
                ids = list(await session.scalars(select(IcalFeed.id).where(IcalFeed.url.is_not(None))))
            async with httpx.AsyncClient() as http:
                return [await sync_feed(database, cfg, http, feed_id) for feed_id in ids]
        finally:
            await database.dispose()

    results = run(go())
    for result in results:
        typer.echo("\n".join(result.lines()))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise fail(f"{len(failed)} of {len(results)} feeds failed")
    typer.echo(f"{len(results)} feeds synced")
