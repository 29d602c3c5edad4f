"""What every `alojamientos` command shares: one-line failures, the settings, a database session.

Imported by the root app (`alojamientos.cli`) and by each sub-app it mounts; it imports nothing of
theirs. Kept light: `alojamientos --help` loads this module, so heavy libraries load inside functions.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from alojamientos.config import Settings

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _problem(error: Any) -> str:
    """One settings problem, named by its variable when it has one (a model-level check has none)."""
    where = ".".join(map(str, error["loc"])).upper()
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected failures end the command with a one-line reason on stderr, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from pydantic import ValidationError
        from sqlalchemy.exc import DBAPIError, OperationalError

        from alojamientos.config import ConfigError
        from alojamientos.errors import AppError

        try:
            return func(*args, **kwargs)
        except (AppError, ConfigError) as exc:
            raise fail(str(exc)) from None
        except ValidationError as exc:
            problems = "; ".join(_problem(e) for e in exc.errors())
            raise fail(
                f"invalid configuration: {problems} (run `make run` once in this checkout to write .env,"
                " or set the variable in the environment)"
            ) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise fail(f"cannot reach the database at {_database_location()}: {reason}") from None
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise fail(
                f"database error: {reason} (is the schema current? see `alojamientos db current`)"
            ) from None

    return wrapper


def _database_location() -> str:
    from alojamientos.config import database_location, get_settings, origin

    return f"{database_location(get_settings().database_url)} (from {origin('DATABASE_URL')})"


@functools.cache
def settings() -> Settings:
    """The settings, validated; says on stderr, once, which database a command will use when nobody
    typed it (it came from `.env`, the services `make run` started, or the default)."""
    from alojamientos.config import get_settings, origin

    cfg = get_settings()
    if origin("DATABASE_URL") != "the environment":
        typer.echo(f"using the database at {_database_location()}", err=True)
    return cfg


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


def with_session(cfg: Settings, work: Callable[[AsyncSession], Coroutine[Any, Any, R]]) -> R:
    """Runs `work(session)` in one transaction against the configured database."""
    from alojamientos.db import Database

    async def go() -> R:
        database = Database(cfg)
        try:
            async with database.session_scope() as session:
                return await work(session)
        finally:
            await database.dispose()

    return run(go())
