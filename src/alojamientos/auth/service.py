"""Operator accounts: argon2id password hashes and signed bearer tokens."""

from __future__ import annotations

from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.auth.errors import InvalidCredentials, OperatorExists
from alojamientos.auth.models import Operator
from alojamientos.config import Settings
from alojamientos.kit.clock import utc_now

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_AUDIENCE = "alojamientos-api"  # noqa: S105 - a JWT audience name
MIN_PASSWORD_LENGTH = 10


class AuthService:
    async def create_operator(
        self, session: AsyncSession, email: str, password: str, *, name: str = ""
    ) -> Operator:
        email = email.strip().lower()
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        exists = await session.scalar(select(Operator.id).where(Operator.email == email))
        if exists is not None:
            raise OperatorExists(f"an operator {email} already exists")
        operator = Operator(email=email, name=name, password_hash=_hasher.hash(password))
        session.add(operator)
        await session.flush()
        return operator

    async def authenticate(self, session: AsyncSession, email: str, password: str) -> Operator:
        operator = await session.scalar(
            select(Operator).where(Operator.email == email.strip().lower(), Operator.active)
        )
        try:
            _hasher.verify(operator.password_hash if operator else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            raise InvalidCredentials("wrong e-mail or password") from None
        if operator is None:
            raise InvalidCredentials("wrong e-mail or password")
        if _hasher.check_needs_rehash(operator.password_hash):
            operator.password_hash = _hasher.hash(password)
        operator.last_login_at = func.now()
        return operator

    def issue_token(self, settings: Settings, operator: Operator) -> str:
        now = utc_now()
        claims = {
            "sub": str(operator.id),
            "aud": TOKEN_AUDIENCE,
            "iat": now,
            "exp": now + timedelta(minutes=settings.access_token_minutes),
        }
        return jwt.encode(claims, settings.signing_key, algorithm="HS256")

    async def operator_from_token(self, session: AsyncSession, settings: Settings, token: str) -> Operator:
        try:
            claims = jwt.decode(token, settings.signing_key, algorithms=["HS256"], audience=TOKEN_AUDIENCE)
            operator_id = int(claims["sub"])
        except (jwt.PyJWTError, KeyError, ValueError):
            raise InvalidCredentials("the token is invalid or has expired") from None
        operator = await session.get(Operator, operator_id)
        if operator is None or not operator.active:
            raise InvalidCredentials("the token's operator no longer exists")
        return operator


auth = AuthService()
