"""Operator accounts: argon2id password hashes and signed bearer tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.auth.errors import (
    CannotDeactivateSelf,
    InvalidCredentials,
    InvalidEmail,
    LastActiveOperator,
    OperatorExists,
    OperatorNotFound,
    PasswordTooShort,
)
from alojamientos.auth.models import Operator
from alojamientos.config import Settings
from alojamientos.kit.clock import utc_now
from alojamientos.kit.email_address import is_email

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

    async def add_operator(
        self, session: AsyncSession, email: str, password: str, *, name: str = ""
    ) -> Operator:
        """A new account from the panel: the same as `users create`, with errors the panel can show."""
        email = email.strip().lower()
        if not is_email(email):
            raise InvalidEmail(f"{email!r} is not an e-mail address", field="email")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise PasswordTooShort(
                f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
                min_length=MIN_PASSWORD_LENGTH,
            )
        return await self.create_operator(session, email, password, name=name.strip()[:120])

    async def operators(self, session: AsyncSession) -> list[Operator]:
        return list(await session.scalars(select(Operator).order_by(Operator.active.desc(), Operator.email)))

    async def set_active(self, session: AsyncSession, operator_id: int, active: bool, *, by: int) -> Operator:
        """Deactivating ends the operator's sessions and tokens; never oneself, never the last one."""
        # Lock every active account, so two operators deactivating each other cannot leave none.
        active_ids = set(await session.scalars(select(Operator.id).where(Operator.active).with_for_update()))
        operator = await session.get(Operator, operator_id, with_for_update=True)
        if operator is None:
            raise OperatorNotFound(f"there is no operator {operator_id}")
        if not active:
            if operator_id == by:
                raise CannotDeactivateSelf("an operator cannot deactivate their own account")
            if active_ids <= {operator_id}:
                raise LastActiveOperator("at least one operator must stay active")
        operator.active = active
        await session.flush()
        return operator

    async def authenticate(self, session: AsyncSession, email: str, password: str) -> Operator:
        operator = await session.scalar(
            select(Operator).where(Operator.email == email.strip().lower(), Operator.active)
        )
        try:
            # Argon2 is slow on purpose: in a thread (it releases the GIL), so a login never stalls
            # the event loop, and every other request, for its duration.
            await asyncio.to_thread(
                _hasher.verify, operator.password_hash if operator else _DUMMY_HASH, password
            )
        except (VerificationError, InvalidHashError):
            raise InvalidCredentials("wrong e-mail or password") from None
        if operator is None:
            raise InvalidCredentials("wrong e-mail or password")
        if _hasher.check_needs_rehash(operator.password_hash):
            operator.password_hash = _hasher.hash(password)
        operator.last_login_at = func.now()
        return operator

    async def change_password(
        self, session: AsyncSession, operator_id: int, current: str, new: str
    ) -> Operator:
        """The operator proves the current password; the new one is hashed here and nowhere else.

        The hash changes, so every session signed with the old one ends (see admin.deps).
        """
        operator = await session.get(Operator, operator_id, with_for_update=True)
        if operator is None or not operator.active:
            raise InvalidCredentials("the operator no longer exists")
        try:
            await asyncio.to_thread(_hasher.verify, operator.password_hash, current)
        except (VerificationError, InvalidHashError):
            raise InvalidCredentials("the current password is wrong") from None
        if len(new) < MIN_PASSWORD_LENGTH:
            raise PasswordTooShort(
                f"the new password needs at least {MIN_PASSWORD_LENGTH} characters",
                min_length=MIN_PASSWORD_LENGTH,
            )
        operator.password_hash = _hasher.hash(new)
        await session.flush()
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
