from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from alojamientos.auth.errors import InvalidCredentials
from alojamientos.auth.service import OperatorIdentity, auth
from alojamientos.db import SessionDep

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def _current_operator(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(_bearer)]
) -> OperatorIdentity:
    if not token:
        raise InvalidCredentials("a bearer token is required")
    state = request.app.state
    return await auth.operator_from_token(session, state.settings, token, getattr(state, "tokens", None))


CurrentOperator = Annotated[OperatorIdentity, Depends(_current_operator)]
