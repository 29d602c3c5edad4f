from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from alojamientos.auth.service import auth
from alojamientos.db import SessionDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


@router.post("/token", response_model=Token)
async def token(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(min_length=1, max_length=254)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
) -> Token:
    """OAuth2 password flow for operators."""
    operator = await auth.authenticate(session, username, password)
    return Token(access_token=auth.issue_token(request.app.state.settings, operator))
