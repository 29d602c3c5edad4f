"""Operator accounts: argon2id password hashes and signed bearer tokens."""

from __future__ import annotations

import asyncio
import functools
import time
import weakref
from dataclasses import dataclass
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


@functools.cache
def _dummy_hash() -> str:
    """Verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.

    Made on first use, not at import: hashing takes Argon2's 64 MiB of working memory, and every
    server process would pay that peak at startup."""
    return _hasher.hash("not-a-real-password")


def _verify(stored_hash: str | None, password: str) -> None:
    """Raises VerificationError unless `password` matches (always, against the dummy, without a hash)."""
    _hasher.verify(stored_hash if stored_hash is not None else _dummy_hash(), password)


TOKEN_AUDIENCE = "alojamientos-api"  # noqa: S105 - a JWT audience name
MIN_PASSWORD_LENGTH = 10
# A verified bearer token is trusted for this long without asking the database whether its operator
# is still active: deactivating an operator ends their API access within these seconds in every
# process (at once in the process that deactivated them). The same bound as feature flags.
TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_SIZE = 1024  # tokens remembered per process; the oldest goes first


@dataclass(frozen=True, slots=True)
class OperatorIdentity:
    """The operator a bearer token stands for: enough to attribute an action (`operator:<email>`)."""

    id: int
    email: str
    name: str


class TokenCache:
    """Verified tokens → (identity, monotonic deadline, the token's own expiry as a Unix time).

    One per application (`app.state.tokens`), so tests' apps never share one; deactivating an
    operator clears their tokens from every cache in the process."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[OperatorIdentity, float, float]] = {}
        _caches.add(self)

    def get(self, token: str) -> OperatorIdentity | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        identity, fresh_until, expires_at = entry
        if time.monotonic() >= fresh_until or time.time() >= expires_at:
            del self._entries[token]
            return None
        return identity

    def put(self, token: str, identity: OperatorIdentity, expires_at: float) -> None:
        if len(self._entries) >= TOKEN_CACHE_SIZE:
            del self._entries[next(iter(self._entries))]
        self._entries[token] = (identity, time.monotonic() + TOKEN_CACHE_SECONDS, expires_at)

    def forget_operator(self, operator_id: int) -> None:
        for token in [t for t, (who, _, _) in self._entries.items() if who.id == operator_id]:
            del self._entries[token]

    def clear(self) -> None:
        self._entries.clear()


_caches: weakref.WeakSet[TokenCache] = weakref.WeakSet()


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
        for cache in list(_caches):
            cache.forget_operator(operator_id)
        return operator

    async def authenticate(self, session: AsyncSession, email: str, password: str) -> Operator:
        operator = await session.scalar(
            select(Operator).where(Operator.email == email.strip().lower(), Operator.active)
        )
        try:
            # Argon2 is slow on purpose: in a thread (it releases the GIL), so a login never stalls
            # the event loop, and every other request, for its duration.
            await asyncio.to_thread(_verify, operator.password_hash if operator else None, password)
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

    async def operator_from_token(
        self, session: AsyncSession, settings: Settings, token: str, cache: TokenCache | None = None
    ) -> OperatorIdentity:
        """The active operator a bearer token (HS256 JWT, RFC 7519) was issued to.

        A token verified less than TOKEN_CACHE_SECONDS ago costs neither the signature check nor a
        query. Raises InvalidCredentials (401) for a bad signature, audience or expiry, or when the
        operator no longer exists or was deactivated."""
        cached = cache.get(token) if cache is not None else None
        if cached is not None:
            return cached
        try:
            claims = jwt.decode(token, settings.signing_key, algorithms=["HS256"], audience=TOKEN_AUDIENCE)
            operator_id = int(claims["sub"])
            expires_at = float(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise InvalidCredentials("the token is invalid or has expired") from None
        row = (
            await session.execute(
                select(Operator.email, Operator.name).where(Operator.id == operator_id, Operator.active)
            )
        ).one_or_none()
        if row is None:
            raise InvalidCredentials("the token's operator no longer exists")
        identity = OperatorIdentity(operator_id, row.email, row.name)
        if cache is not None:
            cache.put(token, identity, expires_at)
        return identity


auth = AuthService()
