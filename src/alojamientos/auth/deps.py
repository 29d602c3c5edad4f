from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from alojamientos.auth.errors import InvalidCredentials
from alojamientos.auth.service import OperatorIdentity, TokenCache, auth
from alojamientos.db import Database

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def _current_operator(
    request: Request, token: Annotated[str | None, Depends(_bearer)]
) -> OperatorIdentity:
    """The token's operator: from the token cache, or read in a session of its own, so the request's
    session (one transaction, or one statement at a time) is the handler's alone."""
    if not token:
        raise InvalidCredentials("a bearer token is required")
    state = request.app.state
    tokens: TokenCache | None = getattr(state, "tokens", None)
    if tokens is not None and (known := tokens.get(token)) is not None:
        return known
    database: Database = state.db
    async with database.session_scope() as session:
        return await auth.operator_from_token(session, state.settings, token, tokens)


CurrentOperator = Annotated[OperatorIdentity, Depends(_current_operator)]
