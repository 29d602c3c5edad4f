"""Engine, sessions and the unit of work: the edge (request, task, command) owns the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

import alojamientos.models  # noqa: F401 - every table registered, so foreign keys resolve in any process
from alojamientos.config import Settings, sqlalchemy_url


class Database:
    def __init__(self, settings: Settings) -> None:
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(settings.database_url),
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_pre_ping=True,
            connect_args={"application_name": "alojamientos"},
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Same pool; each checkout in autocommit, reset on return (SQLAlchemy's isolation_level option).
        self.statement_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @asynccontextmanager
    async def session_scope(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def statement_scope(self) -> AsyncIterator[AsyncSession]:
        """Every statement its own transaction: for a unit of work whose one write is one statement
        (a hold's data-modifying CTE chain), whose reads need no common snapshot.

        No BEGIN, COMMIT or ROLLBACK crosses the wire, and a refusal ends nothing: psycopg forgets
        every prepared statement of a connection on ROLLBACK, so on a path where most attempts are
        refused the plans would never be reused. Commit hooks (metrics) still run when the block ends.
        """
        async with self.statement_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.db
    async with database.session_scope() as session:
        yield session


async def _request_statements(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.db
    async with database.statement_scope() as session:
        yield session


# scope="function": commit before the response is sent, so a 2xx means the change is durable.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# A request whose one write is one statement (`Database.statement_scope`).
StatementSessionDep = Annotated[AsyncSession, Depends(_request_statements, scope="function")]
